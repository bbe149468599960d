// The Node-RED nodes against Debian's iiod 0.24 serving the emulator in this guest (ip:127.0.0.1):
// iio-in captures the exact pattern, iio-attr reads what sysfs says, iio-dmabuf-out's bytes reach
// the DAC (its CRC), and iiod killed and restarted mid-capture: disconnected, then capture resumes.
import { strict as assert } from 'assert';
import * as zlib from 'zlib';
import { spawn, ChildProcess } from 'child_process';
import { RemoteContext } from '../../src/iiod/client';
import { createHrtimerTrigger, removeHrtimerTrigger, createSysfsTrigger, removeSysfsTrigger } from '../../src/trigger';
import { emuAdcBlock, emuAdcPatternBytes, EMU_ADC_CHANNELS } from '../lib/emu-pattern';
import { ctx, emu, readSys, writeSys, waitFor, sleep } from '../lib/hw';
import { helper, allNodes, collect, statusesOf, CATCH_ALL, Msg } from '../lib/node-red';

const ADC_TRIGGER = 'nr-iiod-adc';
const DAC_TRIGGER = 'nr-iiod-dac';
/** Adopted by iio-trigger over iiod: a spare hrtimer trigger and a sysfs trigger. */
const SPARE_TRIGGER = 'nr-iiod-spare';
const SYSFS_ID = 61;
const ALL = EMU_ADC_CHANNELS.map((c) => c.name);
const SCANS = 200;

const patternBytes = (msgs: Msg[]): Buffer => emuAdcPatternBytes(msgs.map((m) => m.payload as Buffer), ALL);

