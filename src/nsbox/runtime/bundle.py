"""An OCI bundle's config.json, read and validated."""
from __future__ import annotations

import os

from nsbox.oci.runtime_spec import Spec, parse_config


def load_spec(bundle: str) -> Spec:
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, "rb") as config:
            data = config.read()
    except FileNotFoundError:
        from nsbox.errors import NotFound
        raise NotFound(f"{path} does not exist: a bundle needs a config.json (nsbox-runtime spec writes one)") from None
    return parse_config(data, path)
