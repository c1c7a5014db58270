"""Summaries of timed samples, and the rule for when a ratio may be claimed.

Rounds are interleaved, so round i of two tools ran at nearly the same moment: the ratio
is taken per round (paired) and its median reported. When the paired ratios scatter
widely, the machine's load changed under the run faster than the tools' own difference,
and the ratio is refused: the table shows the medians but says "busy" instead of a ratio.
"""
from __future__ import annotations

import statistics

# a ratio is claimed when the middle half of the paired ratios lies within this fraction
# of their median, and there are at least MIN_RUNS pairs
MAX_SPREAD = 0.25
MIN_RUNS = 3


def quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(samples: list[float]) -> dict[str, float]:
    """median, min, max, runs and the relative spread (interquartile range / median)."""
    if not samples:
        return {"runs": 0}
    median = statistics.median(samples)
    return {"median": median, "min": min(samples), "max": max(samples), "runs": len(samples),
            "spread": (quantile(samples, 0.75) - quantile(samples, 0.25)) / median if median else 0.0}


def paired_ratio(baseline: list[float], samples: list[float]) -> dict[str, float | bool | str]:
    """baseline's time as a fraction of the other tool's (0.3: nsbox takes 30% of its time),
    round by round: the median, its spread, and whether it may be claimed (if not, why)."""
    pairs = [base / mine for base, mine in zip(baseline, samples) if mine > 0]
    if len(pairs) < MIN_RUNS:
        return {"claimed": False, "why": f"only {len(pairs)} paired runs (need {MIN_RUNS})"}
    median = statistics.median(pairs)
    low, high = quantile(pairs, 0.25), quantile(pairs, 0.75)
    spread = (high - low) / median
    result: dict[str, float | bool | str] = {"ratio": median, "low": low, "high": high, "spread": spread,
                                             "claimed": spread <= MAX_SPREAD}
    if not result["claimed"]:
        result["why"] = (f"busy: the middle half of the paired ratios spans {low:.2f}-{high:.2f} "
                         f"({spread:.0%} of the median, over {MAX_SPREAD:.0%})")
    return result
