#!/usr/bin/env bash
# npm run demo: Node-RED with the example flows on the emulated devices, in the VM, with the
# editor forwarded to http://127.0.0.1:1880 on this machine. Ctrl-C stops it cleanly.
#   npm run demo -- --local   runs the same Node-RED on this machine against its own IIO devices.
# IIO_DEMO_PORT changes the host port (default 1880).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
port=${IIO_DEMO_PORT:-1880}
export IIO_DEMO_PORT=$port

# Dashboard 2 draws the charts; it is installed for the demo only, not a dependency of the package.
deps="$repo/harness/.out/demo-deps"
if [ ! -f "$deps/node_modules/@flowfuse/node-red-dashboard/package.json" ]; then
  echo "demo: installing @flowfuse/node-red-dashboard (demo only)"
  mkdir -p "$deps"
  npm install --prefix "$deps" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
    @flowfuse/node-red-dashboard@1.31.0
fi
[ -d node_modules/node-red ] || npm ci
npm run -s build

if [ "${1:-}" = "--local" ]; then
  echo "demo: Node-RED on this machine, against its own IIO devices: http://127.0.0.1:$port/"
  exec bash "$here/run-node-red.sh" local
fi
echo "demo: booting the VM; the editor will be at http://127.0.0.1:$port/ (dashboard: /dashboard). Ctrl-C stops."
exec bash harness/vm.sh --timeout 604800 --mem 3072 --forward "$port:1880" -- bash harness/demo/run-node-red.sh vm
