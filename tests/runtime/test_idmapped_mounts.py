"""Bind mounts with uidMappings/gidMappings: the files' owners seen through the mapping."""
from __future__ import annotations

import os

MAPPING = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def idmapped_volume(source, destination="/mnt", user_ns=False, mapping=True, options=("rbind", "rw")):
    def edit(spec):
        mount = {"destination": destination, "type": "bind", "source": str(source), "options": list(options)}
        if mapping:
            mount["uidMappings"], mount["gidMappings"] = MAPPING, MAPPING
        spec["mounts"].append(mount)
        if user_ns:
            spec["linux"]["namespaces"].append({"type": "user"})
            spec["linux"]["uidMappings"], spec["linux"]["gidMappings"] = MAPPING, MAPPING
    return edit


def test_owner_is_seen_through_the_mapping(run_container, tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "owned-by-root").write_text("x")
    os.chown(volume / "owned-by-root", 0, 0)
    result = run_container(["stat", "-c", "%u:%g", "/mnt/owned-by-root"], idmapped_volume(volume))
    assert result.stdout.strip() == "100000:100000", result.stderr
    plain = run_container(["stat", "-c", "%u:%g", "/mnt/owned-by-root"], idmapped_volume(volume, mapping=False))
    assert plain.stdout.strip() == "0:0"
    assert os.stat(volume / "owned-by-root").st_uid == 0  # nothing chowned on the host


def test_user_namespace_root_owns_and_writes_the_hosts_root_files(run_container, tmp_path):
    """The Kubernetes case: a container whose root is host uid 100000 shares files owned by 0."""
    volume = tmp_path / "volume"
    volume.mkdir(mode=0o755)
    (volume / "old").write_text("x")
    script = "stat -c %u /mnt/old; echo new > /mnt/new && stat -c %u /mnt/new"
    result = run_container(["sh", "-c", script], idmapped_volume(volume, user_ns=True))
    assert result.stdout.split() == ["0", "0"], result.stderr
    assert os.stat(volume / "new").st_uid == 0  # stored as the host's root: the mapping went both ways
    unmapped = run_container(["sh", "-c", script], idmapped_volume(volume, user_ns=True, mapping=False))
    assert unmapped.returncode != 0  # without the mapping host uid 100000 cannot even reach the (0700) path


def test_idmap_option_takes_the_containers_mapping(run_container, tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "f").write_text("x")
    result = run_container(["stat", "-c", "%u", "/mnt/f"],
                           idmapped_volume(volume, user_ns=True, mapping=False, options=("rbind", "idmap")))
    assert result.stdout.strip() == "0", result.stderr


def test_idmapped_mount_errors_name_the_field(run_container, tmp_path):
    def half(spec):
        spec["mounts"].append({"destination": "/mnt", "type": "bind", "source": str(tmp_path), "options": ["rbind"],
                               "uidMappings": MAPPING})
    result = run_container(["true"], half)
    assert result.returncode == 125 and "mounts[7].gidMappings: an id-mapped mount needs both" in result.stderr
    def not_bind(spec):
        spec["mounts"].append({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": [],
                               "uidMappings": MAPPING, "gidMappings": MAPPING})
    result = run_container(["true"], not_bind)
    assert "only bind mounts can be id-mapped" in result.stderr
