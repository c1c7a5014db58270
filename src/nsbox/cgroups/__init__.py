"""cgroups: one container's cgroup on a v1, v2 or hybrid host.

open_cgroup() resolves an OCI linux.cgroupsPath into a Cgroup: its directory in every
hierarchy the host mounts. The modules beside this one are named for what they do:
lifecycle (create, join, remove), limits (linux.resources to files, through the
v1_limits/v2_limits planners), freezer, kill, stats (v1_stats/v2_stats readers), oom,
devices/ebpf, v2_controllers (enabling controllers down a v2 tree), host (mounts, paths).

On the container start path: imports only os and its own small modules; the resource
planners, the eBPF assembler and the stats readers are imported when used.
"""
from nsbox.cgroups.cgroup import Cgroup, open_cgroup

__all__ = ["Cgroup", "open_cgroup"]
