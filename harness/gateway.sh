#!/usr/bin/env bash
# The gateway test (issue 14): a Node-RED runtime on this host and two boards, each a VM
# (harness/vm.sh --forward) running Debian's iiod over its emulator. The test boots and powers off
# the VMs itself; this script stops any it left behind, whatever happens. Needs `npm run build`.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p harness/.out
pids=$(mktemp harness/.out/gateway-pids.XXXXXX)
cleanup() {
  # vm.sh powers its guest off on TERM (and kills QEMU if it does not).
  while read -r pid; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null; fi
  done < "$pids"
  while read -r pid; do
    while kill -0 "$pid" 2>/dev/null; do sleep 1; done
  done < "$pids"
  rm -f "$pids"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
IIO_GATEWAY_PIDS="$pids" node_modules/.bin/mocha --exit --timeout 1500000 dist/test/gateway/gateway.test.js
