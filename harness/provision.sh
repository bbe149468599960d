#!/usr/bin/env bash
# Installs what the VM harness needs on a Debian 12 host (root). Idempotent: skips what is present.
set -euo pipefail

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
# grep without -q: -q exits at the first match and, under pipefail, the writer's SIGPIPE fails the test
[ -x /bin/busybox ] && /bin/busybox --list | grep -x insmod >/dev/null || need+=(busybox-static)
ls /boot/vmlinuz-6.12.* >/dev/null 2>&1 || need+=(linux-image-6.12-amd64)
ls -d /usr/src/linux-headers-6.12.*-amd64 >/dev/null 2>&1 || need+=(linux-headers-6.12-amd64)
command -v cpio >/dev/null || need+=(cpio)
command -v xz >/dev/null || need+=(xz-utils)
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
# iio_readdev: the reference the benchmark (npm run bench) measures the capture path against.
command -v iio_readdev >/dev/null || need+=(libiio-utils)
# iiod: the remote-board tests run Debian's daemon inside the guest, which sees the host's root
# (virtiofs), so a host install is what puts /usr/sbin/iiod in the guest.
[ -x /usr/sbin/iiod ] || need+=(iiod)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "provision: missing ${need[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  echo "provision: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The package enables iiod.service, which would serve this host's IIO devices to the network
  # without authentication. The harness needs only the binary: keep the host's daemon off.
  if [[ " ${need[*]} " == *" iiod "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now iiod.service >/dev/null 2>&1 || true
  fi
fi
