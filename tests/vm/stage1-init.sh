#!/bin/sh
# Stage 1 of the cgroup v2 lane's guest (the initramfs's /init, run by busybox):
# mount the host's root read-only over virtio-9p with a tmpfs overlay on top, mount the
# lane's read-write share at /lane, and switch_root into the host's userspace to run
# /lane/stage2-run-tests.sh.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev

fail() {
    echo "nsbox-vm-lane stage 1: $*" >&2
    reboot -f
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
mkdir -p /newroot/lane
mount -t 9p -o "$nine_p" lane /newroot/lane || fail "cannot mount the lane's share (9p tag lane)"

umount /proc
umount /dev
exec switch_root /newroot /bin/sh /lane/stage2-run-tests.sh
