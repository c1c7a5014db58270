"""Every benchmark case: each module here holds `CASES`, a list of harness.Case.

To add a case, add a module (see benchmarks/README.md); nothing else needs editing.
"""
from __future__ import annotations

import importlib
import pkgutil

from benchmarks.harness import Case


def all_cases() -> list[Case]:
    """The cases of every module in this package, by their `order`, then name."""
    found: list[Case] = []
    for module in pkgutil.iter_modules(__path__):
        found += importlib.import_module(f"{__name__}.{module.name}").CASES
    return sorted(found, key=lambda case: (case.order, case.name))
