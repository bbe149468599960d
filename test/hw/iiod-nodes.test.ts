// The Node-RED nodes against Debian's iiod 0.24 serving the emulator in this guest (ip:127.0.0.1):
// iio-in captures the exact pattern, iio-attr reads what sysfs says, iio-dmabuf-out's bytes reach
// the DAC (its CRC), and iiod killed and restarted mid-capture: disconnected, then capture resumes.
import { strict as assert } from 'assert';
import * as zlib from 'zlib';
import { spawn, ChildProcess } from 'child_process';
import { RemoteContext } from '../../src/iiod/client';
import { createHrtimerTrigger, removeHrtimerTrigger } from '../../src/trigger';
import { emuAdcBlock, emuAdcPatternBytes, EMU_ADC_CHANNELS } from '../lib/emu-pattern';
import { emu, readSys, writeSys, waitFor, sleep } from '../lib/hw';
import { helper, allNodes, collect, statusesOf, CATCH_ALL, Msg } from '../lib/node-red';

const ADC_TRIGGER = 'nr-iiod-adc';
const DAC_TRIGGER = 'nr-iiod-dac';
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
