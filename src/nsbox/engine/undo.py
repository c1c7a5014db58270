"""Ordered, named clean-up steps: the undo list of a creation, the teardown of a removal.

Each step is run even when an earlier one failed (a full disk, a process that will not
die), and every failure is kept with the step's name, so that the caller can say exactly
what was left. Other parts of the engine add their own steps by name (e.g. a network's
CNI DEL before the record goes).
"""
from __future__ import annotations

TYPE_CHECKING = False  # (mypy reads the import below; `run` does not pay for collections)
if TYPE_CHECKING:
    from collections.abc import Callable


class Steps:
    """Named actions, run in order (`run`) or, to undo what was made, in reverse (`undo`)."""

    __slots__ = ("_steps", "failures")

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []
        self.failures: list[str] = []

    def add(self, name: str, action: Callable[[], object]) -> None:
        self._steps.append((name, action))

    def names(self) -> list[str]:
        return [name for name, _ in self._steps]

    def run(self) -> list[str]:
        """Every step in order; the failures as "step: what went wrong"."""
        for name, action in self._steps:
            self._attempt(name, action)
        return self.failures

    def undo(self) -> list[str]:
        """Every step, last added first (each undoes a thing made); the failures."""
        for name, action in reversed(self._steps):
            self._attempt(name, action)
        self._steps.clear()
        return self.failures

    def _attempt(self, name: str, action: Callable[[], object]) -> None:
        from nsbox.errors import user_message
        try:
            action()
        except Exception as error:  # each step is tried; what failed is reported by name
            self.failures.append(f"{name}: {user_message(error)}")
