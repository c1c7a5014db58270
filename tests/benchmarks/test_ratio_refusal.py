"""benchmarks/run claims a ratio only when the per-round ratios agree (the machine's load
did not move more than the tools differ); otherwise the table says it was busy."""
from __future__ import annotations

from benchmarks.stats import MAX_SPREAD, paired_ratio, summary
import pytest

pytestmark = pytest.mark.needs_no_root  # pure logic: CI runs these as an unprivileged user too


def test_steady_rounds_give_the_baseline_over_the_tool_ratio():
    nsbox = [0.040, 0.041, 0.039, 0.080, 0.040]  # round 4: a burst of load hit both alike
    runc = [0.026, 0.027, 0.025, 0.052, 0.026]
    ratio = paired_ratio(nsbox, runc)
    assert ratio["claimed"] is True
    assert 1.5 < ratio["ratio"] < 1.6  # nsbox takes ~1.54x runc's time


def test_rounds_that_disagree_are_refused_as_busy():
    nsbox = [0.040, 0.041, 0.039, 0.040, 0.040, 0.041]
    podman = [0.190, 0.080, 0.300, 0.120, 0.400, 0.095]  # load came and went between the tools
    ratio = paired_ratio(nsbox, podman)
    assert ratio["claimed"] is False
    assert ratio["spread"] > MAX_SPREAD and "busy" in ratio["why"]


def test_too_few_rounds_are_refused():
    assert paired_ratio([0.04, 0.04], [0.02, 0.02]) == {"claimed": False, "why": "only 2 paired runs (need 3)"}


def test_summary():
    assert summary([0.3, 0.1, 0.2]) | {"spread": 0} == {"median": 0.2, "min": 0.1, "max": 0.3, "runs": 3, "spread": 0}
