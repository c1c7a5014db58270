"""`nsbox save`: the same as `nsbox image save`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("save", "save")