describe('nodes over iiod 0.24 (ip:127.0.0.1, the emulator in this guest)', function () {
  this.timeout(300000);
  let iiod: ChildProcess | null = null;
  const running = () => iiod !== null && iiod.exitCode === null && iiod.signalCode === null;

  async function startIiod(): Promise<void> {
    iiod = spawn('iiod', [], { stdio: 'ignore' });
    const end = Date.now() + 30000;
    for (;;) {
      try {
        await (await RemoteContext.connect('ip:127.0.0.1', { timeoutMs: 3000 })).close();
        return;
      } catch (err) {
        if (Date.now() > end || !running()) throw new Error(`iiod did not come up: ${(err as Error).message}`);
        await sleep(200);
      }
    }
  }

  async function stopIiod(signal: NodeJS.Signals): Promise<void> {
    if (!running()) return;
    const exited = new Promise((r) => iiod!.once('exit', r));
    iiod!.kill(signal);
    await exited;
  }

  before(async () => {
    // iiod describes the context once, when it starts: the triggers must exist before.
    createHrtimerTrigger(ADC_TRIGGER).writeFrequency(2000);
    createHrtimerTrigger(DAC_TRIGGER).writeFrequency(4000);
    createHrtimerTrigger(SPARE_TRIGGER).writeFrequency(100);
    createSysfsTrigger(SYSFS_ID);
    await startIiod();
    await new Promise((r) => helper.startServer(r));
  });

  after(async () => {
    await new Promise((r) => helper.stopServer(r));
    await stopIiod('SIGTERM');
    for (const name of ['emu-adc', 'emu-dac'] as const) {
      if (readSys(emu(name), 'buffer0/enable') !== '0') writeSys(emu(name), 'buffer0/enable', 0);
      emu(name).writeCurrentTrigger('');
    }
    removeHrtimerTrigger(ADC_TRIGGER);
    removeHrtimerTrigger(DAC_TRIGGER);
    removeHrtimerTrigger(SPARE_TRIGGER);
    removeSysfsTrigger(SYSFS_ID);
  });

  afterEach(async () => {
    await helper.unload();
  });

  const adcDevice = { id: 'dev', type: 'iio-device', uri: 'ip:127.0.0.1', deviceName: 'emu-adc' };
  const capture = { id: 'in', type: 'iio-in', device: 'dev', samples: SCANS, output: 'raw', trigger: ADC_TRIGGER, wires: [['out']] };

  it('iio-in captures the exact emulator pattern over iiod (every scan format); stop disables the board\'s buffer', async () => {
    await helper.load(allNodes, [adcDevice, capture, { id: 'out', type: 'helper' }]);
    const got = collect('out');
    await waitFor(() => got.length >= 5, 'five blocks', 120000);
    helper.getNode('in').receive({ payload: 'stop' });
    await waitFor(() => readSys(emu('emu-adc'), 'buffer0/enable') === '0', 'the buffer disabled', 30000);
    assert.deepEqual(got.slice(0, 5).map((m: Msg) => [m.sequence, m.scans, m.transport]), [1, 2, 3, 4, 5].map((i) => [i, SCANS, 'iiod']));
    assert.ok(patternBytes(got.slice(0, 5)).equals(emuAdcBlock(ALL, 0, 5 * SCANS)), 'the bytes are the emulator\'s pattern, scans 0..999');
  });

  it('iio-attr reads the same value over iiod as local sysfs', async () => {
    await helper.load(allNodes, [
      adcDevice,
      { id: 'a', type: 'iio-attr', device: 'dev', target: 'device', attribute: 'sampling_frequency', valueType: 'string', wires: [['out']] },
      { id: 'c', type: 'iio-attr', device: 'dev', target: 'channel', channel: 'voltage3', attribute: 'offset', valueType: 'string', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const got = collect('out');
    await waitFor(() => helper.getNode('dev').connected, 'the board connected', 30000);
    helper.getNode('a').receive({});
    await waitFor(() => got.length === 1, 'the device attribute', 30000);
    helper.getNode('c').receive({});
    await waitFor(() => got.length === 2, 'the channel attribute', 30000);
    const adc = emu('emu-adc');
    assert.deepEqual(got.map((m: Msg) => m.payload), [readSys(adc, 'sampling_frequency'), readSys(adc, 'in_voltage3_offset')]);
  });

  it('iio-dmabuf-out over iiod: the DAC consumes exactly the bytes sent (count and CRC-32)', async () => {
    const dac = emu('emu-dac');
    writeSys(dac, 'emu_reset', 1);
    await helper.load(allNodes, [
      { id: 'dev-dac', type: 'iio-device', uri: 'ip:127.0.0.1', deviceName: 'emu-dac' },
      { id: 'n-out', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 0, channels: [], mode: 'streaming', blockSize: 256, blocks: 4, trigger: DAC_TRIGGER },
    ]);
    const st = statusesOf('n-out');
    await waitFor(() => helper.getNode('dev-dac').connected, 'the board connected', 30000);
    const v0 = Array.from({ length: 1024 }, (_, i) => ((i * 13) % 2000) - 1000);
    const v1 = Array.from({ length: 1024 }, (_, i) => -i);
    helper.getNode('n-out').receive({ payload: { voltage0: v0, voltage1: v1 } });
    const expected = Buffer.alloc(1024 * 4);
    v0.forEach((v, i) => {
      expected.writeInt16LE(v, 4 * i);
      expected.writeInt16LE(v1[i], 4 * i + 2);
    });
    await waitFor(() => Number(readSys(dac, 'emu_consumed_bytes')) >= expected.length, 'the DAC to consume it', 120000);
    assert.equal(Number(readSys(dac, 'emu_consumed_bytes')), expected.length);
    assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(expected).toString(16).padStart(8, '0')}`);
    assert.ok(st.some((s) => /iiod/.test(s.text ?? '')), st.map((s) => s.text).join(' | '));
  });

  it('iio-trigger adopts the board\'s hrtimer trigger: frequency set and attached (as local sysfs shows); input sets it; close detaches and leaves it', async () => {
    const adc = emu('emu-adc');
    await helper.load(allNodes, [adcDevice, { id: 'tr', type: 'iio-trigger', device: 'dev', kind: 'hrtimer', triggerName: SPARE_TRIGGER, frequency: 250 }, ...CATCH_ALL]);
    const st = statusesOf('tr');
    await waitFor(() => adc.readCurrentTrigger() === SPARE_TRIGGER, 'attached', 30000);
    assert.equal(ctx.findTrigger(SPARE_TRIGGER)!.readFrequency(), 250);
    // The device's own "connected" (green too) comes first.
    await waitFor(() => st.some((s) => s.text === `${SPARE_TRIGGER} 250 Hz on ip:127.0.0.1`), 'the status', 30000);
    helper.getNode('tr').receive({ frequency: 125 });
    await waitFor(() => ctx.findTrigger(SPARE_TRIGGER)!.readFrequency() === 125, 'the new frequency', 30000);
    await helper.unload();
    assert.equal(adc.readCurrentTrigger(), '', 'detached on close');
    assert.ok(ctx.findTrigger(SPARE_TRIGGER), 'a board\'s trigger is never removed');
  });

  it('iio-trigger fires the board\'s sysfs trigger over iiod and drives an iio-in capture on it: the exact pattern', async () => {
    const adc = emu('emu-adc');
    const sysfsName = `sysfstrig${SYSFS_ID}`;
    await helper.load(allNodes, [
      adcDevice,
      { id: 'tr', type: 'iio-trigger', device: 'dev', kind: 'sysfs', sysfsId: SYSFS_ID },
      { id: 'in', type: 'iio-in', device: 'dev', samples: 4, output: 'raw', trigger: '', autoStart: false, wires: [['out']] },
      { id: 'out', type: 'helper' },
      ...CATCH_ALL,
    ]);
    const got = collect('out');
    const caught = collect('n-caught');
    await waitFor(() => adc.readCurrentTrigger() === sysfsName, 'attached', 30000);
    helper.getNode('in').receive({ payload: 'start' });
    await waitFor(() => readSys(adc, 'buffer0/enable') === '1', 'the board\'s buffer enabled', 30000);
    // Fires that come while the previous is still handled merge: fire until a block is full.
    for (let i = 0; got.length < 2 && i < 200; i++) {
      helper.getNode('tr').receive({ payload: 2 });
      await sleep(100);
    }
    helper.getNode('in').receive({ payload: 'stop' });
    await waitFor(() => readSys(adc, 'buffer0/enable') === '0', 'the buffer disabled', 30000);
    assert.deepEqual(caught.map((m: Msg) => m.error.message), []);
    assert.ok(got.length >= 2, 'two blocks of four fired scans');
    assert.ok(patternBytes(got.slice(0, 2)).equals(emuAdcBlock(ALL, 0, 8)), 'scans 0..7 of the pattern');
  });

  it('iio-trigger naming a trigger the board lacks: an error naming the board\'s triggers', async () => {
    await helper.load(allNodes, [adcDevice, { id: 'tr', type: 'iio-trigger', device: 'dev', kind: 'hrtimer', triggerName: 'not-on-board' }, ...CATCH_ALL]);
    const caught = collect('n-caught');
    await waitFor(() => caught.length >= 1, 'the error', 30000);
    assert.match(caught[0].error.message, new RegExp(`no IIO trigger named "not-on-board" on ip:127\\.0\\.0\\.1 \\(it has: .*${SPARE_TRIGGER}.*\\)`));
  });

  it('iiod killed mid-capture: disconnected and an error naming host and device; restarted: capture resumes by itself', async () => {
    await helper.load(allNodes, [adcDevice, capture, { id: 'out', type: 'helper' }, ...CATCH_ALL]);
    const got = collect('out');
    const caught = collect('n-caught');
    const st = statusesOf('in');
    await waitFor(() => got.length >= 2, 'two blocks', 120000);
    await stopIiod('SIGKILL');
    await waitFor(() => st.some((s) => s.text === 'disconnected'), 'disconnected shown', 30000);
    await waitFor(() => caught.length >= 1, 'the error caught', 30000);
    assert.match(caught[0].error.message, /the board at ip:127\.0\.0\.1 is unreachable.*\(emu-adc\)/);
    // A killed iiod cannot disable what it enabled.
    if (readSys(emu('emu-adc'), 'buffer0/enable') !== '0') writeSys(emu('emu-adc'), 'buffer0/enable', 0);
    const before = got.length;
    await startIiod();
    await waitFor(() => got.length >= before + 3, 'capture resumed', 120000);
    const resumed = got.slice(before, before + 3);
    assert.deepEqual(resumed.map((m: Msg) => m.sequence), [1, 2, 3], 'a new capture');
    assert.ok(patternBytes(resumed).equals(emuAdcBlock(ALL, 0, 3 * SCANS)), 'the exact pattern again from scan 0');
  });
});
