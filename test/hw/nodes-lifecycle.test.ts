// Node life cycles under message bursts and partial deploys: start/stop ordering, trigger
// ownership between iio-in and iio-trigger, a buffer disabled behind a node's back, back-to-back
// cyclic waveforms, and error messages about huge payloads.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ctx, emu, readSys, waitFor, sleep, kernelHasIioDmabuf } from '../lib/hw';
import { helper, allNodes, collect, statusesOf, CATCH_ALL, Msg } from '../lib/node-red';
import { reactor } from '../../src/reactor';
import { DeviceHandle } from '../../src/device';

const ADC = { id: 'dev-adc', type: 'iio-device', deviceName: 'emu-adc', deviceLabel: 'adc-main' };
const adc = () => emu('emu-adc');

/** No device names a trigger that does not exist, and no buffer runs without an owner. */
function assertNoDangling(owners: Set<string> = new Set()): void {
  const triggers = new Set(ctx.triggers().map((t) => t.name));
  for (const d of ctx.devices()) {
    if (d.triggerable) {
      const cur = readSys(d, 'trigger/current_trigger');
      assert.ok(cur === '' || triggers.has(cur), `${d.name} names trigger "${cur}", which does not exist`);
    }
    for (const b of d.buffers) {
      if (readSys(d, `${b.dir}/enable`) === '1') assert.ok(owners.has(`${d.name}/${b.dir}`), `${d.name} ${b.dir} is enabled with no owner`);
    }
  }
}

