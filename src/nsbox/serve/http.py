"""The HTTP side of `nsbox serve`: a threaded server on a unix socket, requests with their
path (the /v1.xx prefix removed), query and JSON body, answers as JSON with Docker's error
shape, and the hijacked connections of attach and exec."""
from __future__ import annotations

import json
import os
import socketserver
import struct
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from typing import TYPE_CHECKING

from nsbox.errors import AlreadyExists, ConfigError, NotFound, StateError, UsageError

if TYPE_CHECKING:
    from nsbox.serve.routes import Routes

API_VERSION = "1.44"
MIN_API_VERSION = "1.24"


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def status_for(error: BaseException) -> int:
    """Docker's status codes: 404 missing, 409 conflict, 400 bad parameter, 500 a real fault."""
    if isinstance(error, ApiError):
        return error.status
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, (AlreadyExists, StateError)):
        return 409
    if isinstance(error, (ConfigError, UsageError)):
        return 400
    return 500


class Request:
    __slots__ = ("handler", "method", "path", "query", "lists", "_body")

    def __init__(self, handler: Handler, method: str) -> None:
        self.handler = handler
        self.method = method
        url = urlsplit(handler.path)
        path = url.path
        if path.startswith("/v1."):
            path = "/" + path.split("/", 2)[2] if path.count("/") >= 2 else "/"
        self.path = path
        self.lists = parse_qs(url.query, keep_blank_values=True)  # names=a&names=b
        self.query = {key: values[-1] for key, values in self.lists.items()}
        self._body: bytes | None = None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.query.get(name)
        return default if value is None else value.lower() in ("1", "true", "yes")

    def body(self) -> bytes:
        if self._body is None:
            length = int(self.handler.headers.get("Content-Length") or 0)
            if length:
                self._body = self.handler.rfile.read(length)
            elif self.handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._body = _read_chunked(self.handler.rfile)
            else:
                self._body = b""
        return self._body

    def json(self) -> dict:
        data = self.body()
        if not data:
            return {}
        try:
            value = json.loads(data)
        except ValueError as error:
            raise ApiError(400, f"the request body is not JSON: {error}") from None
        return value if isinstance(value, dict) else {}


def _read_chunked(rfile) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            rfile.readline()
            return b"".join(parts)
        parts.append(rfile.read(size))
        rfile.readline()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nsbox"
    routes: Routes | None = None  # set by `nsbox serve`
    root = ""

    debug = False

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """With NSBOX_SERVE_LOG: each answer's start, and each request's end with its time, stamped."""
        if self.debug:
            import sys
            import time
            sys.stderr.write(f"nsbox serve: {time.time():.3f} {format % args}\n")

    def address_string(self) -> str:
        return "unix"

    def _dispatch(self, method: str) -> None:
        request = Request(self, method)
        began, cpu = time.monotonic(), time.thread_time()
        try:
            assert self.routes is not None, "nsbox serve sets the routes before serving"
            handler, params = self.routes.find(method, request.path)
            handler(self, request, **params)
        except BrokenPipeError:
            self.close_connection = True
        except BaseException as error:  # every failure is an answer, never a dropped connection
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            # a body the handler did not read must not pass for a request: the connection ends
            # here, and the answer says so (a client that reused it would get a reset)
            self.send_json({"message": str(error) or type(error).__name__}, status_for(error),
                           {"Connection": "close"})
        finally:
            self.log_message("done %s %s in %.1f ms (%.1f ms CPU)", method, request.path,
                             (time.monotonic() - began) * 1000, (time.thread_time() - cpu) * 1000)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def send_json(self, value: object, status: int = 200, headers: dict | None = None) -> None:
        data = b"" if value is None else json.dumps(value).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", API_VERSION)
        for name, text in (headers or {}).items():
            self.send_header(name, text)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_empty(self, status: int = 204) -> None:
        self.send_response(status)
        self.send_header("Api-Version", API_VERSION)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def start_stream(self, content_type: str = "application/json") -> None:
        """A chunked answer whose parts come as they happen (pull progress, logs -f, events)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Api-Version", API_VERSION)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def client_gone(self, wait: float = 0.0) -> bool:
        """Whether the client closed its end (a stream that is quiet must still notice), waiting
        up to `wait` seconds for it: the polling loops sleep here."""
        import select
        readable, _, _ = select.select([self.connection], [], [], wait)
        if not readable:
            return False
        import socket
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def hijack(self, tty: bool) -> None:
        """Take over the connection for a raw stream (attach, exec start), as Docker does:
        101 with Upgrade when the client asked for it, else 200 and the stream."""
        upgrade = self.headers.get("Upgrade", "").lower() == "tcp"
        self.send_response(101 if upgrade else 200)
        self.send_header("Content-Type", "application/vnd.docker.raw-stream" if tty
                         else "application/vnd.docker.multiplexed-stream")
        if upgrade:
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "tcp")
        self.send_header("Api-Version", API_VERSION)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True


class Chunks:
    """A binary file whose writes go out as chunks of a streamed answer (tar archives)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def write(self, data: bytes) -> int:
        self.handler.chunk(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def frame(stream: int, data: bytes) -> bytes:
    """One frame of Docker's multiplexed stream: 1 stdout, 2 stderr."""
    return struct.pack(">BxxxL", stream, len(data)) + data


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connect at once (the default backlog is 5)
    allow_reuse_address = True

    def get_request(self):  # BaseHTTPRequestHandler wants an address it can print
        connection, _ = self.socket.accept()
        return connection, ("unix", 0)


def listen(path: str, group: str | None) -> UnixServer:
    """The socket: owned by root and `group`, mode 0660 (0600 without a group)."""
    if os.path.exists(path):
        import socket
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)  # a stale socket of a server that is gone
        else:
            raise AlreadyExists(f"{path}: another server is listening there")
        finally:
            probe.close()
    old = os.umask(0o177)
    try:
        server = UnixServer(path, Handler)
    finally:
        os.umask(old)
    if group:
        import grp
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            server.server_close()
            os.unlink(path)
            raise ConfigError("--group", f"no group {group!r} on this host (groupadd {group})") from None
        os.chown(path, 0, gid)
        os.chmod(path, 0o660)
    return server



class TlsServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """TCP only with TLS and client certificates signed by the given CA (docker's --tlsverify)."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def listen_tls(host: str, port: int, ca: str, cert: str, key: str) -> TlsServer:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
        context.load_verify_locations(ca)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError("--tlscert/--tlskey/--tlscacert", f"cannot load them: {error}") from None
    context.verify_mode = ssl.CERT_REQUIRED  # no certificate signed by the CA, no connection
    server = TlsServer((host, port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server
