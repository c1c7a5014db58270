"""`nsbox run --explain`: the same report as for a running container, as what WOULD be done
for these run options — made from the record and config.json the engine would write, and
nothing is created, mounted or started."""
from __future__ import annotations

import os

PLANNED_ID = "$ID"  # the store gives the real ID at create; the recipe makes one


def plan_run(engine, options: dict) -> dict:
    from nsbox.engine.runconfig import make_record
    from nsbox.engine.spec import make_spec
    image = None if options.get("rootfs") else engine.image(options.get("image") or "")
    record = make_record(options, image, engine.root)
    record["Id"] = PLANNED_ID
    record["Name"] = options.get("name") or ""
    merged = options.get("rootfs") or os.path.join(engine.root, "image", "rootfs", PLANNED_ID, "merged")
    spec = make_spec(record, merged, lambda kind, mode: f"(the {kind} namespace of {mode})")
    namespaces = {entry["type"]: entry for entry in spec["linux"]["namespaces"]}
    from nsbox.explain.kernel import NAMESPACE_TYPES
    report = {
        "container": {"id": "", "name": record["Name"], "image": options.get("image") or options.get("rootfs"),
                      "status": "planned (nothing was created)"},
        "planned": True,
        "namespaces": [_namespace(kind, name, namespaces.get(kind)) for name, kind in NAMESPACE_TYPES.items()
                       if os.path.exists(f"/proc/self/ns/{name}")],
        "cgroups": _cgroups(spec),
        "rootfs": _rootfs(engine, image, merged, spec),
        "network": {"mode": record["HostConfig"].get("NetworkMode") or "none", "interfaces": [], "ports": {}},
        "confinement": {"capabilities": {"effective": spec["process"]["capabilities"].get("effective", [])},
                        "seccomp": "filter" if spec["linux"].get("seccomp") else "disabled",
                        "seccomp_profile": "as configured" if spec["linux"].get("seccomp") else "none",
                        "no_new_privs": bool(spec["process"].get("noNewPrivileges"))},
    }
    from nsbox.explain.recipe import commands
    report["commands"] = commands(report, spec)
    return report


def _namespace(kind: str, proc_name: str, entry: dict | None) -> dict:
    """A new namespace ("" until it exists), one joined by path, or the host's own (shared)."""
    host = os.readlink(f"/proc/self/ns/{proc_name}")
    if entry is None:
        return {"type": kind, "proc_name": proc_name, "container": host, "host": host, "isolated": False}
    return {"type": kind, "proc_name": proc_name, "container": entry.get("path", ""), "host": host,
            "isolated": "path" not in entry}


def _cgroups(spec: dict) -> dict:
    """The directories nsbox would make (relative parents resolved below this process's own
    cgroups) and the limit files it would write."""
    from nsbox.cgroups import open_cgroup
    cgroup = open_cgroup(spec["linux"]["cgroupsPath"], PLANNED_ID)
    directories = [{"hierarchy": controller, "controllers": [controller], "directory": directory}
                   for controller, directory in sorted(cgroup.v1.items()) if not controller.startswith("name=")]
    if cgroup.unified:
        directories.append({"hierarchy": "unified", "controllers": [], "directory": cgroup.unified})
    limits, device_rules = [], 0
    from nsbox.explain.cgroup_view import LIST_PREFIXES
    for field, path, value in cgroup.plan(spec["linux"].get("resources") or {}).writes:
        if os.path.basename(path).startswith(LIST_PREFIXES):
            device_rules += 1
        else:
            limits.append({"option": field, "file": path, "wrote": value, "current": value})
    layout = "v2" if not cgroup.v1 else ("hybrid" if cgroup.unified else "v1")
    return {"layout": layout, "directories": directories, "limits": limits, "device_rules": device_rules,
            "usage": []}


def _rootfs(engine, image: dict | None, merged: str, spec: dict) -> dict:
    overlay = None
    if image is not None:
        from nsbox.image.store import ImageStore
        store = ImageStore(engine.root)
        found = store.resolve(image["id"])
        container_dir = os.path.dirname(merged)
        overlay = {"lowerdir": [store.layer_dir(diff_id) for diff_id in reversed(found.config.diff_ids)],
                   "upperdir": os.path.join(container_dir, "upper"), "workdir": os.path.join(container_dir, "work")}
    linux = spec["linux"]
    return {"root": {"type": "overlay" if overlay else "bind", "source": "overlay" if overlay else merged,
                     "read_only": bool(spec["root"].get("readonly")), "overlay": overlay, "host_path": merged},
            "mounts": [{"target": m["destination"], "type": m.get("type", "bind"), "source": m.get("source", ""),
                        "options": ",".join(m.get("options", []))} for m in spec.get("mounts", [])],
            "masked_paths": [{"path": p, "masked": True} for p in linux.get("maskedPaths", [])],
            "readonly_paths": [{"path": p, "read_only": True} for p in linux.get("readonlyPaths", [])]}
