#!/bin/sh
# Stage 2 (in the guest, on the host's root): load IIO and our emulator, run the command,
# report its exit status through the share and power off.
share=$1
here=$(dirname "$0")
: > "$share/started"   # tells vm.sh the boot got this far
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home LANG=C.UTF-8
mkdir -p "$HOME" /dev/shm /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
hostname iio-vm 2>/dev/null
ip link set lo up 2>/dev/null
if grep -q 'iioemu.net=1' /proc/cmdline; then
  # QEMU user networking for a forwarded port: an address, no default route.
  modprobe virtio_net && ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 || echo "guest: no network"
fi

# Per-architecture paths (module, self-test binary, NODE_PATH), written by vm.sh.
[ -f "$share/guest-env.sh" ] && . "$share/guest-env.sh"
rc=0
modprobe configfs && mount -t configfs configfs /sys/kernel/config || rc=126
modprobe -a industrialio industrialio-configfs industrialio-sw-trigger iio-trig-hrtimer \
  iio-trig-sysfs kfifo_buf industrialio-triggered-buffer industrialio-triggered-event || rc=126
if [ "$rc" = 0 ] && ! grep -q 'iioemu.noload=1' /proc/cmdline; then
  insmod "${IIO_EMU_KO:-$here/emu/iio_emu.ko}" || rc=126
fi
if [ "$rc" = 0 ]; then
  (. "$share/cmd.sh") </dev/null &
  cmd=$!
  # The host asks for a clean stop (Ctrl-C on vm.sh) by creating $share/stop.
  while kill -0 "$cmd" 2>/dev/null; do
    if [ -e "$share/stop" ]; then kill -TERM "$cmd" 2>/dev/null; break; fi
    sleep 0.5
  done
  wait "$cmd"
  rc=$?
else
  echo "guest: could not load the IIO modules or the emulator (status $rc)"
fi

dmesg > "$share/dmesg.log"
if grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|possible circular locking|possible recursive locking|inconsistent lock state|unreferenced object|kmemleak|UBSAN|KASAN' "$share/dmesg.log" >/dev/null; then
  echo "guest: the kernel log has warnings or bugs:"
  grep -E -A 20 'WARNING:|BUG:|Oops|general protection|possible circular|possible recursive|inconsistent lock|unreferenced object|UBSAN|KASAN' "$share/dmesg.log" | head -n 60
  [ "$rc" = 0 ] && rc=99
fi
echo "$rc" > "$share/exit-status"
sync
# isa-debug-exit: QEMU leaves at once; sysrq poweroff as the fallback.
printf '\001' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
echo o > /proc/sysrq-trigger
sleep 5
