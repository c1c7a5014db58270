"""nsbox serve: the Docker Engine API on a unix socket (DOCKER_HOST=unix:///run/nsbox.sock), for
the docker CLI, docker-py and compose. Containers keep running when it stops: each has its
own monitor."""
from __future__ import annotations

import os
import signal
import sys

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox serve [-H unix:///run/nsbox.sock] [--group GROUP]\n"
                  "nsbox serve -H tcp://HOST:PORT --tlsverify --tlscacert CA --tlscert CERT --tlskey KEY",
                  "The Docker Engine API on a socket, for the docker CLI, docker-py and compose.",
                  flag("-H --host unix://PATH|tcp://HOST:PORT", "where to listen (default unix:///run/nsbox.sock); "
                       "a TCP port only with TLS and client certificates signed by --tlscacert"),
                  flag("--group GROUP", "the socket's group (mode 0660); root only (0600) without it"),
                  flag("--tlsverify", "require client certificates"),
                  flag("--tlscacert CA", "the CA that signs client certificates"),
                  flag("--tlscert CERT", "the server's certificate"),
                  flag("--tlskey KEY", "the server's key"))
DEFAULT_SOCKET = "/run/nsbox.sock"


def main(argv: list[str], root: str) -> int:
    from nsbox.errors import ConfigError
    from nsbox.serve.http import Handler, listen
    from nsbox.serve.containers import warm_up
    from nsbox.serve.routes import all_routes
    values, positional = parse(argv, COMMAND, stop_at_positional=False)
    if positional:
        raise ConfigError("serve", f"takes no arguments\n{COMMAND.usage}")
    host = str(values.get("host") or "unix://" + DEFAULT_SOCKET)
    Handler.routes = all_routes()
    warm_up()
    Handler.root = os.path.abspath(root)
    Handler.debug = bool(os.environ.get("NSBOX_SERVE_LOG"))
    path = None
    if host.startswith("tcp://"):
        server = _tls_server(host, values)
    elif host.startswith("unix://"):
        path = host.removeprefix("unix://")
        group = values.get("group")
        server = listen(path, str(group) if group else None)
    else:
        raise ConfigError("--host", f"{host}: give unix://PATH or tcp://HOST:PORT")
    from nsbox.engine.exit_recorder import ExitRecorder
    recorder = ExitRecorder(Handler.root)  # the monitors of the containers started here ask it first
    signal.signal(signal.SIGTERM, _stop)
    print(f"nsbox serve: listening on {host} (DOCKER_HOST={host})", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        recorder.close()
        if path is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
    return 0


def _tls_server(host: str, values: dict):
    """A TCP port is served only with TLS and client certificates: anyone who can reach an
    API socket can run a privileged container, that is, own the host."""
    from nsbox.errors import ConfigError
    from nsbox.serve.http import listen_tls
    missing = [flag for flag in ("tlsverify", "tlscacert", "tlscert", "tlskey") if not values.get(flag)]
    if missing:
        raise ConfigError("--host", f"{host}: a TCP port needs --tlsverify --tlscacert --tlscert --tlskey (missing: "
                          + ", ".join("--" + flag for flag in missing) + ")")
    address, _, port = host.removeprefix("tcp://").rpartition(":")
    if not port.isdigit():
        raise ConfigError("--host", f"{host}: give tcp://HOST:PORT")
    return listen_tls(address or "127.0.0.1", int(port), str(values["tlscacert"]), str(values["tlscert"]),
                      str(values["tlskey"]))


def _stop(signum: int, frame: object) -> None:
    """SIGTERM ends serving (the containers keep running under their monitors)."""
    raise KeyboardInterrupt
