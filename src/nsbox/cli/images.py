"""`nsbox images`: the same as `nsbox image ls`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("ls", "images")
