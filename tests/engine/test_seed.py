"""The seed scenario, end to end, as a Docker user types it."""
from __future__ import annotations

import os
import socket
import subprocess


def test_seed_scenario(nsbox):
    container_id = nsbox.out("run", "-d", "-m", "256m", "--cpus", "1", "--name", "web", "busybox",
                             "sleep", "1000").strip()
    assert len(container_id) == 64 and all(c in "0123456789abcdef" for c in container_id)

    # The host sees the sleep as an ordinary process with an ordinary PID.
    pid = nsbox.state("web")["Pid"]
    host_ps = subprocess.run(["ps", "-o", "pid=,args=", "-p", str(pid)], capture_output=True, text=True).stdout
    assert "sleep 1000" in host_ps and pid > 1

    # Inside, it is PID 1.
    inside = nsbox.out("exec", "web", "ps")
    lines = [line.split() for line in inside.splitlines()[1:]]
    assert ["1", "root", "sleep", "1000"] in [line[:4] for line in lines]

    # Its own hostname (the short ID), not the host's.
    hostname = nsbox.out("exec", "web", "hostname").strip()
    assert hostname != socket.gethostname()
    assert hostname == container_id[:12]

    # stats shows the 256 MiB limit.
    stats = nsbox.out("stats", "--no-stream")
    row = [line for line in stats.splitlines() if line.startswith(container_id[:12])]
    assert row and "/ 256MiB" in row[0], stats

    # top shows the host PID and the PID inside.
    top = nsbox.out("top", "web")
    assert any(line.split()[1:3] == [str(pid), "1"] for line in top.splitlines()[1:]), top

    # ps lists it by its short ID and name.
    listing = nsbox.out("ps")
    assert container_id[:12] in listing and "web" in listing and "Up " in listing

    nsbox("stop", "-t", "1", "web")
    state = nsbox.state("web")
    assert not state["Running"] and state["Status"] == "exited"
    assert not os.path.exists(f"/proc/{pid}")
    nsbox("rm", "web")
    assert nsbox.out("ps", "-a", "-q") == ""
    assert not os.listdir(os.path.join(nsbox.root, "containers"))
    assert not os.listdir(os.path.join(nsbox.root, "names"))
