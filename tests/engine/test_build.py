"""nsbox build: real builds from Dockerfiles on the busybox image (no registry needed)."""
from __future__ import annotations

import json
import os
import shutil
import types

import pytest

MULTI_STAGE = """\
# a comment, and a line continuation below
ARG BASE=busybox
FROM ${BASE} AS builder
ARG WHO=world
RUN echo "built for $WHO" > /built.txt && \\
    mkdir -p /out && cp /built.txt /out/
FROM busybox
COPY --from=builder /out/built.txt /app/
COPY greeting.txt /app/
WORKDIR /app
ENV GREETING=hi NAME="two words"
RUN echo "$GREETING from $(pwd)" > /app/run.txt
USER 1000
CMD ["cat", "/app/built.txt"]
"""


def make_context(tmp_path, dockerfile: str, files: dict[str, str] | None = None) -> str:
    context = tmp_path / "context"
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        path = context / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(context)


def build(nsbox, context: str, *args: str, check: bool = True):
    return nsbox("build", *args, context, check=check, timeout=180)


def steps_cached(output: str) -> list[bool]:
    """For each STEP line after a FROM, whether the next line says CACHED."""
    lines = output.splitlines()
    return [lines[i + 1].strip() == "--> CACHED" for i, line in enumerate(lines)
            if line.startswith("STEP ") and ": FROM " not in line and i + 1 < len(lines)]


def test_multi_stage_build_with_args_env_user_workdir(nsbox, tmp_path):
    context = make_context(tmp_path, MULTI_STAGE, {"greeting.txt": "hello\n"})
    out = build(nsbox, context, "-t", "demo:1", "--build-arg", "WHO=nsbox").stdout
    assert "Successfully tagged demo:1" in out
    assert nsbox.out("run", "--rm", "demo:1") == "built for nsbox\n"
    inside = nsbox.out("run", "--rm", "demo:1", "sh", "-c", 'id -u; pwd; cat run.txt greeting.txt; echo "$NAME"')
    assert inside.splitlines() == ["1000", "/app", "hi from /app", "hello", "two words"]
    # the builder stage is not kept as an image; history and diff IDs match the layers
    assert sorted(nsbox.out("images", "--format", "{{.Repository}}").split()) == ["busybox", "demo"]
    config = json.loads(nsbox.out("image", "inspect", "demo:1"))[0]
    assert config["Config"]["User"] == "1000" and config["Config"]["WorkingDir"] == "/app"
    assert len(config["RootFS"]["Layers"]) == 1 + 3  # busybox + COPY, COPY, RUN (/app existed for WORKDIR)


def test_entrypoint_and_cmd_and_dockerfile_on_stdin(nsbox):
    dockerfile = 'FROM busybox\nENTRYPOINT ["echo", "entry"]\nCMD ["default", "args"]\nLABEL team=nsbox\n'
    nsbox("build", "-t", "ep", "-", input=dockerfile, stdin=None)
    assert nsbox.out("run", "--rm", "ep") == "entry default args\n"
    assert nsbox.out("run", "--rm", "ep", "given") == "entry given\n"
    labels = json.loads(nsbox.out("image", "inspect", "ep"))[0]["Config"]["Labels"]
    assert labels == {"team": "nsbox"}


def test_dockerignore_keeps_files_out_of_copy(nsbox, tmp_path):
    context = make_context(tmp_path, "FROM busybox\nCOPY . /ctx/\n",
                           {"keep.txt": "k", "secret.txt": "s", "logs/a.log": "l", ".dockerignore": "secret.txt\nlogs\n"})
    build(nsbox, context, "-t", "ctx")
    listing = nsbox.out("run", "--rm", "ctx", "find", "/ctx", "-type", "f").split()
    assert "/ctx/keep.txt" in listing and "/ctx/secret.txt" not in listing and "/ctx/logs/a.log" not in listing
    (tmp_path / "context" / "Dockerfile").write_text("FROM busybox\nCOPY secret.txt /\n")
    refused = build(nsbox, context, check=False)
    assert refused.returncode != 0 and ".dockerignore excludes it" in refused.stderr


def test_second_build_is_all_cached_and_a_changed_file_invalidates_the_steps_after_it(nsbox, tmp_path):
    dockerfile = "FROM busybox\nRUN echo one > /one\nCOPY data.txt /data.txt\nRUN cat /data.txt > /copy\nCMD cat /copy\n"
    context = make_context(tmp_path, dockerfile, {"data.txt": "first\n"})
    first = build(nsbox, context, "-t", "cached")
    assert steps_cached(first.stdout) == [False, False, False, False]
    second = build(nsbox, context, "-t", "cached")
    assert steps_cached(second.stdout) == [True, True, True, True]
    assert second.stdout.splitlines()[-2] == first.stdout.splitlines()[-2]  # the same image ID
    (tmp_path / "context" / "data.txt").write_text("second\n")
    third = build(nsbox, context, "-t", "cached")
    assert steps_cached(third.stdout) == [True, False, False, False]
    assert nsbox.out("run", "--rm", "cached") == "second\n"
    assert steps_cached(build(nsbox, context, "--no-cache", "-t", "cached").stdout) == [False] * 4
    nsbox("builder", "prune", "-f")
    assert steps_cached(build(nsbox, context, "-t", "cached").stdout) == [False] * 4


