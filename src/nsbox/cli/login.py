"""`nsbox login`: the same as `nsbox image login`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("login", "login")
