"""python -m tests.vm [PYTEST ARGS]: run the cgroup v2 lane (default: the tests marked cgroup_v2 or v2_lane).

Exits with pytest's exit code from the guest, or 125 when the lane itself failed.
"""
from __future__ import annotations

import signal
import sys

from tests.vm import LaneError
from tests.vm.lane import Settings, default_selection, run


def main(argv: list[str]) -> int:
    # SIGTERM (a CI job cancelled) unwinds like Ctrl-C: QEMU is killed and the share removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        settings = Settings()
        result = run(argv or default_selection(settings.python), settings)
    except LaneError as error:
        print(f"cgroup v2 lane: error: {error}", file=sys.stderr)
        return 125
    counts = ", ".join(f"{count} {name}" for name, count in result.counts().items()) or "no JUnit report"
    boot = f"{result.boot_seconds:.1f} s" if result.boot_seconds is not None else "unknown"
    print(f"cgroup v2 lane: {counts}; pytest exit code {result.exit_code}; "
          f"boot {boot}, wall {result.wall_seconds:.1f} s")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
