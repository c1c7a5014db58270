"""Registry credentials: those `nsbox login` saved (<nsbox root>/auth.json, mode 0600) and
those in Docker's config ($DOCKER_CONFIG/config.json or ~/.docker/config.json).

Both files use Docker's shape: {"auths": {"host[:port]": {"auth": base64("user:password")}}}.
"""
from __future__ import annotations

import base64
import os

from nsbox.errors import ConfigError
from nsbox.oci import jsonio

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


def nsbox_auth_file(root: str) -> str:
    return os.path.join(root, "auth.json")


def docker_config_file() -> str:
    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(directory, "config.json")


def _keys(registry: str) -> tuple[str, ...]:
    if registry in DOCKER_HUB_KEYS:
        return DOCKER_HUB_KEYS
    return (registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/",
            f"https://{registry}/v2/")


def _read(path: str) -> dict:
    try:
        with open(path, "rb") as source:
            document = jsonio.loads(source.read())
    except FileNotFoundError:
        return {}
    except ValueError as error:
        raise ConfigError(path, f"is not valid JSON ({error})") from None
    auths = document.get("auths") if isinstance(document, dict) else None
    return auths if isinstance(auths, dict) else {}


def _decode(entry: object, where: str) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return entry["username"], entry["password"]
    encoded = entry.get("auth")
    if not isinstance(encoded, str) or not encoded:
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"{where}.auth", "must be base64 of user:password") from None
    return user, password


def lookup(root: str, registry: str) -> tuple[str, str] | None:
    """(user, password) for `registry` (host[:port]); nsbox's own login first, then Docker's."""
    for path in (nsbox_auth_file(root), docker_config_file()):
        auths = _read(path)
        for key in _keys(registry):
            if key in auths:
                found = _decode(auths[key], f"{path}: auths.{key}")
                if found:
                    return found
    return None


def _write(root: str, auths: dict) -> None:
    import json

    from nsbox.linux.store_files import write_atomic
    os.makedirs(root, exist_ok=True)
    write_atomic(nsbox_auth_file(root), json.dumps({"auths": auths}, indent=1).encode(), mode=0o600)


def save(root: str, registry: str, user: str, password: str) -> None:
    auths = _read(nsbox_auth_file(root))
    auths[registry] = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    _write(root, auths)


def remove(root: str, registry: str) -> bool:
    """Forget the saved login for `registry`; False if there was none."""
    auths = _read(nsbox_auth_file(root))
    if registry not in auths:
        return False
    del auths[registry]
    _write(root, auths)
    return True
