#!/usr/bin/env bash
# npm run test:soak, inside the VM (or on a board with the emulator module loaded): the longer
# runs of issue 16. 1) a real Node-RED process: 1 000 deploys through the admin API, then a
# 10-minute overload of emu-adc at 100 kHz (memory and event-loop figures from inside Node-RED);
# 2) the reliability suite scaled up (10× the fuzz messages, 10× the randomised rounds).
# Override: IIO_SOAK_DEPLOYS, IIO_SOAK_OVERLOAD_S, IIO_FUZZ_MESSAGES, IIO_ORDER_ROUNDS, IIO_SEED.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "== soak: real Node-RED, ${IIO_SOAK_DEPLOYS:-1000} deploys, ${IIO_SOAK_OVERLOAD_S:-600} s overload"
node dist/test/reliability/soak.js || status=1
echo "== soak: the reliability suite, scaled up"
IIO_FUZZ_MESSAGES=${IIO_FUZZ_MESSAGES:-20000} IIO_ORDER_ROUNDS=${IIO_ORDER_ROUNDS:-60} bash harness/reliability.sh || status=1
exit $status
