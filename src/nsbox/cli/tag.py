"""`nsbox tag`: the same as `nsbox image tag`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("tag", "tag")
