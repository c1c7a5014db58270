"""Pull from and push to a real registry (docker-registry on loopback) whose images were put
there by skopeo: without auth, with htpasswd basic auth, and behind a bearer-token realm."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from tests.image import layers as L
from tests.image.conftest import PASSWORD, USER

NSBOX = os.path.join(os.path.dirname(sys.executable), "nsbox")

BASE = L.layer([L.directory("etc"), L.file("etc/keep", b"kept\n"), L.file("etc/gone", b"deleted above\n"),
                L.directory("data"), L.directory("data/old"), L.file("data/old/file1", b"1"),
                L.directory("data/old/sub"), L.file("data/old/sub/x", b"x"),
                L.directory("data/replaced"), L.file("data/replaced/inner", b"inner")])
UPPER = L.layer([L.file("etc/.wh.gone"), L.directory("data/old"), L.file("data/old/.wh..wh..opq"),
                 L.file("data/old/new", b"new"), L.file("data/.wh.replaced"), L.file("data/replaced", b"now a file")])


def nsbox(root: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([NSBOX, "--root", root, *args], capture_output=True, text=True, input=input, timeout=120)


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """An OCI layout with `v1` (a whiteout image) and `multi` (an amd64 + arm64 index)."""
    built = L.Layout(str(tmp_path_factory.mktemp("layout")))
    built.name(built.image([BASE, UPPER], {"Cmd": ["sh"], "Env": ["A=1"], "WorkingDir": "/data"}), "v1")
    amd64 = built.image([L.layer([L.file("arch", b"amd64\n")])], architecture="amd64")
    arm64 = built.image([L.layer([L.file("arch", b"arm64\n")])], architecture="arm64", variant="v8")
    built.name(built.index([amd64, arm64]), "multi")
    built.name(built.image([BASE, L.layer([L.file("etc/other", b"another image on the same base")])]), "sibling")
    return built.path


@pytest.fixture(scope="module", params=[None, "basic", "token"], ids=["anonymous", "basic-auth", "bearer-token"])
def registry(request, registries, layout):
    registry = registries(request.param)
    registry.skopeo_push(layout, "v1", "test/whiteouts")
    registry.skopeo_push(layout, "multi", "test/multi", all_images=True)
    registry.skopeo_push(layout, "multi", "test/multilist", all_images=True, docker_format=True)
    registry.skopeo_push(layout, "sibling", "test/sibling")
    return registry


def login(root: str, registry) -> None:
    if registry.auth is not None:
        result = nsbox(root, "login", "-u", USER, "--password-stdin", registry.host, input=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr
        assert "Login Succeeded" in result.stdout


def test_pull_unpacks_whiteouts_and_opaque_dirs(registry, store_root):
    login(store_root, registry)
    result = nsbox(store_root, "pull", f"{registry.host}/test/whiteouts:v1")
    assert result.returncode == 0, result.stderr
    from nsbox.image.store import ImageStore
    image = ImageStore(store_root).resolve(f"{registry.host}/test/whiteouts:v1")
    assert image.config.cmd == ["sh"] and image.config.working_dir == "/data" and image.config.env == ["A=1"]
    base, upper = image.layer_dirs()
    with open(os.path.join(base, "etc/gone")) as gone:
        assert gone.read() == "deleted above\n"
    whiteout = os.lstat(os.path.join(upper, "etc/gone"))
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == 0
    assert os.getxattr(os.path.join(upper, "data/old"), "trusted.overlay.opaque") == b"y"
    assert not os.path.exists(os.path.join(upper, "data/old/.wh..wh..opq"))
    assert os.path.isfile(os.path.join(upper, "data/replaced"))

    from nsbox.image.rootfs import prepare_rootfs, remove_rootfs
    merged = prepare_rootfs(store_root, f"{registry.host}/test/whiteouts:v1", "c1")
    try:
        assert sorted(os.listdir(os.path.join(merged, "etc"))) == ["keep"]
        assert os.listdir(os.path.join(merged, "data/old")) == ["new"]
        with open(os.path.join(merged, "data/replaced")) as replaced:
            assert replaced.read() == "now a file"
    finally:
        remove_rootfs(store_root, "c1")


def test_pull_without_login_is_refused_where_the_registry_wants_one(registry, store_root):
    result = nsbox(store_root, "pull", f"{registry.host}/test/whiteouts:v1")
    if registry.auth == "basic":
        assert result.returncode == 125
        assert "nsbox login" in result.stderr and registry.host in result.stderr
    else:  # anonymous registry, or a token realm that grants anonymous pulls (as Docker Hub does)
        assert result.returncode == 0, result.stderr


def test_login_with_a_wrong_password_fails_and_saves_nothing(registry, store_root):
    if registry.auth is None:
        pytest.skip("the anonymous registry accepts anyone")
    result = nsbox(store_root, "login", "-u", USER, "-p", "wrong", registry.host)
    assert result.returncode == 125
    assert registry.host in result.stderr
    assert not os.path.exists(os.path.join(store_root, "auth.json"))


@pytest.mark.parametrize("repository", ["test/multi", "test/multilist"], ids=["oci-index", "docker-manifest-list"])
def test_multi_arch_index_picks_this_machine_or_the_asked_platform(registry, repository, tmp_path):
    if os.uname().machine != "x86_64":
        pytest.skip("the index offers amd64 and arm64; this test expects to run on amd64")
    if repository == "test/multilist":
        raw = registry.skopeo_inspect(f"{repository}:multi", raw=True)
        assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    for platform, expected, root in ((None, "amd64\n", str(tmp_path / "a")),
                                     ("linux/arm64", "arm64\n", str(tmp_path / "b"))):
        login(root, registry)
        result = nsbox(root, "pull", *(["--platform", platform] if platform else []), f"{registry.host}/{repository}:multi")
        assert result.returncode == 0, result.stderr
        from nsbox.image.store import ImageStore
        image = ImageStore(root).resolve(f"{registry.host}/{repository}:multi")
        with open(os.path.join(image.layer_dirs()[0], "arch")) as arch:
            assert arch.read() == expected
    login(str(tmp_path / "c"), registry)
    result = nsbox(str(tmp_path / "c"), "pull", "--platform", "linux/s390x", f"{registry.host}/{repository}:multi")
    assert result.returncode == 125
    assert "linux/amd64" in result.stderr and "linux/arm64/v8" in result.stderr


def test_push_back_then_pull_by_digest(registry, tmp_path):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    login(first, registry)
    assert nsbox(first, "pull", f"{registry.host}/test/whiteouts:v1").returncode == 0
    target = f"{registry.host}/test/pushed:v2"
    assert nsbox(first, "tag", f"{registry.host}/test/whiteouts:v1", target).returncode == 0
    pushed = nsbox(first, "push", target)
    assert pushed.returncode == 0, pushed.stderr
    digest = pushed.stdout.split("Digest: ")[1].split()[0]
    # an independent tool sees what nsbox pushed, under the same digest
    seen = registry.skopeo_inspect("test/pushed:v2")
    assert seen["Digest"] == digest
    login(second, registry)
    pulled = nsbox(second, "pull", f"{registry.host}/test/pushed@{digest}")
    assert pulled.returncode == 0, pulled.stderr
    listing = [json.loads(line) for line in nsbox(second, "images", "--no-trunc", "--format", "json").stdout.splitlines()]
    original = json.loads(nsbox(first, "image", "inspect", target).stdout)[0]
    assert [row["ID"] for row in listing] == [original["Id"]]
    assert listing[0]["Digest"] == digest


def test_push_without_permission_is_refused(registry, tmp_path):
    if registry.auth is None:
        pytest.skip("the anonymous registry lets anyone push")
    root = str(tmp_path / "r")
    login(root, registry)
    assert nsbox(root, "pull", f"{registry.host}/test/whiteouts:v1").returncode == 0
    assert nsbox(root, "logout", registry.host).returncode == 0
    result = nsbox(root, "push", f"{registry.host}/test/whiteouts:v1")
    assert result.returncode == 125
    assert registry.host in result.stderr


def test_unknown_tag_and_unreachable_registry_are_named(registry, store_root):
    login(store_root, registry)
    result = nsbox(store_root, "pull", f"{registry.host}/test/whiteouts:nope")
    assert result.returncode == 125 and "nope" in result.stderr
    result = nsbox(store_root, "pull", "127.0.0.1:1/none:latest")
    assert result.returncode == 125 and "127.0.0.1:1" in result.stderr
    from nsbox.image.store import ImageStore
    assert ImageStore(store_root).references() == {}


def test_credentials_from_docker_config(registry, store_root, tmp_path, monkeypatch):
    if registry.auth is None:
        pytest.skip("the anonymous registry needs no credentials")
    import base64
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker_config / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))
    result = nsbox(store_root, "push", f"{registry.host}/test/whiteouts:v1")
    # Not pulled yet: nothing to push. A missing image exits 1, as Docker's push does.
    assert result.returncode == 1 and "whiteouts:v1" in result.stderr and "not in the store" in result.stderr
    result = nsbox(store_root, "pull", f"{registry.host}/test/whiteouts:v1")
    assert result.returncode == 0, result.stderr
    result = nsbox(store_root, "push", f"{registry.host}/test/whiteouts:v1")
    assert result.returncode == 0, result.stderr
    assert not os.path.exists(os.path.join(store_root, "auth.json"))


def test_docker_schema2_manifests(registry, store_root, layout):
    command = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--format", "v2s2", *registry.creds(),
               f"oci:{layout}:v1", f"docker://{registry.host}/test/schema2:v1"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    raw = registry.skopeo_inspect("test/schema2:v1", raw=True)
    assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    login(store_root, registry)
    result = nsbox(store_root, "pull", f"{registry.host}/test/schema2:v1")
    assert result.returncode == 0, result.stderr
    inspect = json.loads(nsbox(store_root, "image", "inspect", f"{registry.host}/test/schema2:v1").stdout)[0]
    assert inspect["Config"]["WorkingDir"] == "/data" and len(inspect["LayerDirs"]) == 2


def test_images_sharing_a_layer_store_and_unpack_it_once(registry, store_root):
    login(store_root, registry)
    for name in ("test/whiteouts:v1", "test/sibling:sibling"):
        result = nsbox(store_root, "pull", f"{registry.host}/{name}")
        assert result.returncode == 0, result.stderr
    from nsbox.image.store import ImageStore
    store = ImageStore(store_root)
    first, second = (store.resolve(f"{registry.host}/{name}") for name in ("test/whiteouts:v1", "test/sibling:sibling"))
    assert first.layer_dirs()[0] == second.layer_dirs()[0]
    assert len(os.listdir(store.layers)) == 3
    # removing one image keeps the shared layer for the other
    assert nsbox(store_root, "rmi", f"{registry.host}/test/whiteouts:v1").returncode == 0
    assert sorted(os.listdir(store.layers)) == sorted(os.path.basename(path) for path in second.layer_dirs())


def test_zstd_compressed_layers(registry, store_root, tmp_path):
    # fresh content: skopeo would otherwise send the gzip blobs it remembers for the same layers;
    # it compresses into an OCI directory, which then goes to the registry as it is
    plain = L.Layout(str(tmp_path / "plain"))
    marker = os.urandom(16).hex().encode()
    plain.name(plain.image([L.layer([L.directory("etc"), L.file("etc/marker", marker)]),
                            L.layer([L.file("etc/.wh.marker"), L.file("etc/zstd", b"zstd")])], gzipped=False), "v1")
    zstd_layout = str(tmp_path / "zstd-layout")
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-compress-format", "zstd", f"oci:{plain.path}:v1",
                    f"oci:{zstd_layout}:v1"], check=True, capture_output=True, timeout=120)
    registry.skopeo_push(zstd_layout, "v1", "test/zstd")
    raw = registry.skopeo_inspect("test/zstd:v1", raw=True)
    assert {layer["mediaType"] for layer in raw["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    login(store_root, registry)
    result = nsbox(store_root, "pull", f"{registry.host}/test/zstd:v1")
    assert result.returncode == 0, result.stderr
    from nsbox.image.store import ImageStore
    lower, upper = ImageStore(store_root).resolve(f"{registry.host}/test/zstd:v1").layer_dirs()
    with open(os.path.join(lower, "etc/marker"), "rb") as content:
        assert content.read() == marker
    whiteout = os.lstat(os.path.join(upper, "etc/marker"))
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == 0
    assert os.path.isfile(os.path.join(upper, "etc/zstd"))


def _many_layers_image(layout_dir: str, wrong_diff_id_at: int | None = None) -> str:
    """An image of more layers than a pull downloads at once (nine), tagged `many`; with
    `wrong_diff_id_at`, the config names a wrong diff ID for that layer."""
    import gzip

    from nsbox.image.pull import PARALLEL_DOWNLOADS
    layout = L.Layout(layout_dir)
    layers = [L.layer([L.file(f"layer{index}", os.urandom(300_000))]) for index in range(PARALLEL_DOWNLOADS + 3)]
    diff_ids = [L.sha256(data) for data in layers]
    if wrong_diff_id_at is not None:
        diff_ids[wrong_diff_id_at] = L.sha256(b"something else")
    config = layout.blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode(),
                         "application/vnd.oci.image.config.v1+json")
    blobs = [layout.blob(gzip.compress(data, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip") for data in layers]
    manifest = layout.blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                       "config": config, "layers": blobs}).encode(),
                           "application/vnd.oci.image.manifest.v1+json")
    layout.name(manifest, "many")
    return layout.path


def test_more_layers_than_parallel_downloads(registries, store_root, tmp_path):
    from nsbox.image.store import ImageStore
    registry = registries(None)
    registry.skopeo_push(_many_layers_image(str(tmp_path / "layout")), "many", "test/many")
    result = nsbox(store_root, "pull", f"{registry.host}/test/many:many")
    assert result.returncode == 0, result.stderr
    directories = ImageStore(store_root).resolve(f"{registry.host}/test/many:many").layer_dirs()
    assert [os.listdir(directory) for directory in directories] == [[f"layer{index}"] for index in range(9)]


def test_one_bad_layer_of_many_fails_the_pull_and_leaves_no_layer_half_made(registries, store_root, tmp_path):
    from nsbox.image.store import ImageStore
    registry = registries(None)
    registry.skopeo_push(_many_layers_image(str(tmp_path / "layout"), wrong_diff_id_at=1), "many", "test/bad")
    result = nsbox(store_root, "pull", f"{registry.host}/test/bad:many")
    assert result.returncode == 125
    assert "uncompressed content is" in result.stderr and "the image config says" in result.stderr
    store = ImageStore(store_root)
    assert store.references() == {}
    assert not [name for name in os.listdir(store.layers) if name.startswith(".tmp-")]
