"""OCI hooks: programs run at fixed moments of the lifecycle, the container state on stdin."""
from __future__ import annotations

from nsbox.errors import NsboxError
from nsbox.oci import jsonio
from nsbox.oci.runtime_spec import Hook


class HookFailed(NsboxError):
    pass


def run_hooks(kind: str, hooks: list[Hook], state: dict, warn_only: bool = False) -> None:
    """Run each hook in order. A failure raises HookFailed, or, for poststart/poststop
    (warn_only), prints a warning and goes on with the rest, as the spec asks."""
    if not hooks:
        return
    import subprocess

    document = jsonio.dumps(state).encode()
    for index, hook in enumerate(hooks):
        args = hook.args or [hook.path]
        env = dict(item.split("=", 1) for item in hook.env)
        try:
            result = subprocess.run(args, executable=hook.path, input=document, env=env, capture_output=True,
                                    timeout=hook.timeout)
            problem = None if result.returncode == 0 else (
                f"exited {result.returncode}: {result.stderr.decode(errors='replace').strip()}")
        except subprocess.TimeoutExpired:
            problem = f"timed out after {hook.timeout} s and was killed"
        except OSError as error:
            problem = f"could not run: {error.strerror}"
        if problem is None:
            continue
        message = f"{kind} hook {index} ({hook.path}) {problem}"
        if not warn_only:
            raise HookFailed(message)
        from nsbox.runtime.notices import warn
        warn(message)
