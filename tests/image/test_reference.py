"""Image references are parsed as Docker parses them; bad ones are refused saying why."""
from __future__ import annotations

import pytest

from nsbox.errors import ImageError
from nsbox.image.reference import parse_reference

pytestmark = pytest.mark.needs_no_root  # pure logic: CI runs these as an unprivileged user too

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, full, endpoint", [
    ("busybox", "docker.io/library/busybox:latest", "registry-1.docker.io"),
    ("me/app:1.2", "docker.io/me/app:1.2", "registry-1.docker.io"),
    ("index.docker.io/library/alpine:3", "docker.io/library/alpine:3", "registry-1.docker.io"),
    ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000"),
    ("localhost/team/app:v_1.0-rc", "localhost/team/app:v_1.0-rc", "localhost"),
    ("registry.example.com/a__b/c-d---e.f:x", "registry.example.com/a__b/c-d---e.f:x", "registry.example.com"),
    (f"app@{DIGEST}", f"docker.io/library/app@{DIGEST}", "registry-1.docker.io"),
    (f"host:5000/app:tag@{DIGEST}", f"host:5000/app:tag@{DIGEST}", "host:5000"),
    ("[::1]:5000/x:y", "[::1]:5000/x:y", "[::1]:5000"),
])
def test_docker_normalisation(text, full, endpoint):
    reference = parse_reference(text)
    assert str(reference) == full
    assert reference.endpoint == endpoint


@pytest.mark.parametrize("text, why", [
    ("", "empty"),
    ("Busybox", "'Busybox'"),
    ("app:", "tag ''"),
    ("app:.hidden", "tag '.hidden'"),
    ("a_-b", "'a_-b'"),
    ("app@sha256:12", "digest"),
    ("host:port/app", "'host:port' is not a registry"),
    ("a//b", "component ''"),
])
def test_bad_references_are_refused_saying_why(text, why):
    with pytest.raises(ImageError) as caught:
        parse_reference(text)
    assert "invalid image reference" in str(caught.value) and why in str(caught.value)


def test_familiar_names():
    assert parse_reference("busybox").familiar() == "busybox:latest"
    assert parse_reference("me/app:2").familiar() == "me/app:2"
    assert parse_reference("127.0.0.1:5000/x").familiar() == "127.0.0.1:5000/x:latest"


def test_plain_http_only_for_loopback_and_listed_registries(tmp_path):
    from nsbox.image.pull import client_for
    root = str(tmp_path)
    assert client_for(root, parse_reference("127.0.0.1:5000/a")).scheme == "http"
    assert client_for(root, parse_reference("localhost:5000/a")).scheme == "http"
    assert client_for(root, parse_reference("registry.example:5000/a")).scheme == "https"
    assert client_for(root, parse_reference("registry.example:5000/a"), ("registry.example:5000",)).scheme == "http"
    (tmp_path / "registries.json").write_text('{"insecure-registries": ["registry.example:5000"]}')
    assert client_for(root, parse_reference("registry.example:5000/a")).scheme == "http"
    assert client_for(root, parse_reference("other.example/a")).scheme == "https"
    (tmp_path / "registries.json").write_text('{"insecure-registries": "registry.example:5000"}')
    with pytest.raises(ImageError, match="registries.json"):
        client_for(root, parse_reference("other.example/a"))
