#!/bin/sh
# Stage 1 of the cgroup v2 lane's guest: the initramfs's /init, run by busybox.
# It makes the guest a pure cgroup v2 machine on the host's own userspace: the host's
# root read-only over virtio-9p with a tmpfs overlay on top, the lane's read-write share
# at /lane, cgroup2 at /sys/fs/cgroup with every controller handed down from the root
# (as systemd does), then switch_root into it to run /lane/stage2-run-tests.sh.
# All of this runs here, in busybox, because every exec of a dynamically linked host
# program costs a second or more under TCG.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev

fail() {
    echo "nsbox-vm-lane stage 1: $*" >&2
    poweroff -f
}

for module in /lib/modules/*.ko; do
    insmod "$module" || fail "insmod $module failed"
done

nine_p=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$nine_p,ro,cache=loose" hostroot /lower || fail "cannot mount the host's root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "cannot mount the overlay's tmpfs"
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot \
    || fail "cannot mount the overlay on the host's root"

cd /newroot
mkdir -p lane
mount -t 9p -o "$nine_p" lane lane || fail "cannot mount the lane's share (9p tag lane)"
mount -t proc proc proc
mount -t sysfs sysfs sys
mount -t devtmpfs devtmpfs dev
mkdir -p dev/pts dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts dev/pts
mount -t tmpfs -o mode=1777 tmpfs dev/shm
mount -t tmpfs -o mode=0755 tmpfs run

# The guest kernel's own modules (the host has none for it), loaded on demand by
# busybox's modprobe.
release=$(uname -r)
mkdir -p "lib/modules/$release" run/nsbox-vm-lane
mount --bind "/newroot$(cat lane/modules)" "lib/modules/$release" || fail "cannot bind the guest's modules"
ln -s /bin/busybox run/nsbox-vm-lane/modprobe
echo /run/nsbox-vm-lane/modprobe > proc/sys/kernel/modprobe

# A real tmpfs on /tmp: overlayfs refuses an upper directory on the overlay the guest's
# root is, and the tests make overlay mounts in their temporary directories. A checkout
# that lives under /tmp is carried over it (writes to it still land in the root's tmpfs).
checkout=$(cat lane/checkout)
case "$checkout" in
    /tmp/*)
        mkdir /rw/checkout
        mount --bind "/newroot$checkout" /rw/checkout
        mount -t tmpfs -o mode=1777 tmpfs tmp
        mkdir -p "/newroot$checkout"
        mount --move /rw/checkout "/newroot$checkout" ;;
    *)
        mount -t tmpfs -o mode=1777 tmpfs tmp ;;
esac

mount -t bpf bpf sys/fs/bpf
# The kernel was booted with cgroup_no_v1=all: every controller is on the v2 hierarchy.
mount -t cgroup2 -o nsdelegate cgroup2 sys/fs/cgroup || fail "cannot mount cgroup2"
for controller in $(cat sys/fs/cgroup/cgroup.controllers); do
    echo "+$controller" > sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable $controller"
done

# Loop devices are reached through /dev/loop-control, which exists only once the module is in.
chroot . /bin/busybox modprobe loop || fail "cannot load the loop module"

hostname nsbox-v2-lane
ip link set lo up
cd /
umount /proc /dev
exec switch_root /newroot /bin/busybox sh /lane/stage2-run-tests.sh
