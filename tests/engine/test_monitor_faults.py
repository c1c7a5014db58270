"""The detached container's monitor under faults (issue 11, cases 4 and 11): it holds no
descriptor of its caller's, and a full disk under its log neither kills it nor loses the
exit code."""
from __future__ import annotations

import os
import subprocess

from tests.engine.conftest import NSBOX


def test_run_d_in_a_pipeline_returns_at_once(nsbox):
    """`nsbox run -d ... 3>&1 | cat`: the monitor used to inherit fd 3 (the pipe to cat), so the
    pipeline ended only when the container did."""
    command = f"{NSBOX} --root {nsbox.root} run -d --name piped busybox sleep 60 3>&1 | cat"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert nsbox.state("piped")["Status"] == "running"  # the pipeline ended while the container runs
    monitor = nsbox.state("piped")["MonitorPid"]
    caller_pipes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            caller_pipes.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    held = {os.readlink(f"/proc/{monitor}/fd/{fd}") for fd in os.listdir(f"/proc/{monitor}/fd")}
    assert not (held & {target for target in caller_pipes if target.startswith("pipe:")})
