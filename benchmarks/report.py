"""A run's results as JSON and as a Markdown table (benchmarks/results/)."""
from __future__ import annotations

import json
import os

from benchmarks.harness import Case, Result
from benchmarks.stats import paired_ratio, summary


def case_record(case: Case, results: list[Result]) -> dict:
    baseline = next((result for result in results if result.tool == case.baseline), None)
    tools = []
    for result in results:
        entry = {"tool": result.tool, "wall": summary(result.walls), "cpu": summary(result.cpus),
                 "note": result.note, "extras": result.extras, "skipped": result.skipped}
        if baseline is not None and result is not baseline and baseline.walls and result.walls:
            entry["ratio"] = paired_ratio(baseline.walls, result.walls)
            if case.cpu_comparable:
                entry["cpu_ratio"] = paired_ratio(baseline.cpus, result.cpus)
        tools.append(entry)
    return {"name": case.name, "title": case.title, "baseline": case.baseline, "cpu_comparable": case.cpu_comparable,
            "note": case.note,
            "tools": tools}


def milliseconds(value: float) -> str:
    return f"{value * 1000:.1f}" if value < 10 else f"{value * 1000:.0f}"


def ratio_cell(entry: dict, key: str = "ratio") -> str:
    ratio = entry.get(key)
    if not ratio:
        return ""
    if not ratio["claimed"]:
        if "low" in ratio:
            return f"busy: {ratio['low']:.2f}-{ratio['high']:.2f}"
        return f"refused: {ratio['why']}"
    return f"**{ratio['ratio']:.2f}x** ({ratio['low']:.2f}-{ratio['high']:.2f})"


def extras_cell(extras: dict) -> str:
    if "helper_pss_kib" in extras:
        if not extras.get("helpers"):
            return "no helper process"
        return (f"helper per container: {extras['helper_pss_kib'] / 1024:.2f} MiB PSS, "
                f"{extras['helper_rss_kib'] / 1024:.2f} MiB RSS (x{extras['helpers']:.0f})")
    return ", ".join(f"{key} {value:g}" for key, value in extras.items())


def markdown(record: dict) -> str:
    machine = record["machine"]
    lines = [f"# nsbox benchmarks, {record['date']}", "",
             f"{machine['cores']} cores, kernel {machine['kernel']}, cgroups {machine['cgroups']}; load average "
             f"{record['load_before']} before, {record['load_after']} after; {record['seconds']:.0f} s in all.", "",
             "Tools interleaved round by round. Ratio: the baseline's time as a fraction of the tool's, the median "
             "of per-round ratios (interquartile range in brackets); refused when that range is wider than "
             f"{record['max_spread']:.0%} of the median (the machine's load moved more than the tools differ): "
             "the cell then says busy and gives only the range. "
             "Where every tool's work happens in processes the benchmark waits for, their CPU time "
             "(user + system) is compared too, by the same rule: it is steadier than wall time on a busy machine.", "",
             "Versions: " + ", ".join(f"{tool} {version}" for tool, version in machine["versions"].items()), ""]
    for case in record["cases"]:
        cpu = case.get("cpu_comparable")
        lines += [f"## {case['title']}", "", f"| tool | median ms | min | max | runs | {case['baseline']} ÷ tool | "
                  + (f"CPU ms | CPU: {case['baseline']} ÷ tool | |" if cpu else "|"),
                  "|---|---:|---:|---:|---:|---|" + ("---:|---|---|" if cpu else "---|")]
        for entry in case["tools"]:
            wall = entry["wall"]
            if entry["skipped"] and not wall.get("runs"):
                lines.append(f"| {entry['tool']} | | | | 0 | | skipped: {entry['skipped']} |")
                continue
            name = f"**{entry['tool']}**" if entry["tool"] == case["baseline"] else entry["tool"]
            note = "; ".join(part for part in (entry["note"], extras_cell(entry["extras"]), entry["skipped"]) if part)
            cpu_cells = f"{milliseconds(entry['cpu']['median'])} | {ratio_cell(entry, 'cpu_ratio')} | " if cpu else ""
            lines.append(f"| {name} | {milliseconds(wall['median'])} | {milliseconds(wall['min'])} | "
                         f"{milliseconds(wall['max'])} | {wall['runs']} | {ratio_cell(entry)} | {cpu_cells}{note} |")
        if case.get("note"):
            lines += ["", case["note"]]
        if case.get("seconds"):
            lines += ["", f"This case took {case['seconds']:.0f} s in all (set-up, warm-up and timed rounds)."]
        lines.append("")
    if record["leftovers"]:
        lines += ["## Left behind (check these)", ""] + [f"- {item}" for item in record["leftovers"]] + [""]
    else:
        lines += ["Nothing left behind: no new cgroup at a hierarchy's root or below the run's own, no mount, "
                  "no process.", ""]
    return "\n".join(lines)


def summary_markdown(record: dict) -> str:
    """One row per case, for the README: the baseline's median, then each tool's median with
    the ratio (or the busy range), and the CPU ratio where it compares."""
    lines = [f"Run of {record['date']}; load average {record['load_before']} before, {record['load_after']} after "
             f"({record['machine']['cores']} cores); {record['seconds']:.0f} s in all. "
             "Full tables: [results.md](benchmarks/results/results.md).", "",
             "| case | baseline | the others: median (baseline ÷ tool) |", "|---|---|---|"]
    for case in record["cases"]:
        tools = [tool for tool in case["tools"] if tool["wall"].get("runs")]
        base = next((tool for tool in tools if tool["tool"] == case["baseline"]), None)
        if base is None:
            continue
        others = []
        for tool in tools:
            if tool is base:
                continue
            cell = f"{tool['tool']} {milliseconds(tool['wall']['median'])} ms ({ratio_cell(tool) or '-'}"
            cell += f"; CPU {ratio_cell(tool, 'cpu_ratio')})" if tool.get("cpu_ratio") else ")"
            if tool["extras"].get("helpers"):
                cell += f", helper {tool['extras']['helper_pss_kib'] / 1024:.2f} MiB PSS"
            others.append(cell)
        memory = (f", helper {base['extras']['helper_pss_kib'] / 1024:.2f} MiB PSS"
                  if base["extras"].get("helpers") else "")
        lines.append(f"| {case['title']} | {base['tool']} {milliseconds(base['wall']['median'])} ms{memory} | "
                     + "; ".join(others) + " |")
    return "\n".join(lines) + "\n"


def update_readme(record: dict, readme: str) -> bool:
    """Replace the README's text between the benchmark markers with this run's summary."""
    start, end = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
    with open(readme) as text:
        content = text.read()
    if start not in content or end not in content:
        return False
    head, rest = content.split(start, 1)
    tail = rest.split(end, 1)[1]
    with open(readme, "w") as text:
        text.write(f"{head}{start}\n{summary_markdown(record)}{end}{tail}")
    return True


def write(record: dict, directory: str) -> tuple[str, str]:
    os.makedirs(directory, exist_ok=True)
    json_path = os.path.join(directory, "results.json")
    markdown_path = os.path.join(directory, "results.md")
    with open(json_path, "w") as out:
        json.dump(record, out, indent=1)
    with open(markdown_path, "w") as out:
        out.write(markdown(record))
    return json_path, markdown_path
