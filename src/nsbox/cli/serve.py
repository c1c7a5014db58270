"""nsbox serve: the Docker Engine API on a unix socket (DOCKER_HOST=unix:///run/nsbox.sock), for
the docker CLI, docker-py and compose. Containers keep running when it stops: each has its
own monitor."""
from __future__ import annotations

import os
import signal
import sys

USAGE = """usage: nsbox serve [-H unix:///run/nsbox.sock] [--group GROUP]

  -H, --host unix://PATH   the socket to listen on (default /run/nsbox.sock)
      --group GROUP        the socket's group (mode 0660); root only (0600) without it"""
FLAGS = {"-H=": "host", "--host=": "host", "--group=": "group"}
DEFAULT_SOCKET = "/run/nsbox.sock"


def main(argv: list[str], root: str) -> int:
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    from nsbox.serve.http import Handler, listen
    from nsbox.serve.routes import all_routes
    values, positional = parse(argv, FLAGS, USAGE, stop_at_positional=False)
    if positional:
        raise ConfigError("serve", f"takes no arguments\n{USAGE}")
    host = str(values.get("host") or "unix://" + DEFAULT_SOCKET)
    if not host.startswith("unix://"):
        raise ConfigError("--host", f"{host}: only unix:// sockets are served (a TCP port would need TLS client "
                          "certificates, which nsbox serve does not do yet)")
    path = host.removeprefix("unix://")
    Handler.routes = all_routes()
    Handler.root = os.path.abspath(root)
    Handler.debug = bool(os.environ.get("NSBOX_SERVE_LOG"))
    group = values.get("group")
    server = listen(path, str(group) if group else None)
    signal.signal(signal.SIGTERM, _stop)
    print(f"nsbox serve: listening on unix://{path} (DOCKER_HOST=unix://{path})", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return 0


def _stop(signum: int, frame: object) -> None:
    """SIGTERM ends serving (the containers keep running under their monitors)."""
    raise KeyboardInterrupt
