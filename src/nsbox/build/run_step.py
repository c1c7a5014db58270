"""A RUN step: the command in an nsbox container (the engine's, so with its default
capabilities, seccomp profile and masked paths, and no host devices) whose root is the
step's overlay snapshot; its output goes to the build's output as it comes."""
from __future__ import annotations


def run_in_container(root: str, rootfs: str, command: list[str], env: list[str], user: str, workdir: str,
                     network: str | None) -> int:
    """Run to the end and return the exit code; the container is removed, the snapshot kept."""
    from nsbox.engine.containers import Engine
    from nsbox.engine.foreground import run_foreground
    engine = Engine(root)
    options = {"rootfs": rootfs, "command": command, "env": env, "user": user or None, "workdir": workdir,
               "rm": True, "network": network or "none", "label": ["org.nsbox.build=step"]}
    record = engine.create(options)
    try:
        return run_foreground(engine, record["Id"], False, False)
    except BaseException:
        engine.remove(record["Id"], force=True)
        raise
