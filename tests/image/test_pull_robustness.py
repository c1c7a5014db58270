"""Pulls that meet trouble: a connection broken mid-layer (retried, resumed with a Range
request), a pull killed with SIGKILL (the next pull resumes), and concurrent pulls of the
same image (each layer downloaded and unpacked once, the store left whole)."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.image import layers as L

NSBOX = os.path.join(os.path.dirname(sys.executable), "nsbox")
BIG = L.layer([L.file(f"big{index}", os.urandom(1 << 20)) for index in range(4)])  # 4 MiB, incompressible


class Proxy:
    """An HTTP proxy in front of the registry that can break the first download of a blob.

    mode "cut": send part of the blob, then close the connection.
    mode "stall": send part of the blob, set `stalled`, and hang until `release` is set.
    mode "pass": no trouble.
    Every blob request's Range header is recorded in `ranges`; with ignore_range the
    registry never sees it (it answers 200 with the whole blob, as some servers do).
    """

    def __init__(self, upstream: str, digest: str, mode: str, sent_before_trouble: int = 1536 * 1024,
                 ignore_range: bool = False) -> None:
        self.ranges: list[str | None] = []
        self.stalled = threading.Event()
        self.release = threading.Event()
        proxy = self
        troubled = [False]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                connection = http.client.HTTPConnection(upstream, timeout=30)
                dropped = ("host", "range") if ignore_range else ("host",)
                headers = {name: value for name, value in self.headers.items() if name.lower() not in dropped}
                connection.request(self.command, self.path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                is_blob = f"/blobs/{digest}" in self.path and self.command == "GET"
                if is_blob:
                    proxy.ranges.append(self.headers.get("Range"))
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if is_blob and mode != "pass" and not troubled[0] and len(body) > sent_before_trouble:
                    troubled[0] = True
                    self.wfile.write(body[:sent_before_trouble])
                    self.wfile.flush()
                    if mode == "stall":
                        proxy.stalled.set()
                        proxy.release.wait(60)
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def big_image(registries, tmp_path_factory):
    """(registry, blob digest of the big layer): an image with one 4 MiB layer, pushed by skopeo."""
    registry = registries(None)
    layout = L.Layout(str(tmp_path_factory.mktemp("big-layout")))
    descriptor = layout.image([BIG])
    layout.name(descriptor, "big")
    registry.skopeo_push(layout.path, "big", "test/big")
    import json
    with open(os.path.join(layout.path, "blobs/sha256", descriptor["digest"][7:])) as manifest:
        return registry, json.load(manifest)["layers"][0]["digest"]


def wait_for_first_mib(root: str) -> None:
    """Until the stalled pull has written the first MiB it was sent to its .partial file."""
    ingest = os.path.join(root, "image/ingest")
    deadline = time.monotonic() + 30
    while not any(name.endswith(".partial") and os.path.getsize(os.path.join(ingest, name)) >= 1 << 20
                  for name in os.listdir(ingest)):
        assert time.monotonic() < deadline, "the pull never wrote the first MiB it was sent"
        time.sleep(0.01)


def store_is_clean(root: str) -> None:
    store = os.path.join(root, "image")
    assert os.listdir(os.path.join(store, "ingest")) == []
    assert [name for name in os.listdir(os.path.join(store, "layers")) if not name.isalnum()] == []
    assert [name for name in os.listdir(os.path.join(store, "blobs/sha256")) if ".tmp-" in name] == []


def test_a_connection_broken_mid_layer_is_resumed(big_image, store_root):
    registry, digest = big_image
    proxy = Proxy(registry.host, digest, "cut")
    try:
        result = subprocess.run([NSBOX, "--root", store_root, "pull", f"{proxy.host}/test/big:big"],
                                capture_output=True, text=True, timeout=120)
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stderr
    assert proxy.ranges[0] is None and len(proxy.ranges) == 2
    assert proxy.ranges[1].startswith("bytes=") and proxy.ranges[1] != "bytes=0-"
    from nsbox.image.store import ImageStore
    image = ImageStore(store_root).resolve(f"{proxy.host}/test/big:big")
    with open(os.path.join(image.layer_dirs()[0], "big3"), "rb") as content:
        assert len(content.read()) == 1 << 20
    store_is_clean(store_root)


def test_a_server_that_ignores_range_gets_the_whole_layer_again(big_image, store_root):
    registry, digest = big_image
    proxy = Proxy(registry.host, digest, "cut", ignore_range=True)
    try:
        result = subprocess.run([NSBOX, "--root", store_root, "pull", f"{proxy.host}/test/big:big"],
                                capture_output=True, text=True, timeout=120)
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stderr
    assert len(proxy.ranges) == 2 and proxy.ranges[1] is not None
    from nsbox.image.store import ImageStore
    image = ImageStore(store_root).resolve(f"{proxy.host}/test/big:big")
    with open(os.path.join(image.layer_dirs()[0], "big3"), "rb") as content:
        assert len(content.read()) == 1 << 20
    store_is_clean(store_root)


def test_a_killed_pull_is_resumed_by_the_next(big_image, store_root):
    registry, digest = big_image
    proxy = Proxy(registry.host, digest, "stall")
    try:
        first = subprocess.Popen([NSBOX, "--root", store_root, "pull", f"{proxy.host}/test/big:big"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert proxy.stalled.wait(60)
        wait_for_first_mib(store_root)
        first.send_signal(signal.SIGKILL)
        first.wait()
        proxy.release.set()
        second = subprocess.run([NSBOX, "--root", store_root, "pull", f"{proxy.host}/test/big:big"],
                                capture_output=True, text=True, timeout=120)
    finally:
        proxy.stop()
    assert second.returncode == 0, second.stderr
    assert proxy.ranges[-1] is not None and proxy.ranges[-1].startswith("bytes=")
    store_is_clean(store_root)


def test_concurrent_pulls_of_one_image_share_the_work(big_image, store_root):
    registry, digest = big_image
    proxy = Proxy(registry.host, digest, "pass")
    try:
        pulls = [subprocess.Popen([NSBOX, "--root", store_root, "pull", f"{proxy.host}/test/big:big"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = [(process.wait(120), process.stderr.read()) for process in pulls]
        for process in pulls:
            process.stderr.close()
    finally:
        proxy.stop()
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    assert len(proxy.ranges) == 1, "the layer was downloaded more than once"
    store = os.path.join(store_root, "image")
    assert len(os.listdir(os.path.join(store, "layers"))) == 1
    store_is_clean(store_root)
    listing = subprocess.run([NSBOX, "--root", store_root, "images", "-q"], capture_output=True, text=True)
    assert len(listing.stdout.split()) == 1


def test_ctrl_c_stops_a_pull_and_keeps_what_came_for_the_next(big_image, store_root):
    registry, digest = big_image
    proxy = Proxy(registry.host, digest, "stall")
    try:
        first = subprocess.Popen([NSBOX, "--root", store_root, "pull", f"{proxy.host}/test/big:big"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert proxy.stalled.wait(60)
        wait_for_first_mib(store_root)
        first.send_signal(signal.SIGINT)
        # a download blocked on a silent server must not hold the pull until the client's
        # 60 s socket timeout: ^C aborts the connections (a hang here fails, not a slow exit)
        assert first.wait(30) == 130
    finally:
        proxy.stop()
    from nsbox.image.store import ImageStore
    assert ImageStore(store_root).references() == {}
    assert [name for name in os.listdir(os.path.join(store_root, "image/layers")) if not name.endswith(".lock")] == []
    assert any(name.endswith(".partial") for name in os.listdir(os.path.join(store_root, "image/ingest")))
