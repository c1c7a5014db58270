"""The CNI plugin caller, as the CNI 1.0 specification describes it.

A plugin is an executable found on CNI_PATH; its command and the container come in
environment variables (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH,
CNI_ARGS), its network configuration on stdin, its result (or error) as JSON on stdout.
A config list is run plugin by plugin: ADD in order, each plugin given the previous
result as prevResult; DEL in reverse order, with the result ADD returned.
"""
from __future__ import annotations

import os

from nsbox.errors import NetworkError
from nsbox.oci import jsonio

DEFAULT_CNI_PATH = "/usr/lib/cni:/opt/cni/bin"


def cni_path() -> str:
    """Where plugins are looked for (NSBOX_CNI_PATH, else Debian's and the upstream place)."""
    return os.environ.get("NSBOX_CNI_PATH") or DEFAULT_CNI_PATH


def find_plugin(kind: str, search: str) -> str:
    for directory in search.split(":"):
        path = os.path.join(directory, kind)
        if directory and os.access(path, os.X_OK):
            return path
    raise NetworkError(f"CNI plugin {kind!r} not found in {search} "
                       "(apt-get install containernetworking-plugins, or set NSBOX_CNI_PATH)")


class Call:
    """The container side of a plugin call: which container, netns and interface."""

    __slots__ = ("container_id", "netns", "ifname", "args", "runtime_config")

    def __init__(self, container_id: str, netns: str, ifname: str, args: dict[str, str] | None = None,
                 runtime_config: dict | None = None) -> None:
        self.container_id = container_id
        self.netns = netns
        self.ifname = ifname
        self.args = args or {}
        self.runtime_config = runtime_config or {}


def plugin_config(conflist: dict, plugin: dict, call: Call, prev_result: dict | None) -> dict:
    """One plugin's stdin: its own section, the list's name and version, the runtime config
    for the capabilities it declares, and the previous result."""
    config = dict(plugin, name=conflist["name"], cniVersion=conflist.get("cniVersion", "1.0.0"))
    wanted = {key: value for key, value in call.runtime_config.items()
              if (plugin.get("capabilities") or {}).get(key)}
    if wanted:
        config["runtimeConfig"] = wanted
    config.pop("capabilities", None)
    if prev_result is not None:
        config["prevResult"] = prev_result
    return config


def run_plugin(command: str, config: dict, call: Call) -> dict:
    """Exec one plugin; its parsed result ({} for DEL); NetworkError with the plugin's own message."""
    search = cni_path()
    binary = find_plugin(config["type"], search)
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": call.container_id, "CNI_NETNS": call.netns,
           "CNI_IFNAME": call.ifname, "CNI_PATH": search, "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
    if call.args:
        env["CNI_ARGS"] = ";".join(f"{key}={value}" for key, value in call.args.items())
    status, output, errors = execute(binary, jsonio.dumps(config).encode(), env)
    output = output.strip()
    if status != 0:
        try:
            error: dict = jsonio.loads(output)
            message = error.get("msg", "") + (f": {error['details']}" if error.get("details") else "")
        except (ValueError, AttributeError):
            message = (output or errors).decode(errors="replace").strip()
        raise NetworkError(f"CNI {command} of network {config['name']!r}, plugin {config['type']}: {message}")
    if not output:
        return {}
    try:
        return jsonio.loads(output)
    except ValueError:
        raise NetworkError(f"CNI plugin {config['type']} printed no JSON result: {output[:200]!r}") from None


def execute(binary: str, stdin: bytes, env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """Run `binary` with `stdin`; (exit code, stdout, stderr). posix_spawn and pipes: the
    subprocess module costs ~22 ms of imports on `nsbox run`'s path."""
    import select
    in_read, in_write = os.pipe2(os.O_CLOEXEC)
    out_read, out_write = os.pipe2(os.O_CLOEXEC)
    err_read, err_write = os.pipe2(os.O_CLOEXEC)
    try:
        pid = os.posix_spawn(binary, [binary], env, file_actions=[
            (os.POSIX_SPAWN_DUP2, in_read, 0), (os.POSIX_SPAWN_DUP2, out_write, 1), (os.POSIX_SPAWN_DUP2, err_write, 2)])
    finally:
        for fd in (in_read, out_write, err_write):
            os.close(fd)
    chunks: dict[int, list[bytes]] = {out_read: [], err_read: []}
    try:
        view = memoryview(stdin)
        while view:  # a config is far below a pipe's 64 KiB, but never assume
            view = view[os.write(in_write, view):]
        os.close(in_write)
        in_write = -1
        open_fds = [out_read, err_read]
        while open_fds:
            readable, _, _ = select.select(open_fds, [], [])
            for fd in readable:
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:
                    open_fds.remove(fd)
    finally:
        for fd in (in_write, out_read, err_read):
            if fd >= 0:
                os.close(fd)
        _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), b"".join(chunks[out_read]), b"".join(chunks[err_read])


# Plugins whose whole input is one runtime capability: given none, they return their
# prevResult untouched (portmap with no mappings, bandwidth with no rates), yet each exec
# costs ~15 ms on this machine (a Go binary's start; `benchmarks/run --case net-plugins`).
CAPABILITY_ONLY = {"portmap": "portMappings", "bandwidth": "bandwidth"}


def has_work(plugin: dict, call: Call) -> bool:
    """False for a capability-only plugin (as nsbox writes it) called without its capability."""
    capability = CAPABILITY_ONLY.get(plugin.get("type", ""))
    if capability is None or set(plugin) - {"type", "capabilities"}:
        return True
    return bool(call.runtime_config.get(capability))


def add(conflist: dict, call: Call) -> dict:
    """ADD the container to the network; the final result (interfaces, ips, routes, dns)."""
    result: dict | None = None
    for plugin in conflist["plugins"]:
        if has_work(plugin, call):
            result = run_plugin("ADD", plugin_config(conflist, plugin, call, result), call)
    return result or {}


def delete(conflist: dict, call: Call, result: dict | None) -> list[str]:
    """DEL the container from the network, every plugin in reverse order even when one fails
    (what it holds must still be released); the failures' messages."""
    failures = []
    for plugin in reversed(conflist["plugins"]):
        if not has_work(plugin, call):
            continue
        try:
            run_plugin("DEL", plugin_config(conflist, plugin, call, result), call)
        except NetworkError as error:
            failures.append(str(error))
    return failures

