#!/usr/bin/env bash
# The reliability suite (test/reliability): seeded fuzzing, randomised deploy orders, trigger
# life cycles, device removal, loss accounting. Runs where the emulator module is loaded (inside
# the VM from hw-suite.sh, or on a board). IIO_SEED=N reproduces a run; IIO_FUZZ_MESSAGES and
# IIO_ORDER_ROUNDS scale it (harness/soak.sh runs it bigger). Prints the summary table last.
set -uo pipefail
cd "$(dirname "$0")/.."
grep -qx emu-adc /sys/bus/iio/devices/iio:device*/name 2>/dev/null ||
  { echo "reliability: the emulator module is not loaded (insmod harness/emu/iio_emu.ko)"; exit 1; }
echo "== reliability suite (IIO_SEED=${IIO_SEED:-default})"
exec node --expose-gc node_modules/.bin/mocha --exit --timeout 0 "${@:-dist/test/reliability/*.test.js}"
