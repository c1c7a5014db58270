"""`nsbox explain` for people: the report as aligned plain text for an 80-column terminal,
with colour only on a terminal."""
from __future__ import annotations

from nsbox.cli.formatting import table

BOLD, GREEN, YELLOW, DIM, RESET = "\033[1m", "\033[32m", "\033[33m", "\033[2m", "\033[0m"


class Painter:
    """ANSI colour when writing to a terminal, plain text otherwise."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if self.colour else text


def render(report: dict, colour: bool = False) -> str:
    paint = Painter(colour)
    out: list[str] = []
    for title, section in (("", _header), ("Namespaces", _namespaces), ("Processes", _processes),
                           ("Cgroups", _cgroups), ("Root filesystem", _rootfs), ("Network", _network),
                           ("Confinement", _confinement), ("By hand", _by_hand)):
        lines = section(report, paint)
        if not lines:
            continue
        if title:
            out.append(paint(title, BOLD))
        out.extend(lines)
        out.append("")
    text = "\n".join(out)
    container_id = report["container"].get("id")
    if not container_id:
        return text
    return text.replace(container_id, "$ID").replace("ID=$ID", f"ID={container_id}", 1)


def _indent(text: str, by: str = "  ") -> list[str]:
    return [by + line for line in text.rstrip("\n").split("\n")]


def _header(report: dict, paint: Painter) -> list[str]:
    c = report["container"]
    name = c.get("name") or "(a container to be made)"
    lines = [paint(f"Container {name}", BOLD)
             + (f"  image {c['image']}" if c.get("image") else "") + (f"  {c['status']}" if c.get("status") else "")]
    if c.get("id"):
        lines.append(f"  ID={c['id']} (paths below write it as $ID)")
    if c.get("host_pid"):
        lines.append(f"  an ordinary host process: PID {c['host_pid']} on the host, "
                     f"PID {c.get('container_pid')} inside its PID namespace")
    return lines


def _namespaces(report: dict, paint: Painter) -> list[str]:
    rows = [[row["type"], paint("isolated", GREEN) if row["isolated"] else paint("shared", YELLOW),
             row["container"] or "(new)", row["host"]] for row in report["namespaces"]]
    return _indent(table(["TYPE", "", "CONTAINER", "HOST"], rows))


def _processes(report: dict, paint: Painter) -> list[str]:
    rows = [[str(p["host_pid"]), str(p["container_pid"]), str(p["ppid"]),
             f"{_id(p['uid_inside'])}/{p['uid_host']}", p["command"][:40]] for p in report.get("processes", [])]
    if not rows:
        return []
    return _indent(table(["HOST PID", "PID INSIDE", "PPID", "UID IN/HOST", "COMMAND"], rows))


def _id(value: int | None) -> str:
    return "-" if value is None else str(value)


def _cgroups(report: dict, paint: Painter) -> list[str]:
    cg = report["cgroups"]
    lines = [f"  layout: {cg['layout']}"]
    for d in cg["directories"]:
        lines.append(f"  {d['hierarchy']:<14} {d['directory']}")
    if cg["limits"]:
        planned = report.get("planned")
        lines.append("  limits nsbox will write:" if planned else "  limits nsbox wrote (file = value now):")
        for limit in cg["limits"]:
            lines.append(f"    {limit['file']}")
            lines.append(f"      = {limit['wrote' if planned else 'current']}" + paint(f"   ({limit['option']})", DIM))
    else:
        lines.append("  limits: none set")
    if cg.get("device_rules"):
        lines.append(f"  device rules: {cg['device_rules']} lines in devices.allow/devices.deny")
    for usage in cg.get("usage", []):
        value = usage["current"].replace("\n", ", ")
        lines.append(f"  usage {usage['file']}")
        lines.append(f"      = {value[:70]}")
    return lines


def _rootfs(report: dict, paint: Painter) -> list[str]:
    fs = report["rootfs"]
    root = fs["root"]
    lines = [f"  / is {root['type'] or '?'} ({'read-only' if root['read_only'] else 'read-write'}) "
             f"at {root['host_path']} on the host"]
    if root.get("overlay"):
        overlay = root["overlay"]
        lines += [f"    lower {layer}" for layer in overlay["lowerdir"]]
        lines += [f"    upper {overlay['upperdir']}", f"    work  {overlay['workdir']}"]
    rows = [[m["target"], m["type"], "ro" if "ro" in m["options"].split(",") else "rw"] for m in fs["mounts"]]
    if rows:
        lines += _indent(table(["MOUNT", "TYPE", "MODE"], rows))
    masked = [m["path"] for m in fs["masked_paths"] if m["masked"]]
    if masked:
        lines.append("  masked: " + " ".join(masked))
    readonly = [m["path"] for m in fs["readonly_paths"] if m["read_only"]]
    if readonly:
        lines.append("  read-only: " + " ".join(readonly))
    return lines


def _network(report: dict, paint: Painter) -> list[str]:
    net = report.get("network")
    if not net:
        return []
    lines = [f"  mode: {net['mode']}"]
    for interface in net.get("interfaces", []):
        text = f"  {interface['name']:<8} {interface.get('state', ''):<8} {' '.join(interface.get('addresses', []))}"
        if interface.get("host_peer"):
            text += f"  (host side: {interface['host_peer']}" + \
                (f" on bridge {interface['host_bridge']})" if interface.get("host_bridge") else ")")
        lines.append(text)
    for port, bindings in (net.get("ports") or {}).items():
        for binding in bindings or []:
            lines.append(f"  port {port} <- {binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}")
    return lines


def _confinement(report: dict, paint: Painter) -> list[str]:
    conf = report.get("confinement")
    if not conf:
        return []
    effective = [name.removeprefix("CAP_") for name in conf["capabilities"]["effective"]]
    lines = [f"  capabilities (effective, {len(effective)}):"]
    line = "   "
    for name in effective:
        if len(line) + len(name) + 1 > 78:
            lines.append(line)
            line = "   "
        line += " " + name
    lines.append(line)
    lines.append(f"  seccomp: {conf['seccomp']} ({conf.get('seccomp_profile', 'none')})")
    lines.append(f"  no_new_privs: {'yes' if conf['no_new_privs'] else 'no'}")
    return lines


def _by_hand(report: dict, paint: Painter) -> list[str]:
    commands = report.get("commands") or {}
    lines = []
    if commands.get("build"):
        lines.append("  to build the same by hand:")
        lines += [f"    {line}" for line in commands["build"]]
    if commands.get("enter"):
        lines.append("  to enter it:")
        lines += [f"    {line}" for line in commands["enter"]]
    return lines


def render_host(report: dict, colour: bool = False) -> str:
    """`nsbox explain --host`: one line per check, the fix under each one that failed."""
    paint = Painter(colour)
    marks = {"ok": paint("ok".ljust(7), GREEN), "warning": paint("warn".ljust(7), YELLOW),
             "missing": paint("MISSING", BOLD)}
    lines = [paint(f"Host {report['hostname']}", BOLD) + f"  Linux {report['kernel']} {report['machine']}",
             f"  cgroups: {report['cgroup_layout']['mode']}", ""]
    for check in report["checks"]:
        lines.append(f"  {marks[check['status']]} {check['name']:<20} {check['detail']}")
        if check["fix"]:
            lines.append(f"          fix: {check['fix']}")
    return "\n".join(lines) + "\n"
