"""/networks/...: list, inspect, create (bridge, macvlan, ipvlan networks as CNI config lists), remove, prune,
connect and disconnect, through the engine's networking."""
from __future__ import annotations

from nsbox.serve.http import ApiError


def _engine(handler):
    from nsbox.engine.containers import Engine
    return Engine(handler.root)


def _shapes(handler, filters: dict | None = None) -> list[dict]:
    """The networks as the Engine API shows them (Containers by ID, no conflist)."""
    from nsbox.engine.network_filters import from_api, listing
    shown = []
    for shape in listing(_engine(handler), from_api(filters or {})):
        shape["Containers"] = {user: {"Name": user} for user in shape["Containers"]}
        shape.pop("ConfList", None)
        shown.append(dict(shape, Scope="local", Attachable=True))
    return shown


def _find(handler, name: str) -> dict:
    for shape in _shapes(handler):
        if name in (shape["Name"], shape["Id"]) or (len(name) >= 3 and shape["Id"].startswith(name)):
            return shape
    from nsbox.errors import NotFound
    raise NotFound(f"network {name} not found")


def list_(handler, request) -> None:
    import json
    handler.send_json(_shapes(handler, json.loads(request.query.get("filters") or "{}")))


def inspect(handler, request, name: str) -> None:
    handler.send_json(_find(handler, name))


def create(handler, request) -> None:
    from nsbox.network import manage
    body = request.json()
    if not body.get("Name"):
        raise ApiError(400, "Name: name the network")
    driver = body.get("Driver") or "bridge"
    subnet, gateway, ip_range, subnet6 = manage.from_ipam(driver, (body.get("IPAM") or {}).get("Config") or [],
                                                          bool(body.get("EnableIPv6")))
    # a bridge takes no options here; the docker CLI and compose may send Docker's own bridge ones
    options = body.get("Options") or {} if driver != "bridge" else {}
    conflist = manage.create(handler.root, body["Name"], driver, subnet, gateway, ip_range,
                             bool(body.get("Internal")), body.get("Labels") or {}, options, subnet6)
    handler.send_json({"Id": conflist["nsbox"]["id"], "Warning": ""}, 201)


def remove(handler, request, name: str) -> None:
    from nsbox.engine.networking import network_users
    from nsbox.network import manage
    shape = _find(handler, name)
    manage.remove(handler.root, shape["Name"], network_users(_engine(handler), shape["Name"]))
    handler.send_empty(204)


def prune(handler, request) -> None:
    import json
    from nsbox.engine.network_filters import from_api
    from nsbox.engine.networking import prune_networks
    filters = from_api(json.loads(request.query.get("filters") or "{}"))
    handler.send_json({"NetworksDeleted": prune_networks(_engine(handler), filters)})


def connect(handler, request, name: str) -> None:
    from nsbox.engine.networking import set_networks
    body = request.json()
    endpoint = body.get("EndpointConfig") or {}
    requested = endpoint.get("IPAMConfig") or {}
    set_networks(_engine(handler), body.get("Container") or "", _find(handler, name)["Name"], True,
                 list(endpoint.get("Aliases") or []), requested.get("IPv4Address") or "",
                 requested.get("IPv6Address") or "")
    handler.send_empty(200)


def disconnect(handler, request, name: str) -> None:
    from nsbox.engine.network_connect import disconnect as leave
    body = request.json()
    leave(_engine(handler), body.get("Container") or "", _find(handler, name)["Name"], bool(body.get("Force")))
    handler.send_empty(200)
