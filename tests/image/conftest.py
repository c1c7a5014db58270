"""Fixtures of the image tests: a store root, and real registries (Debian's docker-registry,
the distribution registry) on 127.0.0.1: without auth, with htpasswd basic auth, and
behind a bearer-token realm served by a small token service here (JWTs signed with a key
made by openssl). Images are put there by skopeo, not by nsbox.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

REGISTRY = "/usr/bin/docker-registry"
USER, PASSWORD = "tester", "s3cret-pass"
SERVICE = "nsbox-test-registry"
ISSUER = "nsbox-test-token-service"


@pytest.fixture
def store_root(tmp_path):
    return str(tmp_path / "nsbox-root")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """Issues registry JWTs: anonymous callers may pull, USER:PASSWORD may also push."""

    def __init__(self, directory: str) -> None:
        self.key = os.path.join(directory, "token.key")
        self.cert = os.path.join(directory, "token.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
                        "-out", self.cert, "-days", "2", "-subj", "/CN=nsbox-test-token"],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", self.cert, "-outform", "DER"], check=True,
                             capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.issued: list[dict] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                header = self.headers.get("Authorization", "")
                user = None
                if header.startswith("Basic "):
                    name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if (name, password) != (USER, PASSWORD):
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = name
                access = []
                for scope in query.get("scope", []):
                    kind, _, rest = scope.partition(":")
                    name, _, actions = rest.rpartition(":")
                    granted = [a for a in actions.split(",") if a == "pull" or (a == "push" and user)]
                    access.append({"type": kind, "name": name, "actions": granted})
                token = service.sign(user or "", access)
                body = json.dumps({"token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sign(self, subject: str, access: list[dict]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": secrets.token_hex(8), "access": access}
        self.issued.append(claims)
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing_input.encode(),
                                   check=True, capture_output=True).stdout
        return f"{signing_input}.{_b64url(signature)}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Registry:
    """One docker-registry process on 127.0.0.1:<port> with its own storage directory."""

    def __init__(self, directory: str, auth: str | None) -> None:
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.auth = auth
        self.token_service = None
        auth_config = ""
        if auth == "basic":
            htpasswd = os.path.join(directory, "htpasswd")
            subprocess.run(["htpasswd", "-Bbc", htpasswd, USER, PASSWORD], check=True, capture_output=True)
            auth_config = f"auth:\n  htpasswd:\n    realm: nsbox-test\n    path: {htpasswd}\n"
        elif auth == "token":
            self.token_service = TokenService(directory)
            auth_config = (f"auth:\n  token:\n    realm: {self.token_service.realm}\n    service: {SERVICE}\n"
                           f"    issuer: {ISSUER}\n    rootcertbundle: {self.token_service.cert}\n")
        config = os.path.join(directory, "config.yml")
        with open(config, "w") as out:
            out.write(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                      f"storage:\n  filesystem:\n    rootdirectory: {directory}/storage\n  delete:\n    enabled: true\n"
                      f"http:\n  addr: {self.host}\n  secret: {secrets.token_hex(16)}\n{auth_config}")
        self.log = open(os.path.join(directory, "registry.log"), "wb")
        self.process = subprocess.Popen([REGISTRY, "serve", config], stdout=self.log, stderr=subprocess.STDOUT,
                                        cwd="/")
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # 401: up, and wants auth
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    with open(os.path.join(directory, "registry.log")) as log:
                        raise RuntimeError(f"docker-registry did not start: {log.read()}")
                time.sleep(0.05)

    def creds(self) -> list[str]:
        return [] if self.auth is None else ["--dest-creds", f"{USER}:{PASSWORD}"]

    def skopeo_push(self, layout: str, tag: str, repository: str, all_images: bool = False,
                    docker_format: bool = False) -> None:
        """Copy oci:<layout>:<tag> to this registry as <repository>:<tag> with skopeo (converted
        to Docker's schema 2 / manifest list with docker_format)."""
        command = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", *self.creds(),
                   *(["--all"] if all_images else []), *(["--format", "v2s2"] if docker_format else []),
                   f"oci:{layout}:{tag}", f"docker://{self.host}/{repository}:{tag}"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{' '.join(command)}: {result.stderr}"

    def skopeo_inspect(self, reference: str, raw: bool = False) -> dict:
        command = ["skopeo", "inspect", "--tls-verify=false", *(["--raw"] if raw else []),
                   *([] if self.auth is None else ["--creds", f"{USER}:{PASSWORD}"]), f"docker://{self.host}/{reference}"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{' '.join(command)}: {result.stderr}"
        return json.loads(result.stdout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if self.token_service is not None:
            self.token_service.stop()


@pytest.fixture(scope="session")
def registries(tmp_path_factory):
    """registries(auth) -> a running Registry (auth None, 'basic' or 'token'), one per kind per session."""
    if not os.path.exists(REGISTRY) or not shutil.which("skopeo"):
        pytest.skip("needs Debian's docker-registry and skopeo (scripts/apt-packages.txt)")
    running: dict[str | None, Registry] = {}

    def get(auth: str | None = None) -> Registry:
        if auth not in running:
            running[auth] = Registry(str(tmp_path_factory.mktemp(f"registry-{auth or 'plain'}")), auth)
        return running[auth]

    yield get
    for registry in running.values():
        registry.stop()
