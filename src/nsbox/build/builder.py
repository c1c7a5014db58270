"""Run a Dockerfile's stages step by step, through the cache, and write the target stage as
an image. RUN steps run in nsbox containers (the engine) on an overlay snapshot."""
from __future__ import annotations

import os
import tempfile
import time

from nsbox.build import steps
from nsbox.build.cache import BuildCache, step_key
from nsbox.build.context import Context
from nsbox.build.dockerfile import Instruction
from nsbox.build.layers import Snapshot
from nsbox.build.stage import Stage
from nsbox.build.words import substitute
from nsbox.errors import ConfigError, ContainerStartError, ImageNotFound
from nsbox.image.store import ImageStore

FILE_STEPS = {"RUN", "COPY", "ADD", "WORKDIR"}


class BuildOptions:
    __slots__ = ("tags", "build_args", "target", "no_cache", "pull", "network", "labels", "platform",
                 "dockerfile_name", "say")

    def __init__(self, tags=(), build_args=None, target=None, no_cache=False, pull=False, network=None,
                 labels=None, platform=None, dockerfile_name="Dockerfile", say=print) -> None:
        self.tags = list(tags)
        self.build_args: dict[str, str] = dict(build_args or {})
        self.target = target
        self.no_cache = no_cache
        self.pull = pull
        self.network = network
        self.labels: dict[str, str] = dict(labels or {})
        self.platform = platform
        self.dockerfile_name = dockerfile_name
        self.say = say


