"""`nsbox import`: the same as `nsbox image import`."""
from __future__ import annotations

from nsbox.cli.image import alias

main = alias("import", "import")
