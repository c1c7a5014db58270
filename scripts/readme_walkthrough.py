"""Regenerates the README's "What is a container, really?" section from real output.

Run as root from the checkout (after scripts/setup.sh):  .venv/bin/python scripts/readme_walkthrough.py
It runs a container in a private nsbox root under a relative cgroup parent, captures what
nsbox run, ps aux, nsbox top, nsbox exec and nsbox explain print, removes the container,
and rewrites the text between the walkthrough markers in README.md.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "README.md")
NSBOX = os.path.join(HERE, "..", ".venv", "bin", "nsbox")
START, END = "<!-- walkthrough:start -->", "<!-- walkthrough:end -->"


def shell(command: str, env: dict) -> str:
    result = subprocess.run(command, shell=True, capture_output=True, text=True, env=env)
    return (result.stdout + result.stderr).rstrip("\n")


def block(command: str, output: str) -> str:
    return f"```console\n$ {command}\n{output}\n```\n"


def main() -> int:
    root = tempfile.mkdtemp(prefix="nsbox-walkthrough.")
    env = dict(os.environ, NSBOX_ROOT=root, NSBOX_CGROUP_PARENT="nsbox-walkthrough",
               PATH=os.path.dirname(NSBOX) + ":" + os.environ["PATH"])
    subprocess.run([sys.executable, "-m", "nsbox.image.busybox_image", "--root", root], check=True,
                   capture_output=True, env=env)
    try:
        parts = [
            "A container is an ordinary process on the host that the kernel shows a smaller world "
            "(namespaces) and gives a budget (cgroups). Start one, then look at it from both sides:\n",
            block("nsbox run -d -m 256m --cpus 1 --name web busybox sleep 3600",
                  shell("nsbox run -d -m 256m --cpus 1 --name web busybox sleep 3600", env)),
            "On the host it is just another process, with an ordinary PID:\n",
            block("ps -eo pid,user,cmd | grep '[s]leep 3600'", shell("ps -eo pid,user,cmd | grep '[s]leep 3600'", env)),
            "Inside, its PID namespace starts at 1: `nsbox top` shows both numbers, `exec` the inside view:\n",
            block("nsbox top web", shell("nsbox top web", env)),
            block("nsbox exec web ps", shell("nsbox exec web ps", env)),
            "`nsbox explain` shows which namespaces are the container's own, the cgroup files that hold "
            "its limits, its root filesystem, its confinement, and the util-linux commands that would "
            "build the same by hand or enter it (`nsbox run --explain ...` prints the plan without running "
            "anything; `nsbox explain --host` checks what this host offers):\n",
            block("nsbox explain web", shell("COLUMNS=80 nsbox explain web", env)),
            block("nsbox rm -f web", shell("nsbox rm -f web", env)),
        ]
    finally:
        shell("nsbox rm -f web", env)
        subprocess.run(["rm", "-rf", root])
        subprocess.run("find /sys/fs/cgroup -maxdepth 6 -type d -name nsbox-walkthrough -exec rmdir {} + 2>/dev/null",
                       shell=True)
    with open(README) as f:
        text = f.read()
    section = f"{START}\n" + "\n".join(parts) + f"{END}"
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
    with open(README, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
