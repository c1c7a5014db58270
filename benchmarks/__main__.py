"""benchmarks/run: every benchmark case, every tool present, interleaved, in one run.

    sudo benchmarks/run [--runs N] [--case NAME ...] [--list] [--no-install] [--no-chart] [--readme]

Writes benchmarks/results/results.{md,json} and results.png (the README embeds them).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks.cases import all_cases

HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE = 480.0  # seconds: with the daemons' start and the final sweep, the run ends within ~10 minutes


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/run", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="timed rounds per case (default: each case's own)")
    parser.add_argument("--case", action="append", help="only this case (repeatable); see --list")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--no-install", action="store_true", help="do not apt-get install missing anchors")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart (no matplotlib needed)")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="directory for the results")
    parser.add_argument("--readme", action="store_true", help="put the run's summary into README.md")
    parser.add_argument("--deadline", type=float, default=DEADLINE,
                        help=f"seconds the whole run aims to end within (default {DEADLINE:.0f}): later cases get "
                             "smaller budgets when earlier ones ran long (never fewer than 3 rounds)")
    options = parser.parse_args()
    started = time.monotonic()  # the whole command: installs, compiling, every case, the sweep
    cases = all_cases()
    if options.list:
        for case in cases:
            print(f"{case.name:14} {case.title}")
        return 0
    if os.geteuid() != 0:
        sys.exit("benchmarks/run: run as root (containers, cgroups, daemons)")
    unknown = set(options.case or ()) - {case.name for case in cases}
    if unknown:
        sys.exit(f"benchmarks/run: unknown case {', '.join(sorted(unknown))}; see --list")
    cases = [case for case in cases if not options.case or case.name in options.case]

    from benchmarks import machine, report
    from benchmarks.bench import Bench
    from benchmarks.harness import run_case, share_of_deadline
    from benchmarks.stats import MAX_SPREAD
    if not options.no_install:
        machine.install_anchors()
        machine.install_bench_extra()
    machine.nsbox_launchers()
    import compileall
    # forced: compileall checks only the mtime, the importer the size too; a .pyc it calls
    # fresh but the importer stale is compiled again at every start (PYTHONDONTWRITEBYTECODE)
    compileall.compile_dir(os.path.join(os.path.dirname(HERE), "src", "nsbox"), quiet=1, force=True)
    from nsbox.engine.monitor_build import compiled_loop
    compiled_loop()  # as scripts/setup.sh builds it
    record = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine.description(),
              "load_before": load(), "max_spread": MAX_SPREAD, "cases": []}
    host_before = machine.snapshot()
    bench = Bench()
    try:
        for number, case in enumerate(cases):
            budget = share_of_deadline(case, options.deadline - (time.monotonic() - started),
                                       sum(later.budget for later in cases[number:]))
            print(f"{case.name}: {case.title} (load {load()}; budget {budget:.0f} s)", flush=True)
            case_started = time.monotonic()
            results = run_case(case, bench, options.runs, budget=budget)
            entry = report.case_record(case, results)
            entry["seconds"] = round(time.monotonic() - case_started, 1)
            record["cases"].append(entry)
            print(f"    ({entry['seconds']:.0f} s)", flush=True)
            for tool in entry["tools"]:
                wall = tool["wall"]
                median = f"{wall['median'] * 1000:9.1f} ms" if wall.get("runs") else f"skipped: {tool['skipped']}"
                cpu = f"  CPU {report.ratio_cell(tool, 'cpu_ratio')}" if tool.get("cpu_ratio") else ""
                print(f"    {tool['tool']:42} {median}  {report.ratio_cell(tool)}{cpu}  {report.extras_cell(tool['extras'])}",
                      flush=True)
    finally:
        bench.close()
        swept = machine.remove_cgroup_tree(bench.parent)
    record["seconds"] = time.monotonic() - started
    record["load_after"] = load()
    # what the tools' own removal missed counts as left behind, even though the sweep ended it
    record["leftovers"] = [f"{item} (killed by the final sweep)" for item in swept]
    record["leftovers"] += machine.leftovers(host_before, bench.work, bench.parent)
    json_path, markdown_path = report.write(record, options.out)
    print(f"load average {record['load_before']} before, {record['load_after']} after; wrote {markdown_path}, {json_path}")
    if options.readme and report.update_readme(record, os.path.join(os.path.dirname(HERE), "README.md")):
        print("README.md: summary updated")
    if record["leftovers"]:
        print("left behind:\n  " + "\n  ".join(record["leftovers"]))
    if not options.no_chart:
        from benchmarks.chart import draw
        try:
            print(f"chart: {draw(record, os.path.join(options.out, 'results.png'))}")
        except ModuleNotFoundError as error:  # (--no-install, and the bench extra is missing)
            print(f"no chart: {error}: run without --no-install (it installs the bench extra), or with --no-chart")
            return 1
    return 1 if record["leftovers"] else 0


if __name__ == "__main__":
    sys.exit(main())
