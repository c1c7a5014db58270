"""OCI linux.resources to a cgroup's files: each group planned by the driver of the hierarchy
that holds its controller (v1_limits where the controller is mounted as v1, else
v2_limits), every value checked before the first write, then written all or nothing."""
from __future__ import annotations

from nsbox.errors import LimitUnsupported

# OCI resource group -> the v1 controller whose mount decides the driver (v1_limits or v2_limits),
# and the planner function both drivers name alike. hugepageLimits (a list) and devices are apart.
RESOURCE_GROUPS = (("memory", "memory", "memory"), ("cpu", "cpu", "cpu"), ("pids", "pids", "pids"),
                   ("blockIO", "blkio", "block_io"), ("network", "net_cls", "network"), ("rdma", "rdma", "rdma"))


def apply(cgroup, resources: dict, initial: bool) -> None:
    """Plan every group given (and, at creation, the device list), check, write, warn."""
    plan = make_plan(cgroup, resources, initial, enable=True)
    plan.check_files()
    plan.run(restore=not initial)
    if plan.device_program is not None:
        from nsbox.cgroups import ebpf
        ebpf.install(*plan.device_program)
    for message in plan.warnings:
        cgroup.warn(message)


def make_plan(cgroup, resources: dict, initial: bool = True, enable: bool = False):  # -> Plan
    """The writes OCI linux.resources turns into for this cgroup, without making any; `enable`
    lets the planner enable a missing cgroup v2 controller on the way."""
    from nsbox.cgroups.plan import Plan
    from nsbox.oci.fields import Fields
    plan = Plan()
    f = Fields(resources, "linux.resources")

    def where(controller: str, field: str) -> str:
        return _directory(cgroup, controller, field, enable)

    for key, v1_controller, planner in RESOURCE_GROUPS:
        group = f.obj(key)
        if group is not None:
            getattr(_driver(cgroup, v1_controller), planner)(group, plan, where)
    if f.has("hugepageLimits"):
        _driver(cgroup, "hugetlb").hugepages(f.objs("hugepageLimits"), plan, where)
    if initial or f.has("devices"):
        _plan_devices(cgroup, f, plan, where)
    if f.has("unified"):
        if cgroup.unified is None:
            raise LimitUnsupported("linux.resources.unified", "this host has no cgroup v2 hierarchy; "
                                   "remove the option or use the v1 fields")
        from nsbox.cgroups import v2_limits
        v2_limits.unified(f.obj("unified"), plan, cgroup.unified)
    return plan


def _plan_devices(cgroup, f, plan, where) -> None:
    """The device list: v1's devices controller, else an eBPF program on the cgroup2 directory."""
    from nsbox.cgroups import devices
    rules = devices.rules(f.objs("devices"))
    if "devices" in cgroup.v1:
        from nsbox.cgroups import v1_limits
        v1_limits.devices(rules, plan, where)
    elif cgroup.unified is not None:
        plan.device_program = (cgroup.unified, rules)
    elif f.has("devices"):
        raise LimitUnsupported("linux.resources.devices", "this host has no devices cgroup controller; "
                               "remove the option")


def _driver(cgroup, v1_controller: str):
    """The planner module for a resource group: v1 where its controller is mounted as v1."""
    if v1_controller in cgroup.v1 or cgroup.unified is None:
        from nsbox.cgroups import v1_limits
        return v1_limits
    from nsbox.cgroups import v2_limits
    return v2_limits


def _directory(cgroup, controller: str, field: str, enable: bool = True) -> str:
    """The directory that holds `controller`'s files for this cgroup, or a CgroupError for `field`;
    a cgroup v2 controller not enabled there yet is enabled on the way if `enable`."""
    if controller in cgroup.v1:
        return cgroup.v1[controller]
    field = field.removeprefix("linux.resources.")
    if cgroup.unified is None:
        raise LimitUnsupported(f"linux.resources.{field}", f"this host has no {controller} cgroup controller "
                               "mounted; remove the option")
    if controller in ("net_cls", "net_prio"):
        raise LimitUnsupported(f"linux.resources.{field}", f"this host has no {controller} controller (cgroup v2 has "
                               "none; the network is classified with eBPF or nftables instead); remove the option")
    from nsbox.cgroups import v2_controllers
    if enable and controller not in v2_controllers.controllers(cgroup.unified):
        try:
            v2_controllers.enable(cgroup.unified_mount, cgroup.unified, {controller})
        except OSError:
            pass
        if controller not in v2_controllers.controllers(cgroup.unified):
            raise LimitUnsupported(f"linux.resources.{field}", f"cannot use the {controller} controller: "
                                   + v2_controllers.delegation_hint(cgroup.unified_mount, cgroup.unified, controller))
    return cgroup.unified