def test_a_failing_run_names_its_line_and_leaves_nothing(nsbox, tmp_path):
    context = make_context(tmp_path, "FROM busybox\nRUN true\n\nRUN echo about to fail && exit 3\nCMD true\n")
    failed = build(nsbox, context, "-t", "broken", check=False)
    assert failed.returncode != 0
    assert "Dockerfile:4: RUN exited 3" in failed.stderr
    assert "about to fail" in failed.stdout
    assert nsbox.out("ps", "-a", "-q") == ""
    image_dir = os.path.join(nsbox.root, "image")
    assert not [name for name in os.listdir(image_dir) if name.startswith("build-")]
    assert "broken" not in nsbox.out("images")


def test_hostile_context_symlink_stays_a_symlink_and_parent_paths_are_refused(nsbox, tmp_path):
    context = make_context(tmp_path, "FROM busybox\nCOPY link /link\n")
    os.symlink("/etc/shadow", os.path.join(context, "link"))
    build(nsbox, context, "-t", "links")
    assert nsbox.out("run", "--rm", "links", "readlink", "/link") == "/etc/shadow\n"
    (tmp_path / "context" / "Dockerfile").write_text("FROM busybox\nCOPY ../outside /x\n")
    (tmp_path / "outside").write_text("host file\n")
    refused = build(nsbox, context, check=False)
    assert refused.returncode == 125 and "outside the build context" in refused.stderr


@pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed")
def test_built_image_saved_loads_and_runs_in_podman(nsbox, tmp_path):
    from tests.interop.test_podman import Podman
    from tests.leaks import remove_cgroup_tree
    context = make_context(tmp_path, MULTI_STAGE, {"greeting.txt": "hello\n"})
    build(nsbox, context, "-t", "localhost/demo:podman", "--build-arg", "WHO=podman")
    archive = str(tmp_path / "demo.tar")
    nsbox("save", "-o", archive, "localhost/demo:podman")
    runc = types.SimpleNamespace(binary=shutil.which("runc"), root=str(tmp_path / "runc-state"))
    podman = Podman(str(tmp_path), runc)
    try:
        podman("load", "-i", archive)
        ran = podman(*podman.run_args("--rm", "localhost/demo:podman"))
        assert ran.stdout == "built for podman\n"
    finally:
        podman.stop()
        remove_cgroup_tree(podman.parent)


def test_target_stage_quiet_iidfile_and_a_tar_context_on_stdin(nsbox, tmp_path):
    import io
    import tarfile
    dockerfile = "FROM busybox AS first\nRUN echo first > /stage\nFROM busybox AS second\nRUN echo second > /stage\n"
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        entry = tarfile.TarInfo("Dockerfile")
        entry.size = len(dockerfile)
        archive.addfile(entry, io.BytesIO(dockerfile.encode()))
    iidfile = tmp_path / "iid"
    built = nsbox("build", "-q", "--target", "first", "--iidfile", str(iidfile), "-t", "staged", "-",
                  input=data.getvalue(), stdin=None, text=False)
    image_id = built.stdout.decode().strip()
    assert image_id.startswith("sha256:") and iidfile.read_text() == image_id  # -q: the ID alone on stdout
    assert nsbox.out("run", "--rm", "staged", "cat", "/stage") == "first\n"
    missing = nsbox("build", "--target", "nosuch", "-", input=dockerfile, stdin=None, check=False)
    assert missing.returncode == 125 and "no stage named 'nosuch'" in missing.stderr


@pytest.mark.skipif(shutil.which("dockerd") is None, reason="dockerd is not installed (apt-get install docker.io)")
def test_built_image_saved_loads_and_runs_in_docker(nsbox, tmp_path):
    from tests.interop.daemons import Dockerd
    from tests.interop.conftest import cgroup_parent
    from tests.interop.runtimes import make_runtime
    from tests.leaks import remove_cgroup_tree
    context = make_context(tmp_path, MULTI_STAGE, {"greeting.txt": "hello\n"})
    build(nsbox, context, "-t", "demo:docker", "--build-arg", "WHO=docker")
    archive = str(tmp_path / "demo.tar")
    nsbox("save", "-o", archive, "demo:docker")
    parent = cgroup_parent(f"build-docker-{tmp_path.name[-12:]}")
    daemon = Dockerd(str(tmp_path), [make_runtime("runc", str(tmp_path))], parent)
    try:
        daemon.docker("load", "-i", archive)
        assert daemon.docker("run", "--rm", "--network", "none", "demo:docker").stdout == "built for docker\n"
        assert daemon.docker("run", "--rm", "--network", "none", "demo:docker", "id", "-u").stdout == "1000\n"
    finally:
        daemon.stop()
        remove_cgroup_tree(parent)
