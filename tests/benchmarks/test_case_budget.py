"""A case stops adding rounds once its time budget is spent (after at least 3), so that
benchmarks/run stays near 10 minutes however many cases the faces add."""
from __future__ import annotations

import time

from benchmarks.harness import MIN_ROUNDS, Case, Contender, run_case, share_of_deadline


def slow_case(budget: float) -> Case:
    return Case("slow", "a contender that takes 50 ms", lambda bench: [Contender("nsbox", step=lambda i: time.sleep(0.05))],
                runs=40, warmup=1, budget=budget)


def test_a_spent_budget_ends_the_case_after_the_minimum_rounds():
    [result] = run_case(slow_case(budget=0.12), bench=None, log=lambda line: None)
    assert MIN_ROUNDS <= len(result.walls) <= MIN_ROUNDS + 1


def test_a_large_budget_runs_every_round():
    [result] = run_case(slow_case(budget=600), bench=None, log=lambda line: None)
    assert len(result.walls) == 40


def test_a_run_deadline_shrinks_the_budgets_of_the_cases_left():
    case = slow_case(budget=30)
    assert share_of_deadline(case, seconds_left=500, budgets_left=150) == 30  # its own budget fits
    assert share_of_deadline(case, seconds_left=100, budgets_left=150) == 10  # its share of half the time left
    assert share_of_deadline(case, seconds_left=-20, budgets_left=30) == 0  # past the deadline: the minimum rounds


def test_a_given_budget_overrides_the_case_own():
    [result] = run_case(slow_case(budget=600), bench=None, log=lambda line: None, budget=0.12)
    assert MIN_ROUNDS <= len(result.walls) <= MIN_ROUNDS + 1
