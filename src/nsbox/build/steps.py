"""What each instruction does to a stage. Metadata instructions change the image config;
RUN, COPY, ADD and WORKDIR change files in a snapshot and become a layer. Each returns
the outcome the cache keeps: {"layer", "diff_id", "config", "history"}."""
from __future__ import annotations

import copy
import os
import shutil
import time

from nsbox.build.dockerfile import Instruction
from nsbox.build.stage import Stage
from nsbox.build.words import pairs, substitute
from nsbox.errors import ConfigError

# instructions whose arguments get variables substituted (Docker's list)
SUBSTITUTED = {"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG"}


def created() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def outcome(config: dict, created_by: str, layer=None, diff_id: str = "") -> dict:
    history: dict[str, object] = {"created": created(), "created_by": created_by}
    if layer is None:
        history["empty_layer"] = True
    return {"layer": None if layer is None else {"mediaType": layer.media_type, "digest": layer.digest,
                                                  "size": layer.size},
            "diff_id": diff_id, "config": config, "history": history}


def where(instruction: Instruction, dockerfile: str) -> str:
    return f"{dockerfile}:{instruction.line}"


def argument(instruction: Instruction, stage: Stage) -> str:
    if instruction.keyword in SUBSTITUTED:
        return substitute(instruction.text, stage.env())
    return instruction.text


def command_form(instruction: Instruction, stage: Stage) -> list[str]:
    """Exec form as written; shell form run by the stage's SHELL."""
    return list(instruction.json) if instruction.json is not None else stage.shell() + [instruction.text]


def metadata(instruction: Instruction, stage: Stage, at: str) -> dict:
    """The new config after an instruction that changes no file."""
    config = copy.deepcopy(stage.config)
    keyword, text = instruction.keyword, argument(instruction, stage)
    if keyword == "ENV":
        for name, value in pairs(text, at, "ENV"):
            config["Env"] = [i for i in config.get("Env") or [] if i.partition("=")[0] != name] + [f"{name}={value}"]
    elif keyword in ("LABEL", "MAINTAINER"):
        items = pairs(text, at, "LABEL") if keyword == "LABEL" else [("maintainer", text)]
        config["Labels"] = dict(config.get("Labels") or {}, **dict(items))
    elif keyword == "USER":
        config["User"] = text
    elif keyword == "CMD":
        config["Cmd"] = command_form(instruction, stage)
    elif keyword == "ENTRYPOINT":
        config["Entrypoint"] = command_form(instruction, stage)
        if not stage.cmd_set:
            config["Cmd"] = None  # Docker: a new ENTRYPOINT drops the CMD it inherited
    elif keyword == "EXPOSE":
        for port in text.split():
            config.setdefault("ExposedPorts", {})[port if "/" in port else f"{port}/tcp"] = {}
    elif keyword == "VOLUME":
        volumes = instruction.json if instruction.json is not None else text.split()
        for volume in volumes:
            config.setdefault("Volumes", {})[volume] = {}
    elif keyword == "STOPSIGNAL":
        config["StopSignal"] = text
    elif keyword == "SHELL":
        if instruction.json is None or not instruction.json:
            raise ConfigError(at, "SHELL needs the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]")
        config["Shell"] = list(instruction.json)
    elif keyword == "ONBUILD":
        config["OnBuild"] = list(config.get("OnBuild") or []) + [text]
    elif keyword == "HEALTHCHECK":
        config["Healthcheck"] = _healthcheck(instruction, text, at)
    return config


def _healthcheck(instruction: Instruction, text: str, at: str) -> dict:
    if text.upper() == "NONE":
        return {"Test": ["NONE"]}
    keyword, _, rest = text.partition(" ")
    if keyword.upper() != "CMD":
        raise ConfigError(at, "HEALTHCHECK needs NONE or [OPTIONS] CMD command")
    rest = rest.strip()
    import json
    test = ["CMD"] + json.loads(rest) if rest.startswith("[") else ["CMD-SHELL", rest]
    check: dict = {"Test": test}
    durations = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod",
                 "start-interval": "StartInterval"}
    for flag, value in instruction.flags.items():
        if flag in durations:
            check[durations[flag]] = _nanoseconds(value, f"{at}: HEALTHCHECK --{flag}")
        elif flag == "retries":
            check["Retries"] = int(value)
    return check


def _nanoseconds(text: str, where: str) -> int:
    """A Go duration ("30s", "1m30s", "500ms") in nanoseconds."""
    import re
    units = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ConfigError(where, f"{text!r} is not a duration such as 30s or 1m30s")
    return int(sum(float(number) * units[unit] for number, unit in parts))


def created_by(instruction: Instruction, text: str) -> str:
    if instruction.keyword == "RUN":
        return f"RUN {text}"
    return f"/bin/sh -c #(nop) {instruction.keyword} {text}"


def copy_into(merged: str, sources: list[tuple[str, str]], destination: str, workdir: str,
              owner: tuple[int, int] | None, mode: int | None, at: str, keep=None) -> None:
    """Docker's COPY rules: a directory's contents are copied, a file into a directory that
    exists or is named with a trailing /, or as the named file; symlinks stay symlinks;
    parent directories are made. Every path is resolved inside the image's root."""
    from nsbox.linux.mounts import resolve_in_root
    target = destination if destination.startswith("/") else os.path.join(workdir or "/", destination)
    into_directory = destination.endswith("/") or len(sources) > 1
    host_target = resolve_in_root(merged, target)
    if into_directory or os.path.isdir(host_target):
        os.makedirs(host_target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(host_target), exist_ok=True)
    for relative, host in sources:
        if os.path.isdir(host) and not os.path.islink(host):
            _copy_tree(host, host_target, relative, keep)
            _own(host_target, owner, None)
            continue
        final = os.path.join(host_target, os.path.basename(relative)) if os.path.isdir(host_target) else host_target
        shutil.copy2(host, final, follow_symlinks=False)
        _own(final, owner, mode)
    if owner is not None or mode is not None:
        for relative, host in sources:
            if os.path.isdir(host) and not os.path.islink(host):
                for path in _all_under(host_target):
                    _own(path, owner, mode)


def _copy_tree(source: str, target: str, relative: str, keep) -> None:
    for directory, dirnames, filenames in os.walk(source):
        dirnames.sort()
        base = os.path.relpath(directory, source)
        out_dir = target if base == "." else os.path.join(target, base)
        os.makedirs(out_dir, exist_ok=True)
        shutil.copystat(directory, out_dir, follow_symlinks=False)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]:
            path_in_context = os.path.normpath(os.path.join(relative, base, name))
            if keep is not None and not keep(path_in_context):
                continue
            shutil.copy2(os.path.join(directory, name), os.path.join(out_dir, name), follow_symlinks=False)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(directory, d))
                       and (keep is None or keep(os.path.normpath(os.path.join(relative, base, d))))]


def _all_under(top: str):
    for directory, dirnames, filenames in os.walk(top):
        yield directory
        for name in filenames + dirnames:
            yield os.path.join(directory, name)


def _own(path: str, owner: tuple[int, int] | None, mode: int | None) -> None:
    if owner is not None:
        os.lchown(path, *owner)
    if mode is not None and not os.path.islink(path):
        os.chmod(path, mode)
