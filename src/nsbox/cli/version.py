"""nsbox version: the versions of nsbox, Python and the kernel."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    import os
    import sys
    from importlib.metadata import PackageNotFoundError, version

    from nsbox.flags import parse
    parse(argv, {}, "usage: nsbox version", stop_at_positional=False)
    try:
        nsbox_version = version("nsbox")
    except PackageNotFoundError:
        nsbox_version = "unknown (not installed)"
    uname = os.uname()
    sys.stdout.write(f"nsbox:          {nsbox_version}\n"
                     f"Python:         {sys.version.split()[0]}\n"
                     f"OCI runtime:    nsbox (in process), spec 1.1.0\n"
                     f"Kernel:         {uname.release}\n"
                     f"OS/Arch:        {uname.sysname.lower()}/{uname.machine}\n")
    return 0
