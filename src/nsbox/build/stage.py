"""A build stage's state between steps: its layers, the image config it has so far, its
history, its build arguments, and the cache key of its last step."""
from __future__ import annotations

import copy

from nsbox.oci.image_spec import Descriptor


class Stage:
    __slots__ = ("name", "index", "layers", "diff_ids", "config", "history", "key", "args", "platform",
                 "cmd_set")

    def __init__(self, name: str, index: int, platform: tuple[str, str]) -> None:
        self.name = name
        self.index = index
        self.layers: list[Descriptor] = []
        self.diff_ids: list[str] = []
        self.config: dict = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
        self.history: list[dict] = []
        self.key = "scratch"
        self.args: dict[str, str] = {}  # the ARGs in scope and their values
        self.platform = platform
        self.cmd_set = False  # CMD given in this stage (ENTRYPOINT then keeps it)

    def start_from(self, other: Stage | None, layers: list[Descriptor], diff_ids: list[str], config: dict,
                   history: list[dict], key: str) -> None:
        """Begin with another stage's result or an image's layers and config."""
        if other is not None:
            layers, diff_ids, config, history, key = other.layers, other.diff_ids, other.config, other.history, other.key
        self.layers, self.diff_ids = list(layers), list(diff_ids)
        self.config = copy.deepcopy(config) or {}
        self.history = copy.deepcopy(history)
        self.key = key

    def env(self) -> dict[str, str]:
        """Variables for substitution: the stage's ARGs, overridden by its ENV (as Docker)."""
        values = dict(self.args)
        for item in self.config.get("Env") or []:
            name, _, value = item.partition("=")
            values[name] = value
        return values

    def set_env(self, name: str, value: str) -> None:
        env = [item for item in self.config.get("Env") or [] if item.partition("=")[0] != name]
        self.config["Env"] = env + [f"{name}={value}"]

    def shell(self) -> list[str]:
        return list(self.config.get("Shell") or ["/bin/sh", "-c"])

    def apply(self, outcome: dict) -> None:
        """What a step produced (fresh or from the cache)."""
        if outcome.get("layer"):
            layer = outcome["layer"]
            self.layers.append(Descriptor(layer["mediaType"], layer["digest"], layer["size"]))
            self.diff_ids.append(outcome["diff_id"])
        self.config = outcome["config"]
        self.history.append(outcome["history"])
