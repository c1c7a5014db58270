"""Which handler answers which method and path (Docker Engine API paths, without /v1.xx)."""
from __future__ import annotations

import re

from nsbox.serve.http import ApiError

ID = r"(?P<name>[^/]+)"


class Routes:
    def __init__(self) -> None:
        self.table: list[tuple[str, re.Pattern, object]] = []

    def add(self, method: str, pattern: str, handler) -> None:
        self.table.append((method, re.compile(pattern + "$"), handler))

    def find(self, method: str, path: str):
        for wanted in (method, "GET") if method == "HEAD" else (method,):  # HEAD falls back to GET
            for route_method, pattern, handler in self.table:
                match = pattern.match(path)
                if match and route_method == wanted:
                    return handler, match.groupdict()
        raise ApiError(404, f"page not found: {method} {path}")


def all_routes() -> Routes:
    from nsbox.serve import archive, build, containers, execs, images, networks, streams, system
    routes = Routes()
    for method, pattern, handler in (
            ("GET", "/_ping", system.ping), ("HEAD", "/_ping", system.ping), ("GET", "/version", system.version),
            ("GET", "/info", system.info), ("GET", "/events", system.events),
            ("GET", "/system/df", system.disk_usage), ("POST", "/build", build.build),
            ("POST", "/containers/prune", containers.prune), ("POST", "/images/prune", images.prune),
            ("POST", "/volumes/prune", system.volume_prune),
            ("GET", f"/containers/{ID}/export", archive.export), ("GET", f"/containers/{ID}/changes", archive.changes),
            ("GET", "/containers/json", containers.list_), ("POST", "/containers/create", containers.create),
            ("GET", f"/containers/{ID}/json", containers.inspect), ("POST", f"/containers/{ID}/start", containers.start),
            ("POST", f"/containers/{ID}/attach", streams.attach), ("POST", f"/containers/{ID}/wait", streams.wait),
            ("POST", f"/containers/{ID}/stop", containers.stop), ("POST", f"/containers/{ID}/kill", containers.kill),
            ("POST", f"/containers/{ID}/restart", containers.restart),
            ("POST", f"/containers/{ID}/pause", containers.pause), ("POST", f"/containers/{ID}/unpause", containers.unpause),
            ("DELETE", f"/containers/{ID}", containers.remove), ("GET", f"/containers/{ID}/logs", streams.logs),
            ("GET", f"/containers/{ID}/top", containers.top), ("GET", f"/containers/{ID}/stats", streams.stats),
            ("POST", f"/containers/{ID}/resize", containers.resize),
            ("POST", f"/containers/{ID}/exec", execs.create), ("POST", f"/exec/{ID}/start", execs.start),
            ("GET", f"/exec/{ID}/json", execs.inspect), ("POST", f"/exec/{ID}/resize", execs.resize),
            ("GET", "/images/json", images.list_), ("POST", "/images/create", images.create),
            ("GET", "/images/get", images.save), ("GET", r"/images/(?P<name>.+)/get", images.save),
            ("POST", "/images/load", images.load), ("POST", r"/images/(?P<name>.+)/push", images.push),
            ("GET", r"/images/(?P<name>.+)/json", images.inspect), ("POST", r"/images/(?P<name>.+)/tag", images.tag),
            ("DELETE", r"/images/(?P<name>.+)", images.remove),
            ("GET", "/networks", networks.list_), ("POST", "/networks/create", networks.create),
            ("POST", "/networks/prune", networks.prune), ("GET", f"/networks/{ID}", networks.inspect),
            ("DELETE", f"/networks/{ID}", networks.remove), ("POST", f"/networks/{ID}/connect", networks.connect),
            ("POST", f"/networks/{ID}/disconnect", networks.disconnect), ("GET", "/volumes", system.volumes),
            ("POST", "/volumes/create", system.volume_create), ("GET", f"/volumes/{ID}", system.volume_inspect),
            ("DELETE", f"/volumes/{ID}", system.volume_remove),
            ("GET", f"/containers/{ID}/archive", archive.archive_get),
            ("HEAD", f"/containers/{ID}/archive", archive.archive_head),
            ("PUT", f"/containers/{ID}/archive", archive.archive_put)):
        routes.add(method, pattern, handler)
    return routes
