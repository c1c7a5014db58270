"""`nsbox rmi`: the same as `nsbox image rm`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("rm", "rmi")
