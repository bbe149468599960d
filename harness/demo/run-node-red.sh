#!/usr/bin/env bash
# Starts Node-RED with this package and the demo flows in a fresh user directory.
#   vm:    inside the harness VM, on the emulated devices (emu-thermo follows a heat/cool cycle)
#   local: on this machine, against whatever IIO devices it has
#   editor: inside the VM with an empty flow and no dashboard, and iiod serving the guest's devices
#           on ip:127.0.0.1 (the editor tests, test/editor)
set -euo pipefail
mode=${1:-vm}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
userdir=$(mktemp -d /tmp/node-red-iio-demo.XXXXXX)
mkdir -p "$userdir/node_modules/@flowfuse"
ln -s "$repo" "$userdir/node_modules/node-red-contrib-iio"
if [ "$mode" = editor ]; then
  echo '[]' > "$userdir/flows.json"
else
  ln -s "$repo/harness/.out/demo-deps/node_modules/@flowfuse/node-red-dashboard" "$userdir/node_modules/@flowfuse/node-red-dashboard"
  node "$repo/harness/demo/flows.js" > "$userdir/flows.json"
fi
port=1880
[ "$mode" = local ] && port=${IIO_DEMO_PORT:-1880}
host=127.0.0.1
[ "$mode" = local ] || host=0.0.0.0   # reached only through QEMU's forward on the host's loopback
cat > "$userdir/settings.js" <<JS
module.exports = {
  uiHost: '$host',
  uiPort: $port,
  flowFile: 'flows.json',
  credentialSecret: false,
  diagnostics: { enabled: false },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { projects: { enabled: false }, tours: false },
  logging: { console: { level: 'info' } },
};
JS

if [ "$mode" = vm ]; then
  # emu-thermo heats from 20 °C to 50 °C and back every 40 s: the alarm fires and clears by itself.
  for d in /sys/bus/iio/devices/iio:device*; do
    [ "$(cat "$d/name")" = emu-thermo ] && echo 40000 > "$d/emu_heat_cycle_ms"
  done
fi

iiod_pid=
if [ "$mode" = editor ] && [ -x /usr/sbin/iiod ]; then
  # The editor tests' board: the guest's own iiod, ip:127.0.0.1 (port 30431).
  /usr/sbin/iiod >/dev/null 2>&1 &
  iiod_pid=$!
fi

# IIO_NODE_BIN and IIO_NODE_RED_MODULES pick another Node and Node-RED (harness/node-red5.sh's, for the
# editor tests under Node-RED 5); by default the host's node and the project's Node-RED 4.1.
"${IIO_NODE_BIN:-node}" "${IIO_NODE_RED_MODULES:-$repo/node_modules}/node-red/red.js" --userDir "$userdir" --settings "$userdir/settings.js" &
red=$!
trap 'kill -TERM $red $iiod_pid 2>/dev/null; wait $red; exit 0' TERM INT
for _ in $(seq 600); do
  if node -e "require('http').get('http://127.0.0.1:$port/', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"; then
    echo "demo: Node-RED is up: editor http://127.0.0.1:${IIO_DEMO_PORT:-1880}/ , dashboard http://127.0.0.1:${IIO_DEMO_PORT:-1880}/dashboard"
    break
  fi
  kill -0 $red 2>/dev/null || break
  sleep 1
done
wait $red
