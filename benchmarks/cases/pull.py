"""Case 7: pull of a multi-layer image from Debian's docker-registry on loopback, into an
empty store each time: nsbox pull (download, verify, unpack) vs skopeo copy to an OCI
directory (download and verify, no unpacking) vs skopeo copy + GNU tar unpacking each
layer (the same work as a pull, in C and Go) vs podman pull."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

from benchmarks.bench import REPO, Bench
from benchmarks.harness import Case, Contender, Skip, quiet

LAYERS = 5
FILES_PER_LAYER = 20
FILE_SIZE = 256 * 1024  # 5 layers x 20 files x 256 KiB = 25 MiB of incompressible data


def registry_image(bench: Bench) -> str:
    """The image pushed to a private registry (started once per run): its reference."""
    if not hasattr(bench, "pull_reference"):
        import sys
        sys.path.insert(0, REPO)
        from tests.image import layers as L
        from tests.image.conftest import Registry
        layout = L.Layout(os.path.join(bench.work, "pull-layout"))
        layers = []
        for number in range(LAYERS):
            entries = [L.directory(f"layer{number}")]
            entries += [L.file(f"layer{number}/file{index}", os.urandom(FILE_SIZE)) for index in range(FILES_PER_LAYER)]
            layers.append(L.layer(entries))
        layout.name(layout.image(layers), "bench")
        registry = Registry(os.path.join(bench.work, "registry"), None)
        bench.on_close(registry.stop)
        registry.skopeo_push(os.path.join(bench.work, "pull-layout"), "bench", "bench/image")
        bench.pull_reference = f"{registry.host}/bench/image:bench"  # type: ignore[attr-defined]
    return bench.pull_reference  # type: ignore[attr-defined]


def skopeo_then_tar(reference: str, directory: str) -> None:
    os.makedirs(directory)
    quiet(["skopeo", "copy", "--quiet", "--src-tls-verify=false", f"docker://{reference}", f"oci:{directory}/oci:bench"])
    with open(f"{directory}/oci/index.json") as index:
        manifest_digest = json.load(index)["manifests"][0]["digest"]
    with open(f"{directory}/oci/blobs/sha256/{manifest_digest[7:]}") as manifest:
        layers = [layer["digest"] for layer in json.load(manifest)["layers"]]
    for number, digest in enumerate(layers):
        target = f"{directory}/layer{number}"
        os.makedirs(target)
        quiet(["tar", "-xzf", f"{directory}/oci/blobs/sha256/{digest[7:]}", "-C", target])


def contenders(bench: Bench) -> list[Contender]:
    if not shutil.which("skopeo") or not shutil.which("docker-registry"):
        raise Skip("skopeo and docker-registry are needed to serve the image")
    reference = registry_image(bench)
    nsbox_root, oci_dir, tar_dir = (os.path.join(bench.work, name) for name in ("pull-nsbox", "pull-oci", "pull-tar"))

    def fresh(path: str):
        return lambda index: shutil.rmtree(path, ignore_errors=True)

    found = [
        Contender("nsbox", argv=[bench.nsbox[0], "--root", nsbox_root, "pull", reference], before=fresh(nsbox_root)),
        Contender("skopeo copy (oci dir, no unpack)", argv=["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                                                            f"docker://{reference}", f"oci:{oci_dir}:bench"],
                  before=fresh(oci_dir)),
        Contender("skopeo copy + tar -x", step=lambda index: skopeo_then_tar(reference, tar_dir), before=fresh(tar_dir)),
    ]
    if shutil.which("podman"):
        podman_dir = os.path.join(bench.work, "pull-podman")
        podman = ["podman", "--root", f"{podman_dir}/root", "--runroot", f"{podman_dir}/run", "--storage-driver",
                  "overlay"]

        def fresh_podman(index: int = 0) -> None:
            if os.path.isdir(podman_dir):
                subprocess.run([*podman, "system", "reset", "--force"], capture_output=True)
            shutil.rmtree(podman_dir, ignore_errors=True)

        found.append(Contender("podman pull", argv=[*podman, "pull", "--quiet", "--tls-verify=false", reference],
                               before=fresh_podman, teardown=fresh_podman))
    for contender, path in zip(found, (nsbox_root, oci_dir, tar_dir)):
        contender.teardown = lambda path=path: shutil.rmtree(path, ignore_errors=True)
    return found


CASES = [Case("pull", f"pull of a {LAYERS * FILES_PER_LAYER * FILE_SIZE >> 20} MiB image ({LAYERS} gzip layers) "
              "from a registry on loopback", contenders, order=60, runs=3, warmup=1, budget=0)]
