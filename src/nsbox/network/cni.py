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


# PLUGIN_THREADS: the plugins are Go programs that each do one short job; the Go runtime
# gives them as many running threads as the host has cores, and their idle ones spin looking
# for work. With GOMAXPROCS=1 (unless the caller's environment sets it) a bridge ADD + DEL,
# host-local included, takes 18.9 instead of 21.2 ms of CPU (median of 40, load 10), on the
# start path of every bridged run; the plugins pass it on to the IPAM plugin they exec.


def run_plugin(command: str, config: dict, call: Call) -> dict:
    """Exec one plugin; its parsed result ({} for DEL); NetworkError with the plugin's own message."""
    return start_plugin(command, config, call).wait()


def start_plugin(command: str, config: dict, call: Call) -> "Running":
    """Exec one plugin and hand it its whole config; the caller collects it with wait()."""
    search = cni_path()
    binary = find_plugin(config["type"], search)
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": call.container_id, "CNI_NETNS": call.netns,
           "CNI_IFNAME": call.ifname, "CNI_PATH": search, "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           "GOMAXPROCS": os.environ.get("GOMAXPROCS", "1")}  # see PLUGIN_THREADS
    if call.args:
        env["CNI_ARGS"] = ";".join(f"{key}={value}" for key, value in call.args.items())
    return Running(command, config, binary, jsonio.dumps(config).encode(), env)


class Running:
    """A plugin process under way. posix_spawn and pipes: the subprocess module costs ~22 ms
    of imports on `nsbox run`'s path. Its stdin is written and closed at once (a config is
    far below a pipe's 64 KiB), so that a process forked meanwhile (the runtime's init)
    inherits only read ends and can never keep the plugin waiting."""

    __slots__ = ("command", "config", "pid", "out_read", "err_read")

    def __init__(self, command: str, config: dict, binary: str, stdin: bytes, env: dict[str, str]) -> None:
        self.command, self.config = command, config
        in_read, in_write = os.pipe2(os.O_CLOEXEC)
        out_read, out_write = os.pipe2(os.O_CLOEXEC)
        err_read, err_write = os.pipe2(os.O_CLOEXEC)
        try:
            self.pid = os.posix_spawn(binary, [binary], env, file_actions=[
                (os.POSIX_SPAWN_DUP2, in_read, 0), (os.POSIX_SPAWN_DUP2, out_write, 1),
                (os.POSIX_SPAWN_DUP2, err_write, 2)])
        except BaseException:
            for fd in (in_write, out_read, err_read):
                os.close(fd)
            raise
        finally:
            for fd in (in_read, out_write, err_write):
                os.close(fd)
        self.out_read, self.err_read = out_read, err_read
        try:
            view = memoryview(stdin)
            while view:
                view = view[os.write(in_write, view):]
        except OSError:
            pass  # the plugin ended without reading: its exit status and output say why
        finally:
            os.close(in_write)

    def wait(self) -> dict:
        """The plugin's parsed result ({} when it printed none); NetworkError with its message."""
        status, output, errors = self._collect()
        output = output.strip()
        if status != 0:
            try:
                error: dict = jsonio.loads(output)
                message = error.get("msg", "") + (f": {error['details']}" if error.get("details") else "")
            except (ValueError, AttributeError):
                message = (output or errors).decode(errors="replace").strip()
            raise NetworkError(f"CNI {self.command} of network {self.config['name']!r}, plugin "
                               f"{self.config['type']}: {message}")
        if not output:
            return {}
        try:
            return jsonio.loads(output)
        except ValueError:
            raise NetworkError(f"CNI plugin {self.config['type']} printed no JSON result: {output[:200]!r}") from None

    def _collect(self) -> tuple[int, bytes, bytes]:
        import select
        chunks: dict[int, list[bytes]] = {self.out_read: [], self.err_read: []}
        try:
            open_fds = [self.out_read, self.err_read]
            while open_fds:
                readable, _, _ = select.select(open_fds, [], [])
                for fd in readable:
                    data = os.read(fd, 65536)
                    if data:
                        chunks[fd].append(data)
                    else:
                        open_fds.remove(fd)
        finally:
            os.close(self.out_read)
            os.close(self.err_read)
            _, wait_status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(wait_status), b"".join(chunks[self.out_read]), b"".join(chunks[self.err_read])


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


class Chain:
    """A config list run for one container: ADD plugin by plugin in order, each given the
    previous result; DEL in reverse order, each given ADD's result, every one even when one
    fails (what it holds must still be released). The first plugin starts at once, so that
    the caller can overlap it with other work (the runtime's create, its delete) before wait()."""

    __slots__ = ("command", "conflist", "call", "plugins", "result", "running", "failures")

    def __init__(self, command: str, conflist: dict, call: Call, result: dict | None = None) -> None:
        order = conflist["plugins"] if command == "ADD" else list(reversed(conflist["plugins"]))
        self.command, self.conflist, self.call, self.result = command, conflist, call, result
        self.plugins = [plugin for plugin in order if has_work(plugin, call)]
        self.failures: list[str] = []
        self.running: Running | None = self._start(0) if self.plugins else None

    def _start(self, index: int) -> Running | None:
        config = plugin_config(self.conflist, self.plugins[index], self.call, self.result)
        if self.command == "ADD":
            return start_plugin("ADD", config, self.call)
        try:
            return start_plugin(self.command, config, self.call)
        except NetworkError as error:  # (a plugin missing from CNI_PATH)
            self.failures.append(str(error))
            return None

    def wait(self) -> dict:
        """ADD: the final result (NetworkError if a plugin failed); DEL: {} (see failures)."""
        for index in range(len(self.plugins)):
            running = self.running if index == 0 else self._start(index)
            self.running = None
            if running is None:
                continue
            if self.command == "ADD":
                self.result = running.wait()
                continue
            try:
                running.wait()
            except NetworkError as error:
                self.failures.append(str(error))
        self.plugins = []
        return (self.result or {}) if self.command == "ADD" else {}


def add(conflist: dict, call: Call) -> dict:
    """ADD the container to the network; the final result (interfaces, ips, routes, dns)."""
    return Chain("ADD", conflist, call).wait()


def delete(conflist: dict, call: Call, result: dict | None) -> list[str]:
    """DEL the container from the network; the failures' messages."""
    chain = Chain("DEL", conflist, call, result)
    chain.wait()
    return chain.failures
