"""Many nsbox processes at once: IDs and names never clash, records never tear."""
from __future__ import annotations

import json
import subprocess


def test_fifty_concurrent_runs(nsbox):
    runs = [subprocess.Popen(nsbox.command("run", "-d", "busybox", "sleep", "100"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True) for _ in range(50)]
    results = [(p.communicate(timeout=120), p.returncode) for p in runs]
    assert all(code == 0 for _, code in results), [err for (_, err), code in results if code][:3]
    ids = {out.strip() for (out, _), _ in results}
    assert len(ids) == 50
    listed = [json.loads(line) for line in nsbox.out("ps", "--format", "json", "--no-trunc").splitlines()]
    assert {entry["ID"] for entry in listed} == ids
    assert len({entry["Names"] for entry in listed}) == 50
    assert all(entry["State"] == "running" for entry in listed)
    removal = [subprocess.Popen(nsbox.command("rm", "-f", container_id), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for container_id in ids]
    failures = [p.communicate(timeout=120)[1] for p in removal if p.wait(timeout=120) != 0]
    assert not failures, failures[:3]
    assert nsbox.out("ps", "-a", "-q") == ""


def test_one_name_many_claimants(nsbox):
    runs = [subprocess.Popen(nsbox.command("create", "--name", "only", "busybox", "true"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True) for _ in range(10)]
    codes = [p.wait(timeout=120) for p in runs]
    assert codes.count(0) == 1 and codes.count(125) == 9
    assert all("already in use" in p.stderr.read() for p, code in zip(runs, codes) if code)
    assert len(nsbox.out("ps", "-a", "-q").split()) == 1
