"""What a benchmark case is, and how its contenders are timed: interleaved, in one run.

A case is a `Case`: a name, a title, and a function that, given the `Bench` (the shared
work directory, busybox image, private daemons), returns its `Contender`s. Each contender
is one tool doing the same thing; the harness runs round after round, every contender
once per round (the order rotates each round), so that a shared machine's drift hits
every tool alike. See benchmarks/README.md for how to add a case.
"""
from __future__ import annotations

import os
import resource
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from benchmarks.bench import Bench

Step = Callable[[int], object]
MIN_ROUNDS = 3  # a case stops early for its time budget only after this many timed rounds


class Skip(Exception):
    """A contender cannot run here (its tool is missing or refuses this machine): why."""


@dataclass
class Contender:
    """One tool in a case. `step(i)` does the timed work of sample i (or `argv` is run);
    a step that returns a float timed itself and that float is the sample. `before(i)` and
    `after(i)` run untimed around each sample; `teardown()` once at the end.
    `extras` holds figures other than time (memory, say) that the case records."""

    tool: str
    argv: list[str] | None = None
    step: Step | None = None
    before: Callable[[int], None] | None = None
    after: Callable[[int], None] | None = None
    teardown: Callable[[], None] | None = None
    note: str = ""
    extras: dict[str, float] = field(default_factory=dict)

    def sample(self, index: int) -> tuple[float, float]:
        """(wall seconds, CPU seconds of the child processes it waited for)."""
        if self.before:
            self.before(index)
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        timed = None
        if self.step is not None:
            timed = self.step(index)
        elif self.argv is not None:
            quiet(self.argv)
        wall = timed if isinstance(timed, float) else time.perf_counter() - started
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        if self.after:
            self.after(index)
        return wall, now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime


@dataclass
class Case:
    """A benchmark case. `baseline` names the contender the ratios are taken against;
    `runs` is the number of timed rounds (the command line can change it). `cpu_comparable`:
    every tool does all its work in processes the harness waits for (no daemon, no
    double-forked helper), so their CPU times (user + system) compare too: steadier than
    wall time on a busy machine."""

    name: str
    title: str
    contenders: Callable[["Bench"], list[Contender]]
    order: int = 50
    baseline: str = "nsbox"
    runs: int = 15
    warmup: int = 2
    cpu_comparable: bool = False
    note: str = ""  # how the case is run, shown under its table
    budget: float = 15.0  # seconds of timed rounds; past it the case stops after its current round


@dataclass
class Result:
    tool: str
    walls: list[float]
    cpus: list[float]
    note: str = ""
    extras: dict[str, float] = field(default_factory=dict)
    skipped: str = ""


def quiet(argv: list[str], timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """Run argv with no stdin and no output kept; raise with its stderr when it fails.
    stderr goes to a file, not a pipe: a detached container may keep it open."""
    import tempfile
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    with tempfile.TemporaryFile() as errors:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stderr=errors, timeout=timeout, **kwargs)
        if result.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-600:]
            raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {message}")
    return result


def share_of_deadline(case: Case, seconds_left: float, budgets_left: float) -> float:
    """The case's budget of timed rounds within a whole run's deadline: its own budget, or
    less: its share of half the time left, in proportion to its budget among the budgets of
    the cases still to run (the other half pays for set-up, warm-up rounds and the rounds
    every case runs whatever its budget), so that the run ends near its deadline however
    many cases there are. The harness still runs MIN_ROUNDS rounds, whatever the budget."""
    if budgets_left <= 0:
        return 0.0
    return max(0.0, min(case.budget, seconds_left / 2 * case.budget / budgets_left))


def run_case(case: Case, bench: "Bench", runs: int | None = None, log: Callable[[str], None] = print,
             budget: float | None = None) -> list[Result]:
    """Time every contender of `case`, interleaved; contenders that fail are reported, not fatal.
    `budget` (default: the case's own) is the seconds of timed rounds after which it stops."""
    rounds = runs or case.runs
    budget = case.budget if budget is None else budget
    contenders: list[Contender] = []
    results: dict[str, Result] = {}
    try:
        for contender in case.contenders(bench):
            contenders.append(contender)
            results[contender.tool] = Result(contender.tool, [], [], contender.note)
    except (Skip, RuntimeError, OSError, subprocess.TimeoutExpired) as why:
        log(f"    the case could not be set up: {why}")
        return [Result(case.baseline, [], [], skipped=f"the case could not be set up: {why}"[:400])]
    live = list(contenders)
    started = 0.0
    try:
        for index in range(case.warmup + rounds):
            if index == case.warmup:
                started = time.monotonic()
            elif index > case.warmup and index - case.warmup >= MIN_ROUNDS and time.monotonic() - started > budget:
                log(f"    {index - case.warmup} rounds: the case's {budget:.0f} s budget is spent")
                break
            shift = index % len(live) if live else 0
            for contender in live[shift:] + live[:shift]:
                result = results[contender.tool]
                if result.skipped:
                    continue
                try:
                    wall, cpu = contender.sample(index)
                except (Skip, RuntimeError, OSError, subprocess.TimeoutExpired) as error:
                    result.skipped = str(error).strip().splitlines()[-1][-300:] if str(error).strip() else repr(error)
                    log(f"    {contender.tool}: stopped ({result.skipped})")
                    continue
                if index >= case.warmup:
                    result.walls.append(wall)
                    result.cpus.append(cpu)
    finally:
        for contender in contenders:
            results[contender.tool].extras.update(contender.extras)
            if contender.teardown:
                try:
                    contender.teardown()
                except Exception as error:  # keep tearing the others down
                    log(f"    teardown of {contender.tool}: {error}")
    return list(results.values())


def pids_matching(*words: str) -> list[int]:
    """PIDs whose command line holds every one of `words`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                text = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if all(word in text for word in words):
            found.append(int(entry))
    return found


def memory_kib(pids: list[int]) -> tuple[float, float]:
    """Mean (PSS, RSS) in KiB of the processes, from smaps_rollup."""
    pss, rss = [], []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        pss.append(int(line.split()[1]))
                    elif line.startswith("Rss:"):
                        rss.append(int(line.split()[1]))
        except OSError:
            continue
    return (sum(pss) / len(pss) if pss else 0.0, sum(rss) / len(rss) if rss else 0.0)