class Builder:
    def __init__(self, root: str, context: Context, instructions: list[Instruction], options: BuildOptions) -> None:
        from nsbox.image.platform import host_platform
        self.root = root
        self.store = ImageStore(root)
        self.store.create()
        self.context = context
        self.options = options
        self.cache = BuildCache(root)
        self.stages: list[Stage] = []
        host = host_platform()
        self.platform = tuple(options.platform.split("/")[:2]) if options.platform else (host.os, host.architecture)
        self.global_args, self.stage_instructions = _split_stages(instructions, self._where)
        self.steps_total = sum(len(s) for s in self.stage_instructions)
        self.step_number = 0
        self.workdir = tempfile.mkdtemp(prefix="build-", dir=self.store.path)

    def _where(self, instruction: Instruction) -> str:
        return steps.where(instruction, self.options.dockerfile_name)

    def build(self):
        """Build up to the target stage; returns the image written to the store."""
        from nsbox.linux.store_files import remove_tree
        try:
            last = self._target_index()
            for index, instructions in enumerate(self.stage_instructions[:last + 1]):
                self._run_stage(index, instructions)
            return self._write_image(self.stages[last])
        finally:
            remove_tree(self.workdir)

    def _target_index(self) -> int:
        if not self.options.target:
            return len(self.stage_instructions) - 1
        for index, instructions in enumerate(self.stage_instructions):
            if _stage_name(instructions[0]) == self.options.target.lower():
                return index
        raise ConfigError("--target", f"no stage named {self.options.target!r} in {self.options.dockerfile_name}")

    def _run_stage(self, index: int, instructions: list[Instruction]) -> None:
        stage = Stage(_stage_name(instructions[0]) or str(index), index, self.platform)
        self.stages.append(stage)
        self._from(stage, instructions[0])
        for instruction in instructions[1:]:
            self._step(stage, instruction)

    def _announce(self, instruction: Instruction) -> float:
        self.step_number += 1
        self.options.say(f"STEP {self.step_number}/{self.steps_total}: {instruction.source}")
        return time.monotonic()

    def _from(self, stage: Stage, instruction: Instruction) -> None:
        self._announce(instruction)
        variables = {name: self.options.build_args.get(name, default or "") for name, default in self.global_args}
        base = substitute(instruction.text.split()[0], variables)
        previous = next((s for s in self.stages[:-1] if s.name == base.lower()), None)
        if previous is not None:
            stage.start_from(previous, [], [], {}, [], "")
        elif base.lower() == "scratch":
            stage.start_from(None, [], [], {}, [], "scratch")
        else:
            image = self._base_image(base, instruction)
            raw = image.config.raw
            stage.start_from(None, image.manifest.layers, image.config.diff_ids, raw.get("config") or {},
                             raw.get("history") or [], image.id)
        stage.args = {}  # a global ARG is in scope in a stage only when the stage declares it again

    def _base_image(self, reference: str, instruction: Instruction):
        if not self.options.pull:
            try:
                return self.store.resolve(reference)
            except ImageNotFound:
                pass
        from nsbox.image.pull import configured_insecure_registries, pull
        self.options.say(f"Pulling {reference}")
        try:
            return pull(self.root, reference, insecure_registries=configured_insecure_registries(self.root))
        except Exception as error:
            raise ImageNotFound(f"{self._where(instruction)}: FROM {reference}: {error}") from None

    def _step(self, stage: Stage, instruction: Instruction) -> None:
        started = self._announce(instruction)
        at = self._where(instruction)
        if instruction.keyword == "ARG":
            self._arg(stage, instruction, at)
            return
        text = steps.argument(instruction, stage)
        extra, sources = "", None
        if instruction.keyword in ("COPY", "ADD"):
            sources, extra = self._sources(stage, instruction, text, at)
        if instruction.keyword == "RUN":  # the build args in scope are part of a RUN's environment
            extra = "\0".join(f"{k}={v}" for k, v in sorted(stage.args.items()))
        key = step_key(stage.key, f"{instruction.keyword} {sorted(instruction.flags.items())} {text}", extra)
        cached = None if self.options.no_cache else self.cache.get(key, self.store.has_blob)
        if cached is not None:
            self.options.say(" --> CACHED")
            result = cached
        else:
            result = self._execute(stage, instruction, text, sources, at)
            self.cache.put(key, result)
        stage.apply(result)
        stage.key = key
        if instruction.keyword == "CMD":
            stage.cmd_set = True
        if cached is None:
            self.options.say(f" --> done in {time.monotonic() - started:.2f}s")

    def _arg(self, stage: Stage, instruction: Instruction, at: str) -> None:
        for word in instruction.text.split():
            name, has_default, default = word.partition("=")
            globally = dict(self.global_args)
            value = self.options.build_args.get(name)
            if value is None:
                value = substitute(default, stage.env()) if has_default else globally.get(name) or ""
            stage.args[name] = value
        stage.key = step_key(stage.key, f"ARG {sorted(stage.args.items())}")

    def _execute(self, stage: Stage, instruction: Instruction, text: str, sources, at: str) -> dict:
        keyword = instruction.keyword
        if keyword not in FILE_STEPS:
            return steps.outcome(steps.metadata(instruction, stage, at), steps.created_by(instruction, text))
        with Snapshot(self.store, stage.layers, stage.diff_ids, self.workdir) as snapshot:
            if keyword == "RUN":
                self._run(stage, instruction, snapshot.merged, at)
            elif keyword == "WORKDIR":
                from nsbox.linux.mounts import resolve_in_root
                path = text if text.startswith("/") else os.path.join(stage.config.get("WorkingDir") or "/", text)
                os.makedirs(resolve_in_root(snapshot.merged, path), exist_ok=True)
            else:
                self._copy(stage, instruction, text, sources, snapshot.merged, at)
            layer = snapshot.commit()
        config = stage.config
        if keyword == "WORKDIR":
            config = dict(config, WorkingDir=path)
        diff_id = "" if layer is None else layer.digest  # stored uncompressed: the digest is the diff ID
        if layer is not None:
            self.store.ensure_layer(diff_id, layer.digest)
        return steps.outcome(config, steps.created_by(instruction, text), layer, diff_id)

    def _run(self, stage: Stage, instruction: Instruction, merged: str, at: str) -> None:
        from nsbox.build.run_step import run_in_container
        env = [f"{k}={v}" for k, v in stage.args.items() if not any(
            item.partition("=")[0] == k for item in stage.config.get("Env") or [])] + list(stage.config.get("Env") or [])
        code = run_in_container(self.root, merged, steps.command_form(instruction, stage), env,
                                stage.config.get("User") or "", stage.config.get("WorkingDir") or "/",
                                self.options.network)
        if code != 0:
            raise ContainerStartError(f"{at}: RUN exited {code}: {instruction.text}", exit_code=code)

    def _sources(self, stage: Stage, instruction: Instruction, text: str, at: str):
        import shlex
        words = instruction.json if instruction.json is not None else shlex.split(text)
        if len(words) < 2:
            raise ConfigError(at, f"{instruction.keyword} needs a source and a destination")
        if any(w.startswith(("http://", "https://")) for w in words[:-1]):
            raise ConfigError(at, "ADD of a URL is not supported: download it in a RUN step, or put the file "
                              "in the build context and COPY it")
        if "from" in instruction.flags:
            return (words, self._from_stage(instruction.flags["from"], at)), f"from:{instruction.flags['from']}"
        found = self.context.sources(words[:-1], at)
        return (words, found), self.context.digest(found)

    def _from_stage(self, name: str, at: str) -> Stage:
        for stage in self.stages[:-1]:
            if stage.name == name.lower() or str(stage.index) == name:
                return stage
        raise ConfigError(at, f"COPY --from={name}: no earlier stage has that name (images in --from are "
                          "not supported)")

    def _copy(self, stage: Stage, instruction: Instruction, text: str, sources, merged: str, at: str) -> None:
        from nsbox.build.copy_step import copy_step
        copy_step(self, stage, instruction, sources, merged, at)

    def _write_image(self, stage: Stage):
        from nsbox.image.archive import store_image
        config_section = dict(stage.config)
        if self.options.labels:
            config_section["Labels"] = dict(config_section.get("Labels") or {}, **self.options.labels)
        # the last step's time: a build that is all cached writes the same config, so the same image ID
        created = stage.history[-1]["created"] if stage.history else steps.created()
        config = {"architecture": self.platform[1], "os": self.platform[0], "created": created,
                  "config": config_section, "rootfs": {"type": "layers", "diff_ids": stage.diff_ids},
                  "history": stage.history}
        from nsbox.image.reference import parse_reference
        names = [str(parse_reference(tag)) for tag in self.options.tags]
        return store_image(self.store, config, stage.layers, names)


def _stage_name(instruction: Instruction) -> str | None:
    words = instruction.text.split()
    if len(words) >= 3 and words[1].upper() == "AS":
        return words[2].lower()
    return None


def _split_stages(instructions: list[Instruction], where) -> tuple[list[tuple[str, str | None]], list[list[Instruction]]]:
    """(global ARGs before the first FROM as (name, default)), and the stages' instructions."""
    global_args: list[tuple[str, str | None]] = []
    stages: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            stages.append([instruction])
        elif not stages:
            if instruction.keyword != "ARG":
                raise ConfigError(where(instruction), "only ARG may come before the first FROM")
            for word in instruction.text.split():
                name, has_default, default = word.partition("=")
                global_args.append((name, default if has_default else None))
        else:
            stages[-1].append(instruction)
    return global_args, stages
