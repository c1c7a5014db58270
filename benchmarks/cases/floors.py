"""Case 8: the floors, so that each figure can be read against the physical limit: the
venv's interpreter doing nothing (`python -S -c pass`, and with site as the commands
start), `unshare` of 5 namespaces running /bin/true, and a fork+exec of /bin/true."""
from __future__ import annotations

import sys

from benchmarks.harness import Case, Contender


def contenders(bench) -> list[Contender]:
    return [Contender("python -S -c pass", argv=[sys.executable, "-S", "-c", "pass"]),
            Contender("python -c pass (with site)", argv=[sys.executable, "-c", "pass"]),
            Contender("unshare -mupif (5 namespaces) /bin/true",
                      argv=["unshare", "-m", "-u", "-p", "-i", "-n", "-f", "/bin/true"]),
            Contender("/bin/true", argv=["/bin/true"])]


CASES = [Case("floors", "floors: an interpreter, namespaces, a process", contenders, order=80,
              baseline="python -S -c pass", runs=15, cpu_comparable=True, budget=5)]
