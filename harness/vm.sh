#!/usr/bin/env bash
# Run one command inside Debian's 6.12 kernel under QEMU, with our emulated IIO devices loaded.
#
#   harness/vm.sh [--arch amd64|arm64|armhf] [--timeout SECONDS] [--mem MiB]
#                 [--forward HOSTPORT:GUESTPORT] -- CMD [ARGS...]
#
# --arch (default amd64, or $IIO_ARCH): arm64 and armhf boot Debian bookworm's 6.1 kernel for that
# architecture (qemu-system-aarch64/-arm -M virt, TCG); the guest runs the target's busybox,
# bash and Node (from the npm registry) over the same shared host root (see arch.sh).
#
# --forward exposes a guest TCP port on the host's 127.0.0.1 only (QEMU user networking; the
# guest gets no route beyond it). Ctrl-C (SIGINT/SIGTERM) asks the guest to stop the command
# (SIGTERM) and power off cleanly; QEMU is killed only if that takes more than 30 s.
#
# The guest sees the host's root filesystem read-only (virtiofs), the same working directory,
# tmpfs on /tmp and /run, and a per-run directory under harness/.out writable at the same path
# (its path is in $IIO_VM_SHARE). It exits with CMD's
# exit status; 124 on timeout; 125 when the guest died without reporting one. The full guest
# console is kept in harness/.out/console.log and the guest's dmesg in harness/.out/dmesg.log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
timeout_s=600
mem_mb=2048
forward=""
IIO_ARCH=${IIO_ARCH:-amd64}
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout_s=$2; shift 2 ;;
    --mem) mem_mb=$2; shift 2 ;;
    --forward) forward=$2; shift 2 ;;
    --arch) IIO_ARCH=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: harness/vm.sh [--arch amd64|arm64|armhf] [--timeout S] [--mem MiB] [--forward HOSTPORT:GUESTPORT] -- CMD [ARGS...]" >&2; exit 2; }
