#!/usr/bin/env bash
# Builds the tiny busybox initramfs whose only job is to mount the host root (virtiofs) and
# switch to it. Rebuilt only when its inputs change.
#
#   mkinitramfs.sh DEST [amd64|arm64|armhf]
#
# ARM: the target's busybox and, since Debian's arm64/armmp kernels build virtio-pci, fuse and
# virtiofs as modules, those modules (insmod'ed in the order of /modules/order).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=$1
arch=${2:-amd64}
busybox=/bin/busybox
stamp=${BASH_SOURCE[0]}
mods=()
if [ "$arch" != amd64 ]; then
  root=$here/.cache/$arch/root
  busybox=$root/bin/busybox
  stamp=$here/.cache/$arch/root.stamp   # a new kernel brings new modules
  kver=$(cat "$stamp")
  kmod=$root/lib/modules/$kver/kernel
  for m in drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
           drivers/virtio/virtio_pci fs/fuse/fuse fs/fuse/virtiofs; do
    [ -f "$kmod/$m.ko" ] && mods+=("$kmod/$m.ko")   # absent: built in
  done
fi
if [ -f "$dest" ] && [ "$dest" -nt "$here/initramfs-init" ] && [ "$dest" -nt "$busybox" ] &&
   [ "$dest" -nt "${BASH_SOURCE[0]}" ] && [ "$dest" -nt "$stamp" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,modules}
cp "$busybox" "$work/bin/busybox"
cp "$here/initramfs-init" "$work/init"
chmod 755 "$work/init"
for m in "${mods[@]}"; do
  cp "$m" "$work/modules/"
  basename "$m" >> "$work/modules/order"
done
(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$dest.tmp"
mv "$dest.tmp" "$dest"
