#!/usr/bin/env bash
# The hardware suite: the harness self-test, the core's and the nodes' hardware tests, then the
# reliability suite (harness/reliability.sh).
# Runs inside the VM (npm run test:hw) or directly on a Linux board with the emulator module
# loaded (see README, "Running the hardware suite on a real board").
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d /sys/bus/iio/devices ] || { echo "hw-suite: no IIO in this kernel (/sys/bus/iio/devices missing)"; exit 1; }
grep -qx emu-adc /sys/bus/iio/devices/iio:device*/name 2>/dev/null ||
  { echo "hw-suite: the emulator module is not loaded (insmod harness/emu/iio_emu.ko)"; exit 1; }

status=0
echo "== harness self-test"
bash harness/selftest/run.sh || status=1
echo "== core and node hardware tests"
node --expose-gc node_modules/.bin/mocha --exit --timeout 60000 'dist/test/hw/**/*.test.js' || status=1
echo "== reliability suite (fuzz, randomised orders, scenarios; IIO_SEED reproduces a run)"
bash harness/reliability.sh || status=1
exit $status
