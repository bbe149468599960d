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

# IIO_HW_SUBSET=ci: what npm test runs in the ARM guests (TCG there is too slow for all of it):
# the self-test, and one core test file per UAPI path — libc ABI (mmap, ftruncate, ioctl,
# read/write), sysfs, read() and GET_FD, events, write(), DMABUF or its fallback.
files=('dist/test/hw/**/*.test.js')
mocha_extra=()
if [ "${IIO_HW_SUBSET:-}" = ci ]; then
  files=(dist/test/hw/{libc-abi,discovery,attr-errors,capture,events,output,dmabuf,dmabuf-fallback}.test.js)
  mocha_extra=(--grep '1000 open/capture/close cycles|10 000 single-scan fires' --invert)
fi

status=0
echo "== harness self-test"
bash harness/selftest/run.sh || status=1
echo "== core and node hardware tests"
# If node dies of a native fault, the kernel's report (the library and pc it faulted in) is what
# a CI log keeps of it: the kernel prints it only with exception-trace on and for a signal the
# process does not handle (Node's WebAssembly trap handler takes SIGSEGV; no test uses wasm).
[ -w /proc/sys/debug/exception-trace ] && echo 1 > /proc/sys/debug/exception-trace
node_diag=()
node --disable-wasm-trap-handler -e 0 2>/dev/null && node_diag=(--disable-wasm-trap-handler)
node "${node_diag[@]}" --expose-gc node_modules/.bin/mocha --exit --timeout 60000 --require dist/test/lib/node-compat.js "${mocha_extra[@]}" "${files[@]}"
rc=$?
if [ $rc -ne 0 ]; then
  status=1
  if [ $rc -gt 128 ]; then
    echo "== node died of signal $((rc - 128)) ($(node --version), $(uname -m)); the kernel's report:"
    dmesg | grep -E -A 30 'unhandled exception|segfault at|Unable to handle' | tail -n 60
  fi
fi
# The reliability suite needs the DMABUF API and time: the x86 (6.12) run only, not the ARM subsets.
if [ -z "${IIO_HW_SUBSET:-}" ]; then
  echo "== reliability suite (fuzz, randomised orders, scenarios; IIO_SEED reproduces a run)"
  bash harness/reliability.sh || status=1
fi
exit $status
