"""Docker's shapes and filters that every face shares (engine.docker_shape, engine.filters)."""
from __future__ import annotations

import pytest

from nsbox.engine.docker_shape import container_summary
from nsbox.engine.filters import from_api, matches

pytestmark = pytest.mark.needs_no_root  # pure logic: CI runs these as an unprivileged user too


def record(name: str, status: str, code: int = 0, **extra) -> dict:
    return {"Id": name * 8, "Name": name, "Created": "2026-12-01T10:00:00Z", "Image": "sha256:ab",
            "State": {"Status": status, "ExitCode": code, "FinishedAt": "2026-12-01T10:00:01Z"},
            "Config": {"Image": "busybox", "Cmd": ["sh", "-c", "true"], "Labels": {"team": "a"}},
            "HostConfig": {"NetworkMode": "bridge"}, **extra}


def test_values_of_one_key_are_alternatives_and_keys_must_all_hold():
    exited, created, running = record("a", "exited", 3), record("b", "created"), record("c", "running")
    wanted = from_api({"status": {"exited": True, "created": True}, "label": ["team=a"]})
    assert [r["Name"] for r in (exited, created, running) if matches(r, wanted)] == ["a", "b"]
    assert not matches(exited, from_api({"status": ["exited"], "ancestor": ["alpine"]}))
    assert matches(exited, from_api({"ancestor": ["busybox"], "exited": ["3"]}))


def test_a_summary_has_dockers_ports_status_and_networks():
    shown = container_summary(record("web", "exited", 2, NetworkSettings={
        "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "53/udp": None},
        "Networks": {"bridge": {"IPAddress": "10.88.0.2"}}}))
    assert shown["Names"] == ["/web"] and shown["Command"] == "sh -c true" and shown["Created"] > 0
    assert shown["Status"].startswith("Exited (2) ") and shown["State"] == "exited"
    assert shown["Ports"] == [{"PrivatePort": 53, "Type": "udp"},
                              {"PrivatePort": 80, "Type": "tcp", "IP": "0.0.0.0", "PublicPort": 8080}]
    assert list(shown["NetworkSettings"]["Networks"]) == ["bridge"]
