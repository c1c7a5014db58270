"""`nsbox push`: the same as `nsbox image push`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("push", "push")