describe('node life cycles on the real kernel', function () {
  this.timeout(120000);

  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await waitFor(() => reactor.size === 0, 'the reactor to go idle', 5000);
    assert.equal(DeviceHandle.openCount(), 0);
    await waitFor(() => ctx.triggers().length === 0, 'every trigger to be removed', 10000);
    assertNoDangling();
  });

  it('iio-in: start, stop, start in one burst, then stop: runs, then stops with its trigger detached', async () => {
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'lc-burst', frequency: 1000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage1'], buffer: 0, trigger: 'lc-burst', samples: 20, autoStart: false, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ]);
    const got = collect('n-out');
    const statuses = statusesOf('n-in');
    const n = helper.getNode('n-in');
    for (const payload of ['start', 'stop', 'start']) n.receive({ payload });
    await waitFor(() => got.length >= 2, 'capture after the burst');
    assert.equal(readSys(adc(), 'buffer0/enable'), '1');
    n.receive({ payload: 'stop' });
    await waitFor(() => statuses.length > 0 && statuses[statuses.length - 1].text === 'stopped', 'the stopped status');
    assert.equal(readSys(adc(), 'buffer0/enable'), '0');
    assert.equal(readSys(adc(), 'trigger/current_trigger'), '');
    assertNoDangling();
  });

  it('iio-in: "stop" then "start" at once ends running, without EBUSY', async () => {
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'lc-restart', frequency: 1000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage1'], trigger: 'lc-restart', samples: 20, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
      ...CATCH_ALL,
    ]);
    const got = collect('n-out');
    const caught = collect('n-caught');
    await waitFor(() => got.length >= 1, 'a first message');
    for (let i = 0; i < 5; i++) {
      const n = helper.getNode('n-in');
      n.receive({ payload: 'stop' });
      n.receive({ payload: 'start' });
      const before = got.length;
      await waitFor(() => got.length >= before + 1, `capture after restart ${i}`);
    }
    assert.deepEqual(caught.map((m) => m.error?.message), []);
    assert.equal(readSys(adc(), 'buffer0/enable'), '1');
  });

  it('closing only the iio-trigger node does not remove a trigger in use; it goes once the capture stops', async () => {
    const flow = [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'lc-inuse', frequency: 1000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage1'], trigger: 'lc-inuse', samples: 20, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    const got = collect('n-out');
    await waitFor(() => got.length >= 1, 'a first message');
    const trigNode = helper.getNode('n-trig');
    await new Promise<void>((resolve) => trigNode.close(false).then(resolve));
    assert.ok(ctx.findTrigger('lc-inuse'), 'the trigger stays while emu-adc runs on it');
    const before = got.length;
    await waitFor(() => got.length >= before + 3, 'capture goes on');
    assertNoDangling(new Set(['emu-adc/buffer0']));
    helper.getNode('n-in').receive({ payload: 'stop' });
    await waitFor(() => !ctx.findTrigger('lc-inuse'), 'the trigger to be removed once free', 10000);
    assertNoDangling();
  });

  it('iio-trigger with a Device attaches its trigger there; an iio-in with no trigger of its own runs on it; close removes it', async () => {
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', device: 'dev-adc', kind: 'hrtimer', triggerName: 'lc-dev', frequency: 1000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage1'], trigger: '', samples: 20, autoStart: false, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
      ...CATCH_ALL,
    ]);
    const got = collect('n-out');
    const caught = collect('n-caught');
    await waitFor(() => readSys(adc(), 'trigger/current_trigger') === 'lc-dev', 'the trigger attached');
    helper.getNode('n-in').receive({ payload: 'start' });
    await waitFor(() => got.length >= 2, 'capture on the attached trigger');
    assert.deepEqual(caught.map((m) => m.error?.message), []);
    await helper.unload();
    await waitFor(() => !ctx.findTrigger('lc-dev'), 'the trigger removed');
    assert.equal(readSys(adc(), 'trigger/current_trigger'), '');
  });

  it('a redeploy after a burst never leaves the device on a removed trigger (the kernel-panic sequence)', async () => {
    const flow = (autoStart: boolean) => [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'sync-hr', frequency: 1000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage1'], trigger: 'sync-hr', samples: 20, autoStart, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ];
    await helper.load(allNodes, flow(false));
    const n = helper.getNode('n-in');
    for (const payload of ['start', 'stop', 'start']) n.receive({ payload });
    await sleep(200);
    n.receive({ payload: 'stop' });
    await waitFor(() => readSys(adc(), 'buffer0/enable') === '0', 'capture to stop');
    await helper.unload();
    await waitFor(() => !ctx.findTrigger('sync-hr'), 'the trigger to go');
    assertNoDangling();
    await helper.load(allNodes, flow(true));
    const got = collect('n-out');
    await waitFor(() => got.length >= 2, 'capture on the new trigger');
  });

  it('iio-attr writing buffer0/enable = 0 under a running iio-in: the iio-in reports it and shows it', async () => {
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'lc-behind', frequency: 1000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage1'], trigger: 'lc-behind', samples: 20, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
      { id: 'n-attr', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'buffer0/enable', action: 'write' },
      ...CATCH_ALL,
    ]);
    const got = collect('n-out');
    const caught = collect('n-caught');
    const statuses = statusesOf('n-in');
    await waitFor(() => got.length >= 1, 'a first message');
    helper.getNode('n-attr').receive({ payload: 0 });
    await waitFor(() => caught.some((m) => m.error?.source?.id === 'n-in'), 'the iio-in error at Catch', 10000);
    const err = caught.find((m) => m.error?.source?.id === 'n-in')!.error;
    assert.match(err.message, /buffer0 of emu-adc was disabled by someone else/);
    assert.equal(err.code, 'ECANCELED');
    assert.equal(statuses[statuses.length - 1].fill, 'red');
  });

  it('iio-in: a huge or exotic payload gets a short EINVAL without stalling the event loop', async () => {
    await helper.load(allNodes, [ADC, { id: 'n-in', type: 'iio-in', device: 'dev-adc', autoStart: false }, ...CATCH_ALL]);
    const caught = collect('n-caught');
    const circular: Msg = { a: 1 };
    circular.self = circular;
    const payloads = [Buffer.alloc(4 << 20), 10n, circular, Symbol('x')];
    const t0 = process.hrtime.bigint();
    for (const payload of payloads) helper.getNode('n-in').receive({ payload });
    await waitFor(() => caught.length === payloads.length, 'every error at Catch');
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.deepEqual(caught.map((m) => m.error.code), ['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL']);
    const described = ['not a Buffer of 4194304 bytes', 'not 10n', 'not an object with keys a, self', 'not a symbol'];
    caught.forEach((m, i) => assert.ok(m.error.message.includes(`must be "start" or "stop", ${described[i]}`), m.error.message));
    assert.ok(caught.every((m) => m.error.message.length < 300));
    assert.ok(ms < 2000, `four bad messages took ${ms} ms`);
  });

  it('iio-dmabuf-out: cyclic waveforms back to back, the newest one plays', async function () {
    if (!kernelHasIioDmabuf()) this.skip(); // before 6.11: dmabuf-fallback.test.ts
    const dac = emu('emu-dac');
    fs.writeFileSync(path.join(dac.sysfsPath, 'emu_reset'), '1');
    await helper.load(allNodes, [
      { id: 'dev-dac', type: 'iio-device', deviceName: 'emu-dac' },
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'lc-cyc', frequency: 2000 },
      { id: 'n-out', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 1, channels: ['voltage0'], mode: 'cyclic', blockSize: 64, blocks: 2, transport: 'dmabuf', trigger: 'lc-cyc' },
      ...CATCH_ALL,
    ]);
    const caught = collect('n-caught');
    const n = helper.getNode('n-out');
    for (const level of [100, 200, 300, 400]) n.receive({ payload: new Int16Array(64).fill(level) });
    await waitFor(() => readSys(dac, 'out_voltage0_raw') === '400', 'the newest waveform to play', 30000);
    await sleep(300);
    assert.equal(readSys(dac, 'out_voltage0_raw'), '400');
    assert.deepEqual(caught.map((m: Msg) => m.error?.message), []);
  });

  it('iio-dmabuf-out: "stop" then a block at once restarts the output without EBUSY', async function () {
    if (!kernelHasIioDmabuf()) this.skip(); // before 6.11: dmabuf-fallback.test.ts
    const dac = emu('emu-dac');
    fs.writeFileSync(path.join(dac.sysfsPath, 'emu_reset'), '1');
    await helper.load(allNodes, [
      { id: 'dev-dac', type: 'iio-device', deviceName: 'emu-dac' },
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'lc-out', frequency: 4000 },
      { id: 'n-out', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 1, channels: ['voltage0'], mode: 'streaming', blockSize: 64, blocks: 4, transport: 'dmabuf', trigger: 'lc-out' },
      ...CATCH_ALL,
    ]);
    const caught = collect('n-caught');
    const n = helper.getNode('n-out');
    for (let i = 0; i < 5; i++) {
      n.receive({ payload: 'stop' });
      n.receive({ payload: new Int16Array(64).fill(i) });
    }
    // Each stop may cancel the block before it; the last one must play, on a running output.
    await waitFor(() => readSys(dac, 'out_voltage0_raw') === '4', 'the last block to be consumed', 30000);
    assert.deepEqual(caught.map((m: Msg) => m.error?.message), []);
    assert.equal(readSys(dac, 'buffer1/enable'), '1');
  });
});