net=()
if [ -n "$forward" ]; then
  [[ "$forward" =~ ^[0-9]+:[0-9]+$ ]] || { echo "vm.sh: --forward wants HOSTPORT:GUESTPORT" >&2; exit 2; }
  net=(-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${forward%%:*}-:${forward##*:}" -device virtio-net-pci,netdev=n0)
fi

out="$here/.out"
mkdir -p "$out"
# One build at a time: VMs started side by side from one tree would otherwise race in make and
# in writing the shared initramfs.
exec 9>"$out/build.lock"
flock 9
# IIO_EMU_NOLOAD=1: boot without our module. arch.sh provisions, builds and sets the guest's
# kernel, QEMU machine and userland.
# shellcheck source=arch.sh
. "$here/arch.sh"

initrd=$out/initramfs.cpio.gz
[ "$IIO_ARCH" = amd64 ] || initrd=$out/initramfs-$IIO_ARCH.cpio.gz
bash "$here/mkinitramfs.sh" "$initrd" "$IIO_ARCH"
flock -u 9
exec 9>&-
# Each run has its own sockets and share, so several VMs can run side by side.
run=$(mktemp -d "$out/run.XXXXXX")
share="$run/share"
mkdir -p "$share"

# The command and the environment it runs in, as a script the guest sources.
{
  echo "cd $(printf %q "$PWD")"
  echo "export IIO_VM_SHARE=$(printf %q "$share")"
  for v in CI TERM NO_COLOR FORCE_COLOR $(compgen -e | grep -E '^(IIO_|MOCHA_|NODE_OPTIONS$|DEBUG$)' || true); do
    [ -n "${!v+x}" ] && echo "export $v=$(printf %q "${!v}")"
  done
  printf 'exec'; printf ' %q' "$@"; echo
} > "$share/cmd.sh"
# Sourced by guest.sh before it loads the emulator: what differs per architecture.
{
  echo "export IIO_VM_ARCH=$IIO_ARCH"
  echo "export IIO_EMU_KO=$(printf %q "$EMU_KO") IIO_SELFTEST_BIN=$(printf %q "$SELFTEST_BIN")"
  [ -z "$GUEST_NODE_PATH" ] || echo "export NODE_PATH=$(printf %q "$GUEST_NODE_PATH")"
} > "$share/guest-env.sh"

vfsd=/usr/lib/qemu/virtiofsd
sock_root="$run/root.sock"; sock_share="$run/share.sock"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  cp -f "$run/console.log" "$out/console.log" 2>/dev/null || true
  cp -f "$share/dmesg.log" "$out/dmesg.log" 2>/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT

accel=tcg,thread=multi
# x86 reports through isa-debug-exit; ARM's virt has none: the guest powers off by PSCI and the
# status comes from the share alone.
exitdev=()
[ "$IIO_ARCH" = amd64 ] && exitdev=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
[ "${IIO_VM_KVM:-0}" = 1 ] && accel=kvm   # only where KVM demonstrably works (not on our CI)

stop_requested=0
request_stop() {
  [ "$stop_requested" = 1 ] && return
  stop_requested=1
  echo "vm.sh: stopping the guest..." >&2
  touch "$share/stop"
  # Kill QEMU only if the guest does not power off by itself.
  ( sleep 30; pkill -f -- "-append console=${CONSOLE:-ttyS0} .*iioemu.share=$share " 2>/dev/null ) &
  pids+=($!)
}
trap request_stop INT TERM

boot() {
  # Own sessions: a terminal's Ctrl-C must not take the guest's filesystems away mid-shutdown.
  setsid "$vfsd" --socket-path="$sock_root" -o source=/ -o cache=always -o sandbox=chroot \
    -o announce_submounts 2>>"$run/virtiofsd.log" & pids+=($!)
  setsid "$vfsd" --socket-path="$sock_share" -o source="$share" -o cache=none -o sandbox=chroot \
    2>>"$run/virtiofsd.log" & pids+=($!)
  for _ in $(seq 100); do [ -S "$sock_root" ] && [ -S "$sock_share" ] && break; sleep 0.05; done

  # QEMU runs in its own session so a terminal's Ctrl-C reaches only this script, which then asks
  # the guest to stop (the guest watches for $share/stop) instead of killing the VM mid-write.
  (
    setsid -w timeout --kill-after=10 "$timeout_s" "$QEMU" \
      -machine "$QEMU_MACHINE" -accel "$accel" -cpu "$QEMU_CPU" -smp "$(nproc)" -m "$mem_mb" \
      -object memory-backend-memfd,id=mem,size="${mem_mb}M",share=on -numa node,memdev=mem \
      -kernel "$VMLINUZ" -initrd "$initrd" \
      -append "console=$CONSOLE quiet loglevel=4 panic=-1 ${KERNEL_ARGS:+$KERNEL_ARGS }iioemu.share=$share iioemu.guest=$here/guest.sh iioemu.noload=${IIO_EMU_NOLOAD:-0} iioemu.net=${forward:+1}${GUEST_USERLAND:+ iioemu.userland=$GUEST_USERLAND}" \
      -chardev socket,id=root,path="$sock_root" -device vhost-user-fs-pci,chardev=root,tag=hostroot \
      -chardev socket,id=share,path="$sock_share" -device vhost-user-fs-pci,chardev=share,tag=share \
      "${net[@]}" "${exitdev[@]}" \
      -display none -monitor none -serial stdio -no-reboot -nodefaults </dev/null \
      | tee -i "$run/console.log"
    exit "${PIPESTATUS[0]}"
  ) &
  vm=$!
  set +e
  while :; do
    wait "$vm"
    qemu_rc=$?
    kill -0 "$vm" 2>/dev/null || break   # a signal interrupted wait: wait again
  done
  set -e
}

# QEMU's multi-threaded TCG very rarely oopses while the kernel patches its own code early in
# boot. A guest that dies before our stage 2 even started is booted again (at most twice more).
for attempt in 1 2 3; do
  rm -f "$run/root.sock" "$run/share.sock"
  boot
  [ -f "$share/started" ] || [ "$stop_requested" = 1 ] || [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ] || [ "$attempt" = 3 ] || {
    echo "vm.sh: the guest died during boot (attempt $attempt); booting again" >&2
    cp -f "$run/console.log" "$out/console-failed-boot.log"
    continue
  }
  break
done

if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
  echo "vm.sh: TIMEOUT after ${timeout_s}s; console tail:" >&2
  tail -n 40 "$run/console.log" >&2
  exit 124
fi
if [ ! -f "$share/exit-status" ]; then
  echo "vm.sh: the guest died without reporting an exit status (qemu exit $qemu_rc); console tail:" >&2
  tail -n 40 "$run/console.log" >&2
  exit 125
fi
rc=$(cat "$share/exit-status")
if [ "$rc" != 0 ]; then
  echo "vm.sh: guest command exited with status $rc (console: $out/console.log)" >&2
fi
exit "$rc"
