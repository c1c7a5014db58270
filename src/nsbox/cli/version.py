"""nsbox version (and --version): the versions of nsbox, Python and the kernel, in Docker's
Client/Server shape for --format ('{{.Client.Version}}', '{{json .}}')."""
from __future__ import annotations

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox version [OPTIONS]", "The versions of nsbox, Python and the kernel.",
                  flag("-f --format FORMAT", "json, or a Go template ('{{.Client.Version}}')"))


def nsbox_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("nsbox")
    except PackageNotFoundError:
        return "unknown (not installed)"


def one_line() -> str:
    """What `nsbox --version` prints (Docker: "Docker version 28.2.2, build e6534b4")."""
    return f"nsbox version {nsbox_version()}"


def versions() -> dict:
    import os
    import sys
    uname = os.uname()
    current = nsbox_version()
    common = {"Version": current, "Os": uname.sysname.lower(), "Arch": {"x86_64": "amd64", "aarch64": "arm64"}
              .get(uname.machine, uname.machine), "PythonVersion": sys.version.split()[0]}
    return {"Client": dict(common, Platform={"Name": "nsbox"}, Context="default"),
            "Server": dict(common, Platform={"Name": "nsbox (no daemon)"}, KernelVersion=uname.release,
                           Components=[{"Name": "nsbox-runtime", "Version": current,
                                        "Details": {"OCISpec": "1.1.0"}}])}


def main(argv: list[str], root: str) -> int:
    import sys

    options, _ = parse(argv, COMMAND, stop_at_positional=False)
    shown = versions()
    form = options.get("format")
    if form:
        from nsbox.cli.formatting import render_each
        sys.stdout.write(render_each("{{json .}}" if form == "json" else form, [shown]))
        return 0
    client, server = shown["Client"], shown["Server"]
    sys.stdout.write(f"Client:\n Version:           {client['Version']}\n Python version:    {client['PythonVersion']}\n"
                     f" OS/Arch:           {client['Os']}/{client['Arch']}\n\n"
                     f"Server: (none: nsbox has no daemon; containers are run by the nsbox command itself)\n"
                     f" OCI runtime:       nsbox-runtime {server['Version']} (in process), spec 1.1.0\n"
                     f" Kernel version:    {server['KernelVersion']}\n")
    return 0
