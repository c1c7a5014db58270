"""Container IDs (64 hex digits, 12 shown) and names (Docker's rule, random when unnamed)."""
from __future__ import annotations

import os

from nsbox.errors import InvalidOption

_ADJECTIVES = ("brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
               "nimble", "proud", "quiet", "rapid", "sharp", "tender", "vivid", "witty", "young", "zealous")
_NOUNS = ("babbage", "curie", "dijkstra", "euler", "fermat", "gauss", "hopper", "knuth", "lovelace",
          "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak")
_NAME_FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_NAME_REST = _NAME_FIRST + "_.-"
SHORT_ID = 12


def new_id() -> str:
    return os.urandom(32).hex()


def random_name() -> str:
    pick = os.urandom(3)
    return f"{_ADJECTIVES[pick[0] % len(_ADJECTIVES)]}_{_NOUNS[pick[1] % len(_NOUNS)]}{pick[2] % 100}"


def check_name(name: str, field: str = "--name") -> str:
    """Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading "/" is accepted and dropped)."""
    name = name[1:] if name.startswith("/") else name
    if len(name) < 2 or name[0] not in _NAME_FIRST or any(c not in _NAME_REST for c in name) or len(name) > 128:
        raise InvalidOption(field, f"invalid container name {name!r}: use 2-128 of [a-zA-Z0-9_.-], "
                                 "starting with a letter or digit")
    return name
