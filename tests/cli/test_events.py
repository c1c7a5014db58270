"""`nsbox events` streams the lifecycle events that other nsbox processes append to the
engine's journal, with Docker's --filter, --format, --since and --until."""
from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import time


def read_lines(process: subprocess.Popen, count: int, timeout: float = 30) -> list[str]:
    """Up to `count` lines the process writes within `timeout` (read from the pipe itself:
    a buffered reader would hide lines from select)."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < count and time.monotonic() < deadline:
        if selector.select(timeout=max(0.0, deadline - time.monotonic())):
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            data += chunk
    return data.decode().splitlines()


def test_events_stream_a_run_in_another_process(nsbox):
    start = str(int(time.time()))
    watcher = subprocess.Popen(nsbox.command("events", "--since", start, "--filter", "container=evt", "--format",
                                             "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} "
                                             "{{.Actor.Attributes.exitCode}}"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        nsbox("run", "--rm", "--name", "other", "busybox", "true")  # filtered out
        nsbox("run", "--rm", "--name", "evt", "-l", "team=a", "busybox", "sh", "-c", "exit 3", check=False)
        lines = read_lines(watcher, 4)
        assert lines == ["container create evt <no value>", "container start evt <no value>", "container die evt 3",
                         "container destroy evt <no value>"]
        assert watcher.poll() is None  # still following, as `docker events` does
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    until = str(int(time.time()) + 1)
    time.sleep(1.1)
    past = nsbox.out("events", "--since", start, "--until", until, "--filter", "event=die", "--format", "json")
    died = [json.loads(line) for line in past.splitlines()]
    assert [(e["Actor"]["Attributes"]["name"], e["Actor"]["Attributes"]["exitCode"]) for e in died] == \
        [("other", "0"), ("evt", "3")]
    assert died[1]["Actor"]["Attributes"]["team"] == "a" and died[1]["status"] == "die" and died[1]["from"] == "busybox"
    plain = nsbox.out("events", "--since", start, "--until", until, "--filter", "label=team=a",
                      "--filter", "event=destroy")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z container destroy [0-9a-f]{64} \(image=busybox, name=evt, "
                        r"team=a\)\n", plain)


def test_events_of_stop_kill_pause_rename(nsbox):
    start = str(int(time.time()))
    nsbox("run", "-d", "--name", "life", "busybox", "sleep", "60")
    nsbox("pause", "life")
    nsbox("unpause", "life")
    nsbox("rename", "life", "life2")
    nsbox("kill", "life2")
    nsbox("wait", "life2")
    until = str(int(time.time()) + 1)
    time.sleep(1.1)
    actions = nsbox.out("events", "--since", start, "--until", until, "--format", "{{.Action}}").split()
    assert actions == ["create", "start", "pause", "unpause", "rename", "kill", "die"]
