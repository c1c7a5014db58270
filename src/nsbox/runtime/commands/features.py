"""`nsbox-runtime features`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

import sys

from nsbox.flags import Command
from nsbox.runtime.cli import Context

COMMAND = Command("nsbox-runtime features", "What this runtime supports, as the OCI features document.")

VERSION = "0.1.0"


def version_text() -> str:
    return f"nsbox-runtime version {VERSION}\nspec: 1.1.0\n"


def features() -> dict:
    from nsbox.linux.capabilities import NAMES
    from nsbox.linux.mounts import OPTIONS, PROPAGATION
    from nsbox.oci.runtime_spec import HOOK_KINDS, NAMESPACE_TYPES
    from nsbox.oci import seccomp
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.1.0",
        "hooks": list(HOOK_KINDS),
        "mountOptions": sorted(list(OPTIONS) + list(PROPAGATION)),
        "linux": {
            "namespaces": list(NAMESPACE_TYPES),
            "capabilities": list(NAMES),
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False, "rdma": False},
            "seccomp": {"enabled": True, "actions": list(seccomp.ACTIONS), "operators": list(seccomp.OPERATORS),
                        "archs": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                        "knownFlags": list(seccomp.FLAGS), "supportedFlags": list(seccomp.FLAGS[:3])},
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": True}},
        },
        "annotations": {"org.nsbox.version": VERSION},
    }


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    import json
    sys.stdout.write(json.dumps(features(), indent=2) + "\n")
    return 0
