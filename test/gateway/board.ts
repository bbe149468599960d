// One board of the gateway test, run in a VM (harness/vm.sh --forward HOST:30431): an hrtimer
// trigger for emu-adc (iiod describes the context once, when it starts: it must exist before),
// then Debian's iiod in the foreground until the VM is powered off.
import { spawn } from 'child_process';
import { createHrtimerTrigger } from '../../src/trigger';

export const BOARD_TRIGGER = 'gw-adc';
/** Low enough that two TCG guests on a small host keep up (the test checks every scan). */
export const BOARD_HZ = 200;

if (require.main === module) {
  createHrtimerTrigger(BOARD_TRIGGER).writeFrequency(BOARD_HZ);
  const iiod = spawn('/usr/sbin/iiod', [], { stdio: 'inherit' });
  iiod.on('exit', (code, signal) => {
    console.error(`gateway board: iiod exited (${code ?? signal})`);
    process.exit(1);
  });
}
