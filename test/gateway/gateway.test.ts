// The gateway test (issue 14): one Node-RED runtime on the host, two boards — two VMs, each with
// Debian's iiod serving its own emulator, forwarded to 127.0.0.1:PORT — captured from at once with
// the emulator's exact values. One board is powered off mid-capture: its node shows disconnected
// while the other keeps delivering exact blocks; a new VM comes up on the same port and the first
// capture resumes by itself. Run by harness/gateway.sh (npm run test:gateway), which cleans up.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import { spawn, ChildProcess } from 'child_process';
import { emuAdcBlock, emuAdcPatternBytes, EMU_ADC_CHANNELS } from '../lib/emu-pattern';
import { waitFor } from '../lib/hw';
import { helper, allNodes, collect, statusesOf, CATCH_ALL, Msg } from '../lib/node-red';
import { BOARD_TRIGGER } from './board';

const ALL = EMU_ADC_CHANNELS.map((c) => c.name);
const SCANS = 100;
/** A TCG guest's boot, with the other one booting beside it on a small host. */
const BOOT_MS = 420000;

/** A free port on 127.0.0.1 for a VM's forwarded iiod. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Vm {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  log: string[];
}

/** Boots a VM running one board (board.js) with its iiod forwarded to 127.0.0.1:`port`. */
function startVm(name: string, port: number): Vm {
  const proc = spawn('bash', ['harness/vm.sh', '--timeout', '1200', '--forward', `${port}:30431`, '--', 'node', 'dist/test/gateway/board.js'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // harness/gateway.sh stops whatever is listed here if this process dies first.
  if (process.env.IIO_GATEWAY_PIDS) fs.appendFileSync(process.env.IIO_GATEWAY_PIDS, `${proc.pid}\n`);
  const log: string[] = [];
  const keep = (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean).map((l) => `[${name}] ${l}`));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { name, proc, exited, log };
}

/** Powers the VM off (vm.sh asks the guest to stop) and waits for it to be gone. */
async function stopVm(vm: Vm | null): Promise<void> {
  if (!vm || vm.proc.exitCode !== null || vm.proc.signalCode !== null) return;
  vm.proc.kill('SIGTERM');
  await vm.exited;
}

/** Waits for `check`, failing at once (with the VM's log) if a VM's vm.sh ends meanwhile. */
async function waitWhileUp(check: () => boolean, what: string, vms: Vm[], ms = BOOT_MS): Promise<void> {
  await waitFor(() => {
    const dead = vms.find((v) => v.proc.exitCode !== null || v.proc.signalCode !== null);
    if (dead) throw new Error(`VM ${dead.name} ended (vm.sh ${dead.proc.exitCode ?? dead.proc.signalCode}) while waiting for ${what}:\n${dead.log.slice(-20).join('\n')}`);
    return check();
  }, `${what} (did a VM not come up? ${vms.map((v) => v.log.slice(-3).join(' | ')).join(' || ')})`, ms);
}

/** The blocks are one capture from its start: sequences 1…n, the emulator's exact scans 0…. */
function assertExactFromStart(msgs: Msg[], which: string): void {
  assert.deepEqual(msgs.map((m) => [m.sequence, m.scans, m.transport]), msgs.map((_, i) => [i + 1, SCANS, 'iiod']), `${which}: sequences`);
  const data = emuAdcPatternBytes(msgs.map((m) => m.payload as Buffer), ALL);
  assert.ok(data.equals(emuAdcBlock(ALL, 0, msgs.length * SCANS)), `${which}: the emulator's exact scans 0..${msgs.length * SCANS - 1}`);
}

describe('gateway: one runtime, two boards over iiod (two VMs)', function () {
  this.timeout(BOOT_MS * 3);
  let a: Vm | null = null;
  let b: Vm | null = null;

  before((done) => {
    helper.startServer(done);
  });
  after(async () => {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    await Promise.all([stopVm(a), stopVm(b)]);
  });

  it('captures both boards at once; one powered off: disconnected, the other goes on exactly; a new VM on its port: capture resumes by itself', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    a = startVm('A', portA);
    b = startVm('B', portB);
    const device = (id: string, port: number) => ({ id, type: 'iio-device', uri: `ip:127.0.0.1:${port}`, deviceName: 'emu-adc' });
    const capture = (id: string, dev: string, out: string) => ({ id, type: 'iio-in', device: dev, samples: SCANS, output: 'raw', trigger: BOARD_TRIGGER, wires: [[out]] });
    await helper.load(allNodes, [
      device('devA', portA),
      device('devB', portB),
      capture('inA', 'devA', 'outA'),
      capture('inB', 'devB', 'outB'),
      { id: 'outA', type: 'helper' },
      { id: 'outB', type: 'helper' },
      ...CATCH_ALL,
    ]);
    const gotA = collect('outA');
    const gotB = collect('outB');
    const caught = collect('n-caught');
    const stA = statusesOf('inA');
    const stB = statusesOf('inB');

    // Both boards up and captured from at once.
    await waitWhileUp(() => gotA.length >= 3 && gotB.length >= 3, 'three blocks from each board', [a, b]);
    assertExactFromStart(gotA.slice(0, 3), 'board A');
    assertExactFromStart(gotB.slice(0, 3), 'board B');
    assert.equal(caught.length, 0, caught.map((c: Msg) => c.error.message).join('\n'));

    // Board A powered off mid-capture.
    const fromA = stA.length;
    const fromB = stB.length;
    const beforeA = gotA.length;
    await stopVm(a);
    await waitWhileUp(() => stA.slice(fromA).some((s) => s.text === 'disconnected'), 'board A shown disconnected', [b], 120000);
    const bAtLoss = gotB.length;
    await waitWhileUp(() => gotB.length >= bAtLoss + 3, 'board B delivering on', [b], 120000);
    assertExactFromStart(gotB.slice(), 'board B across the loss of A');
    assert.equal(helper.getNode('devA').connected, false);
    assert.match(caught[0]?.error.message ?? '', new RegExp(`the board at ip:127\\.0\\.0\\.1:${portA} is unreachable`));

    // A new VM on A's port: capture resumes by itself, a new capture from the fresh emulator.
    const stoppedA = gotA.length;
    assert.ok(stoppedA >= beforeA);
    a = startVm('A2', portA);
    await waitWhileUp(() => gotA.length >= stoppedA + 3, 'board A capturing again', [a, b]);
    assertExactFromStart(gotA.slice(stoppedA, stoppedA + 3), 'board A resumed');
    // What A's user saw: disconnected (once per kind of failure) until the new board, then running.
    const seenA = stA.slice(fromA).map((s) => s.text);
    const connectedAt = seenA.indexOf('connected');
    assert.ok(connectedAt >= 1, seenA.join(' | '));
    assert.deepEqual([...new Set(seenA.slice(0, connectedAt))], ['disconnected'], seenA.join(' | '));
    assert.deepEqual(seenA.slice(connectedAt), ['connected', 'running (iiod)'], seenA.join(' | '));
    // B never noticed.
    assert.deepEqual(stB.slice(fromB), [], stB.slice(fromB).map((s) => s.text).join(' | '));
    assertExactFromStart(gotB.slice(), 'board B throughout');
    assert.equal(caught.length, 1, caught.map((c: Msg) => c.error.message).join('\n'));
  });
});
