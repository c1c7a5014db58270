"""`nsbox pull`: the same as `nsbox image pull`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("pull", "pull")
