"""`nsbox-runtime update`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context, UsageError, one_id

# flag -> (option key, resource group, OCI field, kind)
LIMIT_FLAGS = {
    "--memory": ("memory", "memory", "limit", "size"),
    "--memory-swap": ("memory_swap", "memory", "swap", "size"),
    "--memory-reservation": ("memory_reservation", "memory", "reservation", "size"),
    "--kernel-memory": ("kernel_memory", "memory", "kernel", "size"),
    "--kernel-memory-tcp": ("kernel_memory_tcp", "memory", "kernelTCP", "size"),
    "--cpu-period": ("cpu_period", "cpu", "period", "int"),
    "--cpu-quota": ("cpu_quota", "cpu", "quota", "int"),
    "--cpu-share": ("cpu_share", "cpu", "shares", "int"),
    "--cpu-rt-period": ("cpu_rt_period", "cpu", "realtimePeriod", "int"),
    "--cpu-rt-runtime": ("cpu_rt_runtime", "cpu", "realtimeRuntime", "int"),
    "--cpu-idle": ("cpu_idle", "cpu", "idle", "int"),
    "--cpuset-cpus": ("cpuset_cpus", "cpu", "cpus", "str"),
    "--cpuset-mems": ("cpuset_mems", "cpu", "mems", "str"),
    "--pids-limit": ("pids_limit", "pids", "limit", "int"),
    "--blkio-weight": ("blkio_weight", "blockIO", "weight", "int"),
}
COMMAND = Command("nsbox-runtime update [OPTIONS] ID", "Change a live container's limits.",
                  flag("-r --resources FILE|-", "OCI linux.resources JSON (runc's format); the flags below override it"),
                  *(flag(f"{name} {kind.upper()}", f"linux.resources.{group}.{field}", key=key)
                    for name, (key, group, field, kind) in LIMIT_FLAGS.items()),
                  notes="Sizes take a k, m or g suffix (powers of 1024), as runc's do.")

SUFFIXES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def number(flag: str, text: str, kind: str) -> int | str:
    if kind == "str":
        return text
    value = text.strip().lower()
    scale = 1
    if kind == "size" and value and value[-1] == "b":
        value = value[:-1]
    if kind == "size" and value and value[-1] in SUFFIXES:
        scale = SUFFIXES[value[-1]]
        value = value[:-1]
    try:
        return int(value) * scale
    except ValueError:
        what = "a size in bytes (k, m, g suffixes allowed) or -1" if kind == "size" else "an integer"
        raise UsageError(f"{flag}: must be {what}, got {text!r}") from None


def read_resources(source: str) -> dict:
    import sys
    from nsbox.oci import jsonio
    try:
        if source == "-":
            text = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as file:
                text = file.read()
        resources = jsonio.loads(text)
    except OSError as error:
        raise UsageError(f"--resources: cannot read {source}: {error.strerror}") from None
    except ValueError as error:
        raise UsageError(f"--resources: {source} is not JSON: {error}") from None
    if not isinstance(resources, dict):
        raise UsageError(f"--resources: {source} must hold a JSON object (OCI linux.resources)")
    return resources


def resources_from(options: dict) -> dict:
    resources = read_resources(options["resources"]) if "resources" in options else {}
    for flag, (key, group, field, kind) in LIMIT_FLAGS.items():
        if key in options:
            resources.setdefault(group, {})[field] = number(flag, options[key], kind)
    return resources


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    container_id = one_id(positionals, "update")
    resources = resources_from(options)
    if not resources:
        raise UsageError("update needs --resources FILE|- or at least one limit flag (--memory, --cpu-quota, ...)")
    from nsbox.runtime.state import live_cgroup
    _, cgroup = live_cgroup(ctx.root, container_id, "update")
    from nsbox.runtime.notices import warn
    cgroup.warn = warn
    cgroup.update(resources)
    return 0
