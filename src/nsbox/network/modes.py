"""Which network modes nsbox sets up, where a container's namespace file lives, and the
--network-rate unit: what every run needs to know, without the CNI machinery's imports."""
from __future__ import annotations

import os

NON_CNI_MODES = ("none", "host")


def own_networks(host_config: dict) -> bool:
    """True if the container's network namespace is made by nsbox and set up through CNI."""
    mode = host_config.get("NetworkMode") or "none"
    return mode not in NON_CNI_MODES and not mode.startswith("container:")


def sandbox_path(run_dir: str, container_id: str) -> str:
    return os.path.join(run_dir, "netns", container_id)


def parse_rate(text: str) -> int:
    """--network-rate like 10mbit, 512kbit, 1gbit, 100000 (bits per second)."""
    from nsbox.errors import ConfigError
    units = {"": 1, "bit": 1, "kbit": 1000, "mbit": 1000_000, "gbit": 1000_000_000, "k": 1000, "m": 1000_000,
             "g": 1000_000_000}
    number = text.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    unit = text[len(number):].lower()
    try:
        rate = int(float(number) * units[unit])
    except (ValueError, KeyError):
        raise ConfigError("--network-rate", f"must be a rate like 10mbit, 512kbit or 1gbit, got {text!r}") from None
    if rate < 8000:
        raise ConfigError("--network-rate", f"must be at least 8kbit, got {text!r}")
    return rate
