"""`network connect/disconnect` of a running container: CNI ADD/DEL into its namespace
while it runs, its record and its /etc/hosts updated, and the other containers of that
network told (their hosts files list it, or no longer).

The network is recorded before the ADD (the intent, with the interface it gets), so that
a container that ends meanwhile has it DELed by its own end, as every other network.
"""
from __future__ import annotations

from nsbox.errors import NetworkError, StateError


def connect_running(engine, record: dict, name: str, aliases: list[str], ip: str, ip6: str = "") -> dict:
    """ADD network `name` to the running container `record` (as ethN, the first free N)."""
    from nsbox.engine.networking import write_etc_files
    from nsbox.network import attach, conflists
    conflists.load(engine.root, name)  # NotFound names the network
    container_id, sandbox = record["Id"], record["NetworkSettings"]["SandboxKey"]

    def intend(r: dict) -> None:
        settings = _running_settings(r, sandbox)
        if name in (settings.get("Networks") or {}):
            raise StateError(f"container {r['Name']} is already connected to network {name}")
        settings["Interfaces"] = dict(attach.interfaces(settings), **{name: attach.free_interface(settings)})
        settings.setdefault("Networks", {})[name] = {
            "Aliases": list(aliases), "IPAMConfig": attach.ipam_config(ip, ip6), "MacAddress": ""}
    record = engine.store.update(container_id, intend)
    settings = record["NetworkSettings"]
    rate = record["HostConfig"].get("NetworkRate") or 0
    try:
        endpoint, result = attach.add_network(engine.root, container_id, sandbox, name, settings["Interfaces"][name],
                                              settings["Networks"][name], rate)
    except BaseException:
        engine.store.update(container_id, lambda r: _forget(r, name))
        raise

    def attached(r: dict) -> None:
        current = _running_settings(r, sandbox)
        current["Networks"][name] = endpoint
        current.setdefault("CNI", {})[name] = result
        current.update(attach.primary(current["Networks"]))
    try:
        record = engine.store.update(container_id, attached)
    except StateError:  # it ended meanwhile, its DEL ran before this ADD finished
        attach.remove_network(engine.root, container_id, sandbox, name,
                              dict(settings, CNI={name: result}), rate)
        raise StateError(f"container {record['Name']} stopped while it was being connected to {name}") from None
    return write_etc_files(engine, record)


def disconnect_running(engine, record: dict, name: str) -> dict:
    """DEL network `name` from the running container `record`."""
    from nsbox.engine.networking import refresh_peers, write_etc_files
    from nsbox.network import attach
    settings = record["NetworkSettings"]
    if name not in (settings.get("Networks") or {}):
        raise StateError(f"container {record['Name']} is not connected to network {name}")
    failures = attach.remove_network(engine.root, record["Id"], settings["SandboxKey"], name, settings,
                                     record["HostConfig"].get("NetworkRate") or 0)
    record = engine.store.update(record["Id"], lambda r: _forget(r, name))
    write_etc_files(engine, record, refresh=False)
    refresh_peers(engine, [name])
    if failures:
        raise NetworkError(f"network {name} of container {record['Name']}: " + "; ".join(failures))
    return record


def disconnect(engine, reference: str, name: str, force: bool = False) -> None:
    """`network disconnect [-f]`: a running container leaves the network at once, any other at
    its next start. `force`: no error for a container that is gone or not connected, and the
    container leaves even if a plugin fails to take its interface down (that failure is dropped)."""
    from nsbox.engine.networking import set_networks
    from nsbox.errors import ContainerNotFound
    if force:
        try:
            connected = engine.get(reference)["NetworkSettings"].get("Networks") or {}
        except ContainerNotFound:
            return
        if name not in connected:
            return
    try:
        set_networks(engine, reference, name, False, [], "")
    except NetworkError:
        if not force:
            raise


def _running_settings(record: dict, sandbox: str) -> dict:
    settings = record["NetworkSettings"]
    if settings.get("SandboxKey") != sandbox:
        raise StateError(f"container {record['Name']} is no longer running")
    return settings


def _forget(record: dict, name: str) -> None:
    from nsbox.network.attach import interfaces, primary
    settings = record["NetworkSettings"]
    settings["Interfaces"] = interfaces(settings)
    for key in ("Networks", "CNI", "Interfaces"):
        (settings.get(key) or {}).pop(name, None)
    settings.update(primary(settings.get("Networks") or {}))
