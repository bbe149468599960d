#!/usr/bin/env bash
# Sourced by vm.sh with IIO_ARCH set (amd64, arm64 or armhf): provisions that guest and sets
#   KVER VMLINUZ KDIR       the guest kernel and its headers
#   QEMU QEMU_MACHINE QEMU_CPU CONSOLE   how to boot it (KERNEL_ARGS: more of the guest command line)
#   EMU_KO SELFTEST_BIN     the emulator module and the self-test built for it
#   GUEST_USERLAND          (ARM only) the cache dir whose bin/ and kernel modules the guest mounts
#   GUEST_NODE_PATH         (ARM only) where node finds ffi-rs's binary for the target
# ARM guests run Debian bookworm's own 6.1 kernels (the archive has 6.12 only for amd64).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "$IIO_ARCH" in
  amd64)
    bash "$here/provision.sh"
    # shellcheck source=kernel.sh
    . "$here/kernel.sh"
    QEMU=qemu-system-x86_64; QEMU_MACHINE=q35; QEMU_CPU=max; CONSOLE=ttyS0
    # tsc=reliable: under TCG on a loaded host the clocksource watchdog takes the TSC for unstable
    # and switches clocksource, patching kernel text live; that patching raced a vCPU in
    # sched_clock_cpu and panicked the guest (int3 oops, seen 2026-12-02 in a DMABUF benchmark).
    KERNEL_ARGS="tsc=reliable"
    EMU_KO=$here/emu/iio_emu.ko; SELFTEST_BIN=$here/selftest/iio_selftest
    GUEST_USERLAND=""; GUEST_NODE_PATH=""
    if [ "${IIO_EMU_NOLOAD:-0}" != 1 ]; then
      make -s -C "$here/emu" KDIR="$KDIR"
      make -s -C "$here/selftest"
      make -s -C "$here/bench"   # the benchmark's C yardsticks
    fi
    ;;
  arm64|armhf)
    bash "$here/provision-arm.sh" "$IIO_ARCH"
    cache=$here/.cache/$IIO_ARCH
    KVER=$(cat "$cache/root.stamp")
    VMLINUZ=$cache/root/boot/vmlinuz-$KVER
    KDIR=$cache/root/usr/src/linux-headers-$KVER
    if [ "$IIO_ARCH" = arm64 ]; then
      QEMU=qemu-system-aarch64; QEMU_MACHINE=virt; QEMU_CPU=max,pauth-impdef=on
      karch=arm64; cross=aarch64-linux-gnu-
    else
      QEMU=qemu-system-arm; QEMU_MACHINE=virt,highmem=off; QEMU_CPU=cortex-a15
      karch=arm; cross=arm-linux-gnueabihf-
    fi
    CONSOLE=ttyAMA0
    GUEST_USERLAND=$cache; GUEST_NODE_PATH=$cache/node_modules
    EMU_KO=$cache/emu/iio_emu.ko; SELFTEST_BIN=$cache/iio_selftest
    if [ "${IIO_EMU_NOLOAD:-0}" != 1 ]; then
      # Built in a copy so the x86 objects beside the sources stay; cp -p keeps make incremental.
      mkdir -p "$cache/emu"
      cp -p "$here"/emu/*.c "$here"/emu/*.h "$here"/emu/Makefile "$cache/emu/"
      make -s -C "$KDIR" M="$cache/emu" ARCH="$karch" CROSS_COMPILE="$cross" modules
      if [ ! -x "$SELFTEST_BIN" ] || [ "$here/selftest/iio_selftest.c" -nt "$SELFTEST_BIN" ]; then
        "${cross}gcc" -O2 -g -Wall -Wextra -Werror -std=gnu11 -o "$SELFTEST_BIN" "$here/selftest/iio_selftest.c"
      fi
    fi
    ;;
  *) echo "unknown architecture '$IIO_ARCH' (amd64, arm64 or armhf)" >&2; exit 2 ;;
esac
export KVER VMLINUZ KDIR
