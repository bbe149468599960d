#!/usr/bin/env bash
# Builds the tiny busybox initramfs whose only job is to mount the host root (virtiofs) and
# switch to it. Rebuilt only when its inputs change.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=$1
if [ -f "$dest" ] && [ "$dest" -nt "$here/initramfs-init" ] && [ "$dest" -nt /bin/busybox ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot}
cp /bin/busybox "$work/bin/busybox"
cp "$here/initramfs-init" "$work/init"
chmod 755 "$work/init"
(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$dest.tmp"
mv "$dest.tmp" "$dest"
