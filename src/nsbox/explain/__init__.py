"""explain: the kernel's view of a container beside the host's, and the commands that would
do the same by hand (unshare, nsenter, mkdir/echo into cgroup files, mount -t overlay, ip).

It only reads (/proc/PID/ns, NSpid, uid_map, cgroup files, mountinfo, the network
namespace's interfaces) and changes nothing. kernel.py reads /proc; container.py puts a
running container's report together; plan.py does the same for `run --explain` without
running anything; host.py checks what the host offers; recipe.py writes the manual
commands; text.py prints a report for people.
"""
