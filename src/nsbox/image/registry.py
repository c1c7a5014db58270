"""A client for the distribution API v2 (Docker Hub, the `docker-registry` package, ...).

Authentication follows the registry's WWW-Authenticate challenge: Basic with the saved
credentials, or Bearer with a token fetched from the challenge's realm (anonymously
when no credentials are saved). Plain HTTP is used for loopback hosts and for the
registries given as insecure; everything else is HTTPS. Connections are per thread so
that layers download in parallel.
"""
from __future__ import annotations

import base64
import http.client
import socket
import ssl
import threading
import time
import urllib.parse

from nsbox.errors import RegistryError
from nsbox.oci import image_spec, jsonio

MANIFEST_ACCEPT = ", ".join((image_spec.OCI_INDEX, image_spec.OCI_MANIFEST, image_spec.DOCKER_LIST,
                             image_spec.DOCKER_MANIFEST))
RETRIES = 4
USER_AGENT = "nsbox/0.1"
TIMEOUT = 60
_CHUNK = 1 << 20
# a connection that broke or stalled is retried (and a download resumed); a refused one is not
_TRANSIENT = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.HTTPException,
              socket.timeout, TimeoutError)


def is_loopback(endpoint: str) -> bool:
    host = urllib.parse.urlsplit(f"//{endpoint}").hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """'Bearer realm="https://auth",service="reg",scope="repository:x:pull"' -> ('bearer', {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    index = 0
    while index < len(rest):
        equals = rest.find("=", index)
        if equals < 0:
            break
        key = rest[index:equals].strip().strip(",").strip()
        index = equals + 1
        if rest[index:index + 1] == '"':
            end = rest.find('"', index + 1)
            end = len(rest) if end < 0 else end
            params[key.lower()] = rest[index + 1:end]
            index = end + 1
        else:
            end = rest.find(",", index)
            end = len(rest) if end < 0 else end
            params[key.lower()] = rest[index:end].strip()
            index = end
        index = rest.find(",", index)
        index = len(rest) if index < 0 else index + 1
    return scheme.lower(), params


class Response:
    """Status, headers and (unread) body of one HTTP response."""

    def __init__(self, raw: http.client.HTTPResponse) -> None:
        self.raw = raw
        self.status = raw.status
        self.headers = raw.headers

    def read(self) -> bytes:
        return self.raw.read()


class RegistryClient:
    def __init__(self, endpoint: str, insecure: bool = False, credentials: tuple[str, str] | None = None) -> None:
        self.endpoint = endpoint
        self.scheme = "http" if insecure or is_loopback(endpoint) else "https"
        self.credentials = credentials
        self._authorization: dict[tuple[str, bool], str] = {}
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._aborted = threading.Event()

    # transport

    def _connection(self, scheme: str, host: str) -> http.client.HTTPConnection:
        connections = self._local.__dict__.setdefault("connections", {})
        connection = connections.get((scheme, host))
        if connection is None:
            if scheme == "https":
                connection = http.client.HTTPSConnection(host, timeout=TIMEOUT, context=ssl.create_default_context())
            else:
                connection = http.client.HTTPConnection(host, timeout=TIMEOUT)
            connections[(scheme, host)] = connection
            self._connections.append(connection)
        return connection

    def abort(self) -> None:
        """Make every request in flight, in any thread, fail now (for ^C or a failed layer)."""
        self._aborted.set()
        for connection in list(self._connections):
            if connection.sock is not None:
                try:
                    connection.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _drop_connection(self, scheme: str, host: str) -> None:
        connection = self._local.__dict__.get("connections", {}).pop((scheme, host), None)
        if connection is not None:
            connection.close()
            self._connections.remove(connection)

    def _send(self, method: str, url: str, headers: dict[str, str], body=None) -> http.client.HTTPResponse:
        if self._aborted.is_set():
            raise RegistryError(f"{method} {url}: stopped")
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = self._connection(parts.scheme, parts.netloc)
        try:
            connection.request(method, target, body=body, headers={"User-Agent": USER_AGENT, **headers})
            return connection.getresponse()
        except BaseException:
            self._drop_connection(parts.scheme, parts.netloc)
            raise

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.endpoint}{path}"

    def request(self, method: str, path_or_url: str, repository: str, push: bool = False,
                headers: dict[str, str] | None = None, body=None, ok: tuple[int, ...] = (200,)) -> Response:
        """Send a request with this repository's authorization, answering one auth challenge.

        Follows redirects (without the authorization, as blob storage wants). Raises
        RegistryError unless the final status is in `ok`.
        """
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        sent = dict(headers or {})
        key = (repository, push)
        for attempt in range(2):
            if key in self._authorization:
                sent["Authorization"] = self._authorization[key]
            if hasattr(body, "seek"):
                body.seek(0)
            try:
                raw = self._send(method, url, sent, body)
            except (OSError, http.client.HTTPException) as error:
                raise RegistryError(f"{method} {url}: {error}") from error
            if raw.status == 401 and attempt == 0:
                challenge = raw.headers.get("WWW-Authenticate", "")
                raw.read()
                self._authorization[key] = self._authorize(challenge, repository, push, url)
                continue
            break
        redirects = 0
        while raw.status in (301, 302, 303, 307, 308) and redirects < 5:
            location = urllib.parse.urljoin(url, raw.headers.get("Location", ""))
            raw.read()
            redirects += 1
            url = location
            plain = {name: value for name, value in sent.items() if name != "Authorization"}
            try:
                raw = self._send("GET" if raw.status == 303 else method, url, plain, body)
            except (OSError, http.client.HTTPException) as error:
                raise RegistryError(f"{method} {url} (redirected): {error}") from error
        if raw.status not in ok:
            raise self._error(method, url, raw)
        return Response(raw)

    def _error(self, method: str, url: str, raw: http.client.HTTPResponse) -> RegistryError:
        text = raw.read()[:2000]
        detail = text.decode(errors="replace").strip()
        try:
            errors = jsonio.loads(text).get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or detail
        except (ValueError, AttributeError):
            pass
        if raw.status == 401:
            hint = f" (log in with `nsbox login {self.endpoint}`)"
        elif raw.status == 404:
            hint = " (no such repository, tag or blob)"
        else:
            hint = ""
        return RegistryError(f"{method} {url}: {raw.status} {raw.reason}{hint}{': ' + detail if detail else ''}")

    def _authorize(self, challenge: str, repository: str, push: bool, url: str) -> str:
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if self.credentials is None:
                raise RegistryError(f"{self.endpoint} wants a user name and password for {url}: "
                                    f"log in with `nsbox login {self.endpoint}`")
            user, password = self.credentials
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(f"{self.endpoint} asked for an authentication nsbox does not know: {challenge!r}")
        scope = params.get("scope") or (f"repository:{repository}:{'pull,push' if push else 'pull'}"
                                        if repository else "")
        query = [("scope", one) for one in scope.split()]  # a challenge may name several scopes
        if "service" in params:
            query.append(("service", params["service"]))
        token_url = params["realm"] + ("&" if "?" in params["realm"] else "?") + urllib.parse.urlencode(query)
        headers = {}
        if self.credentials is not None:
            user, password = self.credentials
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        try:
            raw = self._send("GET", token_url, headers)
        except (OSError, http.client.HTTPException) as error:
            raise RegistryError(f"token service {params['realm']}: {error}") from error
        text = raw.read()
        if raw.status != 200:
            asked = f"access {scope!r}" if scope else "a login"
            who = f"user {self.credentials[0]!r}" if self.credentials else "an anonymous client"
            hint = "" if self.credentials else f" (log in with `nsbox login {self.endpoint}`)"
            raise RegistryError(f"{self.endpoint}: its token service {params['realm']} refused {asked} to {who}: "
                                f"{raw.status} {raw.reason}{hint}")
        try:
            answer = jsonio.loads(text)
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"token service {params['realm']} answered without a token")
        return f"Bearer {token}"

    # the API

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of a manifest or index, verified against a digest reference."""
        import hashlib
        response = self._retrying(lambda: self.request(
            "GET", f"/v2/{repository}/manifests/{reference}", repository, headers={"Accept": MANIFEST_ACCEPT}))
        body = response.read()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryError(f"{self.endpoint}/{repository}@{reference}: the registry sent a manifest "
                                f"whose digest is {digest}; refused")
        declared = response.headers.get("Content-Type", "").split(";")[0].strip()
        media_type = image_spec.media_type_of(body)
        if declared in image_spec.INDEX_TYPES + image_spec.MANIFEST_TYPES:
            media_type = declared
        return body, media_type, digest

    def _retrying(self, call):
        for attempt in range(RETRIES):
            try:
                return call()
            except RegistryError as error:
                if not isinstance(error.__cause__, _TRANSIENT) or attempt == RETRIES - 1:
                    raise
            time.sleep(0.2 * 2 ** attempt)

    def download_blob(self, repository: str, digest: str, ingest, progress=None) -> None:
        """Append the blob's bytes to `ingest` (a store.Ingest), resuming after a broken connection."""
        buffer = bytearray(_CHUNK)  # one buffer, filled again and again: fresh memory costs page faults
        view = memoryview(buffer)
        for attempt in range(RETRIES):
            headers = {"Range": f"bytes={ingest.offset}-"} if ingest.offset else {}
            try:
                response = self.request("GET", f"/v2/{repository}/blobs/{digest}", repository, headers=headers,
                                        ok=(200, 206))
                if response.status == 200 and ingest.offset:
                    ingest.restart()
                    if progress:
                        progress(0, reset=True)
                while count := response.raw.readinto(buffer):
                    ingest.write(view[:count])
                    if progress:
                        progress(count)
                if response.raw.length:  # the connection closed before Content-Length bytes came
                    raise http.client.IncompleteRead(b"", response.raw.length)
                return
            except RegistryError as error:
                if not isinstance(error.__cause__, _TRANSIENT) or attempt == RETRIES - 1:
                    raise
            except _TRANSIENT as error:
                parts = urllib.parse.urlsplit(self.url("/"))
                self._drop_connection(parts.scheme, parts.netloc)
                if attempt == RETRIES - 1 or self._aborted.is_set():
                    raise RegistryError(f"downloading {digest} from {self.endpoint}/{repository}: {error}") from error
            time.sleep(0.2 * 2 ** attempt)

    def has_blob(self, repository: str, digest: str) -> bool:
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}", repository, push=True, ok=(200, 404))
        response.read()
        return response.status == 200

    def upload_blob(self, repository: str, digest: str, path: str, size: int, mount_from: str | None = None) -> None:
        """A monolithic upload: POST for an upload URL, then PUT the content with its digest.

        With `mount_from` (another repository of this registry holding the blob) the
        registry is first asked to mount the blob from there, which needs no upload.
        """
        query = "?" + urllib.parse.urlencode({"mount": digest, "from": mount_from}) if mount_from else ""
        try:
            started = self.request("POST", f"/v2/{repository}/blobs/uploads/{query}", repository, push=True,
                                   headers={"Content-Length": "0"}, ok=(201, 202))
        except RegistryError:
            if not mount_from:
                raise
            return self.upload_blob(repository, digest, path, size)  # not allowed to read the other repository
        started.read()
        if started.status == 201:
            return  # mounted
        location = urllib.parse.urljoin(self.url("/"), started.headers.get("Location", ""))
        location += ("&" if "?" in location else "?") + urllib.parse.urlencode({"digest": digest})
        with open(path, "rb") as content:
            finished = self.request("PUT", location, repository, push=True, body=content, ok=(201,),
                                    headers={"Content-Type": "application/octet-stream",
                                             "Content-Length": str(size)})
        finished.read()

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        response = self.request("PUT", f"/v2/{repository}/manifests/{reference}", repository, push=True,
                                body=body, headers={"Content-Type": media_type}, ok=(201,))
        response.read()
        return response.headers.get("Docker-Content-Digest", "")

    def check(self, repository: str = "") -> None:
        """GET /v2/ with authorization (used by `nsbox login` to test credentials)."""
        response = self.request("GET", "/v2/", repository or "", push=False)
        response.read()
