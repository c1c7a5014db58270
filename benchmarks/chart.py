"""The PNG bar chart of a run: one panel per case, each tool's median time on a log scale
(min-max as error bars), nsbox highlighted; date, machine, load and versions written on it.
Needs matplotlib (the `bench` extra: pip install -e '.[bench]')."""
from __future__ import annotations

import math


def draw(record: dict, path: str) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    cases = [case for case in record["cases"] if any(tool["wall"].get("runs") for tool in case["tools"])]
    columns = 2
    rows = max(1, math.ceil(len(cases) / columns))
    height = 2.6 * rows + 1.2
    figure, axes = plt.subplots(rows, columns, figsize=(13, height), squeeze=False)
    for axis, case in zip(axes.flat, cases):
        tools = [tool for tool in case["tools"] if tool["wall"].get("runs")]
        names = [tool["tool"] for tool in tools]
        medians = [tool["wall"]["median"] * 1000 for tool in tools]
        errors = [[m - tool["wall"]["min"] * 1000 for m, tool in zip(medians, tools)],
                  [tool["wall"]["max"] * 1000 - m for m, tool in zip(medians, tools)]]
        colours = ["#d62728" if name == case["baseline"] else "#7f7f7f" for name in names]
        axis.barh(names, medians, xerr=errors, color=colours, error_kw={"elinewidth": 0.8, "ecolor": "#333"})
        axis.set_xscale("log")
        axis.xaxis.set_minor_formatter(NullFormatter())  # (a narrow log range labels every minor tick)
        axis.invert_yaxis()
        axis.set_title(case["title"], fontsize=9)
        axis.tick_params(labelsize=8)
        axis.set_xlabel("ms (median; bars: min-max)", fontsize=7)
        for position, (median, tool) in enumerate(zip(medians, tools)):
            ratio = tool.get("ratio")
            label = f"{median:.0f} ms" if median >= 10 else f"{median:.1f} ms"
            if ratio:
                label += f"  ({ratio['ratio']:.2f}x)" if ratio["claimed"] else "  (busy)"
            cpu = tool.get("cpu_ratio")
            if cpu and cpu["claimed"]:
                label += f"  CPU {cpu['ratio']:.2f}x"
            if tool["extras"].get("helpers"):
                label += f"  helper {tool['extras']['helper_pss_kib'] / 1024:.2f} MiB"
            axis.text(tool["wall"]["max"] * 1000, position, "  " + label, va="center", fontsize=7)
        # bars start well left of the fastest tool (on a log axis they start at the left edge)
        axis.set_xlim(left=min(tool["wall"]["min"] for tool in tools) * 1000 / 4,
                      right=max(tool["wall"]["max"] for tool in tools) * 1000 * 40)
    for axis in list(axes.flat)[len(cases):]:
        axis.axis("off")
    machine = record["machine"]
    versions = ", ".join(f"{tool} {version}" for tool, version in machine["versions"].items())
    figure.suptitle(f"nsbox vs runc, crun, podman, docker, containerd — {record['date']}\n"
                    f"{machine['cores']} cores, kernel {machine['kernel']}, cgroups {machine['cgroups']}, "
                    f"load average {record['load_before']} before / {record['load_after']} after"
                    "\nratio = nsbox's time / the tool's; busy = ratio refused: the load moved more than the tools differ",
                    fontsize=9)
    figure.text(0.01, 0.005, versions, fontsize=6, wrap=True)
    figure.tight_layout(rect=(0, 0.4 / height, 1, 1 - 0.7 / height))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
