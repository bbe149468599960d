#!/usr/bin/env bash
# node-red-dev validate (the Node-RED Flow Library's scorecard) on the packed tarball.
# node-red-dev comes from the npm registry into harness/.cache/node-red-dev. Its P08 check fetches
# catalogue.nodered.org, which CI cannot reach; that one request gets an empty catalogue (and
# says so), so the rest of the checks still run. Everything else it asks goes to the npm registry.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
tool=$here/.cache/node-red-dev
[ -x "$tool/node_modules/.bin/node-red-dev" ] ||
  npm install --silent --no-save --no-audit --no-fund --prefix "$tool" node-red-dev@0.1 >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && npm pack --silent --ignore-scripts --pack-destination "$work" >/dev/null)
tar xzf "$work"/*.tgz -C "$work"
cat > "$work/offline-catalogue.js" <<'JS'
const axios = require(require.resolve('axios', { paths: [process.env.NRDEV_DIR] }));
const get = axios.get;
axios.get = function (url, ...rest) {
  if (String(url).startsWith('https://catalogue.nodered.org/')) {
    console.log('   (validate.sh: catalogue.nodered.org is not reachable here: P08 checked against an empty catalogue)');
    return Promise.resolve({ data: { modules: [] } });
  }
  return get.call(this, url, ...rest);
};
JS
NRDEV_DIR=$tool/node_modules/node-red-dev node -r "$work/offline-catalogue.js" \
  "$tool/node_modules/node-red-dev/bin/run" validate -p "$work/package"
