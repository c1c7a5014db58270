"""`nsbox load`: the same as `nsbox image load`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("load", "load")
