"""`nsbox logout`: the same as `nsbox image logout`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("logout", "logout")
