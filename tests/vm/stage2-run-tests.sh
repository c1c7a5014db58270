#!/bin/sh
# Stage 2 of the cgroup v2 lane's guest, run as PID 1 in the host's userspace (a tmpfs
# overlay on the host's root): set up a pure cgroup v2 machine, run pytest as root in the
# checkout with the arguments the host left in /lane, write its exit code to
# /lane/exit-code, and power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 PY_COLORS=0

power_off() {
    sync
    busybox poweroff -f
}

fail() {
    echo "nsbox-vm-lane stage 2: $*" >&2
    power_off
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
# The kernel was booted with cgroup_no_v1=all: every controller is on the v2 hierarchy.
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || fail "cannot mount cgroup2 on /sys/fs/cgroup"
# Hand every controller down from the root, as systemd does on a v2 machine.
for controller in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$controller" > /sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable $controller"
done
mount -t bpf bpf /sys/fs/bpf

# The guest kernel's own modules (the host has none for it), loaded on demand with
# busybox's modprobe.
modules=$(cat /lane/modules)
mkdir -p "/lib/modules/$(uname -r)"
mount --bind "$modules" "/lib/modules/$(uname -r)"
mkdir -p /run/nsbox-vm-lane
ln -s /bin/busybox /run/nsbox-vm-lane/modprobe
echo /run/nsbox-vm-lane/modprobe > /proc/sys/kernel/modprobe

hostname nsbox-v2-lane
ip link set lo up

cd "$(cat /lane/checkout)" || fail "no checkout at $(cat /lane/checkout)"
set --
while IFS= read -r argument; do
    set -- "$@" "$argument"
done < /lane/pytest-args
echo "nsbox-vm-lane: booted in $(cut -d' ' -f1 /proc/uptime) s; running pytest $*"
"$(cat /lane/python)" -m pytest "$@" < /dev/null
status=$?
echo $status > /lane/exit-code
if [ $status -ne 0 ]; then
    echo "nsbox-vm-lane: the guest kernel's warnings and errors:"
    dmesg --level=emerg,alert,crit,err,warn
fi
power_off
