# Stage 2 of the cgroup v2 lane's guest, run by busybox sh as PID 1 in the host's
# userspace once stage 1 has set the machine up: run pytest as root in the checkout with
# the arguments the host left in /lane, write its exit code to /lane/exit-code, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 PY_COLORS=0

read -r checkout < /lane/checkout
read -r python < /lane/python
cd "$checkout" || busybox poweroff -f
set --
while IFS= read -r argument; do
    set -- "$@" "$argument"
done < /lane/pytest-args
echo "nsbox-vm-lane: booted in $(busybox cut -d' ' -f1 /proc/uptime) s; running pytest $*"
"$python" -m pytest "$@" < /dev/null
status=$?
echo $status > /lane/exit-code
if [ $status -ne 0 ]; then
    echo "nsbox-vm-lane: the guest kernel's errors:"
    busybox dmesg -r | busybox grep '^<[0-3]>'
fi
busybox sync
busybox poweroff -f
