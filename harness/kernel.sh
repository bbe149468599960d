# Sourced: finds the installed Debian 6.12 kernel (the metapackages move; never hard-code it).
KVER=$(ls /lib/modules | grep -E '^6\.12\.' | sort -V | tail -n 1)
[ -n "$KVER" ] || { echo "no 6.12 kernel installed: run harness/provision.sh" >&2; exit 1; }
VMLINUZ=/boot/vmlinuz-$KVER
KDIR=/lib/modules/$KVER/build
export KVER VMLINUZ KDIR
