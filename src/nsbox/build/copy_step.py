"""COPY and ADD: sources from the context (or an earlier stage) into the step's snapshot,
with --chown (names looked up in the image's own /etc/passwd and /etc/group) and --chmod;
ADD unpacks a local tar archive (with the image unpacker's guards) instead of copying it."""
from __future__ import annotations

import os
import tarfile

from nsbox.build import steps
from nsbox.errors import ConfigError


def copy_step(builder, stage, instruction, sources, merged: str, at: str) -> None:
    words, found = sources
    destination = words[-1]
    workdir = stage.config.get("WorkingDir") or "/"
    owner = _owner(instruction.flags.get("chown"), merged, at)
    mode = _mode(instruction.flags.get("chmod"), at)
    if not isinstance(found, list):  # COPY --from=STAGE: the paths inside that stage's filesystem
        from nsbox.build.layers import Snapshot
        with Snapshot(builder.store, found.layers, found.diff_ids, builder.workdir) as other:
            from nsbox.linux.mounts import resolve_in_root
            inside = []
            for word in words[:-1]:
                host = resolve_in_root(other.merged, word if word.startswith("/") else "/" + word)
                if not os.path.lexists(host):
                    raise ConfigError(at, f"COPY --from={instruction.flags['from']}: {word} does not exist there")
                inside.append((os.path.basename(word.rstrip("/")) or word, host))
            steps.copy_into(merged, inside, destination, workdir, owner, mode, at)
        return
    if instruction.keyword == "ADD":
        archives = [(relative, host) for relative, host in found if _is_archive(host)]
        found = [item for item in found if item not in archives]
        for _, host in archives:
            _unpack_into(merged, host, destination, workdir)
        if not found:
            return
    context = builder.context
    steps.copy_into(merged, found, destination, workdir, owner, mode, at,
                    keep=lambda path: not context.ignore.excluded(path))


def _is_archive(path: str) -> bool:
    return os.path.isfile(path) and not os.path.islink(path) and tarfile.is_tarfile(path)


def _unpack_into(merged: str, archive: str, destination: str, workdir: str) -> None:
    """ADD of a local tar (plain, gzip, zstd): unpacked into the destination directory."""
    import tempfile

    from nsbox.image.unpack import unpack_layer
    from nsbox.linux.mounts import resolve_in_root
    target = resolve_in_root(merged, destination if destination.startswith("/") else os.path.join(workdir, destination))
    os.makedirs(target, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(merged)) as scratch:
        unpack_layer(archive, scratch, f"ADD {os.path.basename(archive)}")
        steps.copy_into(merged, [(name, os.path.join(scratch, name)) for name in sorted(os.listdir(scratch))],
                        target[len(merged):] + "/", "/", None, None, "")


def _owner(text: str | None, merged: str, at: str) -> tuple[int, int] | None:
    if not text:
        return None
    user, _, group = text.partition(":")
    uid = _lookup(user, os.path.join(merged, "etc/passwd"), at, "user")
    gid = _lookup(group, os.path.join(merged, "etc/group"), at, "group") if group else uid
    return uid, gid


def _lookup(name: str, database: str, at: str, what: str) -> int:
    if name.isdigit():
        return int(name)
    try:
        with open(database) as lines:
            for line in lines:
                fields = line.split(":")
                if fields[0] == name and len(fields) > 2:
                    return int(fields[2])
    except OSError:
        pass
    raise ConfigError(at, f"--chown: no {what} {name!r} in the image's /{os.path.relpath(database, os.path.dirname(os.path.dirname(database)))}")


def _mode(text: str | None, at: str) -> int | None:
    if not text:
        return None
    try:
        return int(text, 8)
    except ValueError:
        raise ConfigError(at, f"--chmod={text}: give an octal mode such as 755") from None
