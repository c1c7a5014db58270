"""The rows that Docker's --format templates see: a Go struct as a dict (no template code
here, so that a listing command can build its rows without loading the evaluator)."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Struct(dict):
    """A dict that stands for a Go struct: an unknown field is "can't evaluate field X in type T"
    (with no type name: Docker's inspect fallback's "map has no entry for key X"). A plain dict
    is a Go map: a missing key is <no value>, as Go's default missingkey option has it."""

    def __init__(self, type_name: str | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type_name = type_name
        self.json_value: Any = None  # what {{json .}} prints, when not the fields themselves
