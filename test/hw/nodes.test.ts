// The Node-RED nodes, loaded into a real Node-RED runtime (node-red-node-test-helper) and run
// against the emulated devices on the real kernel.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { nodeRedEntry, coreNode } from '../lib/node-red-runtime';
import { isDeepStrictEqual } from 'util';
import { spawn, ChildProcess } from 'child_process';
import * as zlib from 'zlib';
import { emuAdcRaw, emuAdcBlock, EMU_ADC_CHANNELS } from '../lib/emu-pattern';
import { ctx, emu, readSys, setTemperature, waitFor, resources, sleep, pollfuncThread, waitPollfuncIdle, kernelHasIioDmabuf } from '../lib/hw';
import { reactor } from '../../src/reactor';
import { DeviceHandle } from '../../src/device';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
helper.init(nodeRedEntry());

const root = path.join(__dirname, '../../..');
const ours = ['iio-device', 'iio-in', 'iio-trigger', 'iio-event', 'iio-attr', 'iio-dmabuf-out'].map((n) => require(path.join(root, 'dist/nodes', n)).default);
const core = ['common/20-inject', 'common/21-debug', 'common/25-catch', 'common/90-comment', 'function/15-change', 'function/10-function', 'function/10-switch'].map(coreNode);
const allNodes = [...ours, ...core];

type Msg = Record<string, any>;

/** Collects what a helper node receives. */
function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}

const ADC = { id: 'dev-adc', type: 'iio-device', deviceName: 'emu-adc', deviceLabel: 'adc-main' };
const THERMO = { id: 'dev-thermo', type: 'iio-device', deviceName: 'emu-thermo' };

describe('Node-RED nodes on the real kernel', function () {
  this.timeout(60000);
  let baseline: ReturnType<typeof resources>;

  before((done) => {
    baseline = resources();
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });

  afterEach(async () => {
    await helper.unload();
    // Close and redeploy release everything: fds, device handles, triggers, enabled buffers.
    await waitFor(() => reactor.size === 0, 'the reactor to go idle');
    // An attribute read a flow started just before the unload (an inject's timer) may still be
    // open for a moment on a loaded machine; a leaked fd stays, and fails the assert below.
    await waitFor(() => isDeepStrictEqual(resources(), baseline), 'fds and mappings back to the baseline', 5000).catch(() => undefined);
    assert.deepEqual(resources(), baseline);
    assert.equal(DeviceHandle.openCount(), 0);
    for (const d of ctx.devices()) {
      for (const b of d.buffers) assert.equal(readSys(d, `${b.dir}/enable`), '0', `${d.name} ${b.dir} left enabled`);
      if (d.triggerable) assert.equal(readSys(d, 'trigger/current_trigger'), '', `${d.name} left a trigger attached`);
    }
    assert.deepEqual(ctx.triggers().map((t) => t.name), [], 'triggers left behind');
  });

  it('iio-in + iio-trigger (sysfs): one message per fired scan, exact values, JSON-safe', async () => {
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'sysfs', sysfsId: 3 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage0', 'voltage3', 'voltage4', 'accel_y'], buffer: 0, trigger: 'sysfstrig3', samples: 1, output: 'arrays', timestamps: true, autoStart: true, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ]);
    const got = collect('n-out');
    await waitFor(() => readSys(emu('emu-adc'), 'buffer0/enable') === '1', 'capture to start');
    const pollfunc = pollfuncThread(emu('emu-adc'));
    for (let n = 0; n < 4; n++) {
      // A fire while the last one's handler still runs is lost (see pollfuncThread()).
      await waitPollfuncIdle(pollfunc);
      helper.getNode('n-trig').receive({ payload: 'fire' });
      await waitFor(() => got.length === n + 1, `message ${n}`);
    }
    await sleep(200);
    assert.equal(got.length, 4, 'one message per fire');
    for (let n = 0; n < 4; n++) {
      const m = got[n];
      assert.equal(m.topic, 'adc-main/buffer0');
      assert.deepEqual(m.device, { name: 'emu-adc', label: 'adc-main', id: emu('emu-adc').id });
      assert.equal(m.scans, 1);
      assert.equal(m.sequence, n + 1);
      assert.equal(m.overrun, false);
      const p = m.payload;
      assert.deepEqual(Object.keys(p).sort(), ['accel_y', 'timestamp', 'timestampMs', 'voltage0', 'voltage3', 'voltage4']);
      assert.equal(p.voltage0[0], emuAdcRaw(0, n, 12, false));
      assert.equal(p.voltage3[0], emuAdcRaw(3, n, 24, true));
      assert.deepEqual(Array.from(p.voltage4), [4, 5, 6, 7].map((k) => emuAdcRaw(k, n, 16, false)));
      assert.equal(p.accel_y[0], emuAdcRaw(9, n, 16, true));
      assert.match(p.timestamp[0], /^\d+$/);
      assert.equal(p.timestampMs[0], Number(BigInt(p.timestamp[0])) / 1e6);
      const json = JSON.parse(JSON.stringify(m));
      assert.equal(json.payload.timestamp[0], p.timestamp[0]);
      assert.deepEqual(helper._RED.util.cloneMessage(m).payload.voltage4, p.voltage4);
    }
  });

  it('iio-in: hrtimer trigger, scaled objects, start and stop by message', async () => {
    const adc = emu('emu-adc');
    const scale = Number(readSys(adc, 'in_voltage_scale'));
    const offset3 = Number(readSys(adc, 'in_voltage3_offset'));
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-hr', frequency: 1000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage1', 'voltage3'], trigger: 'nr-hr', samples: 50, output: 'objects', scaled: true, timestamps: false, autoStart: false, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ]);
    const got = collect('n-out');
    await sleep(300);
    assert.equal(got.length, 0, 'autoStart false: nothing before start');
    helper.getNode('n-in').receive({ payload: 'start' });
    await waitFor(() => got.length >= 3, '3 messages');
    helper.getNode('n-in').receive({ payload: 'stop' });
    await waitFor(() => readSys(adc, 'buffer0/enable') === '0', 'capture to stop');
    assert.deepEqual(got.map((m) => m.payload.length), got.map(() => 50));
    const rows = got.flatMap((m) => m.payload as Msg[]);
    rows.slice(0, 150).forEach((row, n) => {
      assert.deepEqual(Object.keys(row).sort(), ['voltage1', 'voltage3']);
      assert.ok(Math.abs(row.voltage1 - emuAdcRaw(1, n, 16, true) * scale) < 1e-9, `scan ${n} voltage1`);
      assert.ok(Math.abs(row.voltage3 - (emuAdcRaw(3, n, 24, true) + offset3) * scale) < 1e-9, `scan ${n} voltage3`);
    });
  });

  it('iio-in: raw output carries the block and its layout', async () => {
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-raw', frequency: 2000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: [], trigger: 'nr-raw', samples: 20, output: 'raw', timestamps: true, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ]);
    const got = collect('n-out');
    await waitFor(() => got.length >= 1, 'a raw block');
    const m = got[0];
    assert.equal(Buffer.isBuffer(m.payload), true);
    assert.equal(m.payload.length, 20 * 40);
    assert.equal(m.layout.scanBytes, 40);
    assert.deepEqual(m.layout.elements.map((e: Msg) => [e.name, e.offset, e.type]), [
      ['voltage0', 0, 'le:u12/16>>4'], ['voltage1', 2, 'le:s16/16>>0'], ['voltage2', 4, 'be:s16/16>>0'], ['voltage3', 8, 'le:s24/32>>8'],
      ['voltage4', 16, 'le:u16/16X4>>0'], ['accel_x', 24, 'le:s16/16>>0'], ['accel_y', 26, 'le:s16/16>>0'], ['accel_z', 28, 'le:s16/16>>0'], ['timestamp', 32, 'le:s64/64>>0'],
    ]);
    assert.equal(m.payload.readInt16BE(4), emuAdcRaw(2, 0, 16, true));
    // Every byte but the timestamps (the trigger's time) is the emulator's pattern for scans 0–19.
    const data = Buffer.from(m.payload);
    for (let i = 0; i < 20; i++) data.fill(0, i * 40 + 32, i * 40 + 40);
    assert.deepEqual(data, emuAdcBlock(EMU_ADC_CHANNELS.map((c) => c.name), 0, 20));
  });

  it('iio-in over DMABUF (buffer1): exact values, msg.transport "dmabuf"', async function () {
    if (!kernelHasIioDmabuf()) this.skip(); // before 6.11: dmabuf-fallback.test.ts
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-dma', frequency: 2000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage2', 'accel_z'], buffer: 1, trigger: 'nr-dma', samples: 200, output: 'arrays', timestamps: false, transport: 'dmabuf', wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ]);
    const got = collect('n-out');
    await waitFor(() => got.length >= 5, '5 DMABUF blocks');
    assert.deepEqual(got.map((m) => [m.transport, m.topic]), got.map(() => ['dmabuf', 'adc-main/buffer1']));
    got.slice(0, 5).forEach((m, b) => {
      for (let i = 0; i < 200; i++) {
        const n = b * 200 + i;
        assert.equal(m.payload.voltage2[i], emuAdcRaw(2, n, 16, true), `scan ${n} voltage2`);
        assert.equal(m.payload.accel_z[i], emuAdcRaw(10, n, 16, true), `scan ${n} accel_z`);
      }
    });
  });

  // Before 6.11 buffer1 has no DMABUF either: auto must fall back to write() there.
  for (const [transport, buffer, expectKind] of [['auto', 1, kernelHasIioDmabuf() ? 'DMABUF' : 'write()'], ['auto', 0, 'write()']] as const) {
    it(`iio-dmabuf-out streaming (${transport}, buffer${buffer} → ${expectKind}): the DAC consumes exactly what was sent`, async () => {
      const dac = emu('emu-dac');
      fs.writeFileSync(path.join(dac.sysfsPath, 'emu_reset'), '1');
      await helper.load(allNodes, [
        { id: 'dev-dac', type: 'iio-device', deviceName: 'emu-dac' },
        { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-dac', frequency: 4000 },
        { id: 'n-out', type: 'iio-dmabuf-out', device: 'dev-dac', buffer, channels: [], mode: 'streaming', blockSize: 256, blocks: 4, transport, trigger: 'nr-dac' },
      ]);
      const node = helper.getNode('n-out');
      const statuses: Msg[] = [];
      const original = node.status.bind(node);
      node.status = (st: Msg) => { statuses.push(st); original(st); };
      const v0 = Array.from({ length: 1024 }, (_, i) => (i * 13) % 2000 - 1000);
      const v1 = Array.from({ length: 1024 }, (_, i) => -i);
      await new Promise<void>((resolve, reject) => {
        node.receive({ payload: { voltage0: v0, voltage1: v1 } });
        waitFor(() => statuses.some((st) => /streaming/.test(st.text ?? '')), 'the output to run').then(resolve, reject);
      });
      const expected = Buffer.alloc(1024 * 4);
      v0.forEach((v, i) => { expected.writeInt16LE(v, 4 * i); expected.writeInt16LE(v1[i], 4 * i + 2); });
      await waitFor(() => Number(readSys(dac, 'emu_consumed_bytes')) >= expected.length, 'the DAC to consume it', 60000);
      assert.ok(statuses.some((st) => (st.text ?? '').includes(`(${expectKind})`)), statuses.map((s) => s.text).join(' | '));
      assert.equal(Number(readSys(dac, 'emu_consumed_bytes')), expected.length);
      assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(expected).toString(16).padStart(8, '0')}`);
    });
  }

  it('iio-dmabuf-out cyclic over DMABUF: the device repeats the waveform', async function () {
    if (!kernelHasIioDmabuf()) this.skip(); // before 6.11: dmabuf-fallback.test.ts
    const dac = emu('emu-dac');
    fs.writeFileSync(path.join(dac.sysfsPath, 'emu_reset'), '1');
    await helper.load(allNodes, [
      { id: 'dev-dac', type: 'iio-device', deviceName: 'emu-dac' },
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-cyc', frequency: 4000 },
      { id: 'n-out', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 1, channels: ['voltage0'], mode: 'cyclic', blockSize: 128, blocks: 2, transport: 'dmabuf', trigger: 'nr-cyc' },
      { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] },
      { id: 'n-caught', type: 'helper' },
    ]);
    const caught: Msg[] = collect('n-caught');
    helper.getNode('n-out').receive({ payload: Int16Array.from({ length: 64 }, (_, i) => i * 100) });
    await waitFor(() => Number(readSys(dac, 'emu_cyclic_wraps')) >= 3, '3 repetitions', 60000);
    assert.equal(caught.length, 0);
    helper.getNode('n-out').receive({ payload: [1, 2, 3] }); // a new waveform replaces the old one
    helper.getNode('n-out').receive({ payload: { voltage1: [1] } });
    await waitFor(() => caught.length === 1, 'the bad payload at the Catch node');
    assert.match(caught[0].error.message, /voltage0/);
  });

  it('temperature threshold alarm example: heat → alarm, cool → all clear, °C reading', async () => {
    const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples/Temperature threshold alarm.json'), 'utf8')) as Msg[];
    setTemperature(25000);
    // Route every debug node of the example into helper nodes so the test sees what the user would.
    const debugs = flow.filter((n) => n.type === 'debug');
    assert.equal(debugs.length, 2);
    for (const d of debugs) d.type = 'helper';
    await helper.load(allNodes, flow);
    const seen: Msg[] = [];
    for (const d of debugs) helper.getNode(d.id).on('input', (m: Msg) => seen.push(m));
    // The event nodes listen first, then configure: once both are configured a crossing is seen.
    const t = emu('emu-thermo');
    const configured = () => ['rising_en', 'falling_en'].every((a) => readSys(t, `events/in_temp_thresh_${a}`) === '1') &&
      readSys(t, 'events/in_temp_thresh_rising_value') === '560' && readSys(t, 'events/in_temp_thresh_falling_value') === '400' &&
      readSys(t, 'events/in_temp_thresh_rising_hysteresis') === '16' && readSys(t, 'events/in_temp_thresh_falling_hysteresis') === '16';
    await waitFor(configured, 'both event nodes to configure their events');
    setTemperature(47000);
    await waitFor(() => seen.some((m) => m.alarm === true), 'the alarm');
    setTemperature(30000);
    await waitFor(() => seen.some((m) => m.alarm === false), 'the all-clear');
    assert.deepEqual(seen.filter((m) => typeof m.alarm === 'boolean').map((m) => [m.alarm, m.payload]), [
      [true, 'ALARM: temperature above 45 °C'],
      [false, 'All clear: temperature below 35 °C'],
    ]);
    // The example's own inject also reads (once after 1 s, then every 5 s): on a slow machine that
    // reading can come from the heated phase, so take one asked for now.
    const inject = flow.find((n) => n.type === 'inject');
    const asked = seen.length;
    helper.getNode(inject!.id).receive({ payload: '' });
    await waitFor(() => seen.slice(asked).some((m) => typeof m.payload === 'number'), 'a temperature reading');
    const reading = seen.slice(asked).find((m) => typeof m.payload === 'number')!;
    assert.equal(reading.payload, 30);
    setTemperature(25000);
  });

  it('iio-event: filters by direction and configures the threshold from a message', async () => {
    setTemperature(25000);
    await helper.load(allNodes, [
      THERMO,
      { id: 'n-ev', type: 'iio-event', device: 'dev-thermo', channel: 'temp', eventType: 'thresh', direction: 'rising', configure: true, enable: true, value: '480', hysteresis: '8', wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ]);
    const got = collect('n-out');
    const t = emu('emu-thermo');
    await waitFor(() => readSys(t, 'events/in_temp_thresh_rising_en') === '1', 'the event to be enabled');
    assert.equal(readSys(t, 'events/in_temp_thresh_rising_value'), '480');
    assert.equal(readSys(t, 'events/in_temp_thresh_rising_hysteresis'), '8');
    setTemperature(41000); // raw 496 ≥ 480
    await waitFor(() => got.length === 1, 'a rising event');
    const m = got[0];
    assert.equal(m.topic, 'board-temp/temp/thresh/rising');
    assert.deepEqual({ ...m.payload, timestamp: undefined, timestampMs: undefined, code: undefined }, {
      channel: 'temp', channelType: 'temp', index: 0, channel2: 0, modifier: null, differential: false, type: 'thresh', direction: 'rising', timestamp: undefined, timestampMs: undefined, code: undefined,
    });
    assert.match(m.payload.timestamp, /^\d+$/);
    assert.equal(m.payload.code, '0x0001000900000000');
    helper.getNode('n-ev').receive({ payload: { value: 600, enable: true } });
    await waitFor(() => readSys(t, 'events/in_temp_thresh_rising_value') === '600', 'the new threshold');
    setTemperature(25000);
    await sleep(100);
    assert.equal(got.length, 1, 'falling crossings are filtered out');
  });

  it('iio-event: thresholds in engineering units (m°C) become emu-thermo\'s raw units, from the config and from messages; units "raw" writes as given', async () => {
    setTemperature(25000);
    await helper.load(allNodes, [
      THERMO,
      // (raw + 160) × 62.5 m°C: 40040 m°C → raw 480.64 → 481; hysteresis 500 m°C → 8
      { id: 'n-ev', type: 'iio-event', device: 'dev-thermo', channel: 'temp', eventType: 'thresh', direction: 'rising', configure: true, enable: true, units: 'scaled', value: '40040', hysteresis: '500', wires: [['n-out']] },
      { id: 'n-raw', type: 'iio-event', device: 'dev-thermo', channel: 'temp', eventType: 'thresh', direction: 'falling', configure: true, enable: true, units: 'raw', value: '321', hysteresis: '5', wires: [[]] },
      { id: 'n-out', type: 'helper' },
      { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] },
      { id: 'n-caught', type: 'helper' },
    ]);
    const got = collect('n-out');
    const caught = collect('n-caught');
    const t = emu('emu-thermo');
    await waitFor(() => readSys(t, 'events/in_temp_thresh_rising_en') === '1' && readSys(t, 'events/in_temp_thresh_falling_en') === '1', 'both events to be enabled');
    assert.equal(readSys(t, 'events/in_temp_thresh_rising_value'), '481');
    assert.equal(readSys(t, 'events/in_temp_thresh_rising_hysteresis'), '8');
    assert.equal(readSys(t, 'events/in_temp_thresh_falling_value'), '321');
    assert.equal(readSys(t, 'events/in_temp_thresh_falling_hysteresis'), '5');
    setTemperature(41000); // raw 496 ≥ 481
    await waitFor(() => got.length === 1, 'a rising event');
    helper.getNode('n-ev').receive({ payload: { value: 47500, hysteresis: 1000 } }); // raw 600, 16
    // Value first, then hysteresis: both written once the hysteresis is.
    await waitFor(() => readSys(t, 'events/in_temp_thresh_rising_hysteresis') === '16', 'the new hysteresis in raw units');
    assert.equal(readSys(t, 'events/in_temp_thresh_rising_value'), '600');
    helper.getNode('n-ev').receive({ payload: { value: '45 °C' } });
    await waitFor(() => caught.length === 1, 'the refused value at Catch');
    assert.equal(caught[0].error.source.id, 'n-ev');
    assert.match(caught[0].error.message, /value must be a number/);
    assert.equal(readSys(t, 'events/in_temp_thresh_rising_value'), '600', 'a refused value changes nothing');
    setTemperature(25000);
  });

  it('iio-dmabuf-out on the dialog\'s defaults, emu-dac without a trigger: "needs a trigger (EINVAL)", the kernel detail at Catch', async () => {
    const dac = emu('emu-dac');
    assert.equal(readSys(dac, 'trigger/current_trigger'), '');
    await helper.load(allNodes, [
      { id: 'dev-dac', type: 'iio-device', deviceName: 'emu-dac', deviceLabel: '', deviceId: '' },
      { id: 'n-out', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 1, channels: [], mode: 'streaming', blockSize: 1024, blocks: 4, transport: 'auto', trigger: '' },
      { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] },
      { id: 'n-caught', type: 'helper' },
    ]);
    const caught = collect('n-caught');
    await waitFor(() => caught.length >= 1, 'the failed start at Catch');
    const statuses: string[] = [];
    const node = helper.getNode('n-out');
    const original = node.status.bind(node);
    node.status = (st: Msg) => {
      statuses.push(st.text);
      original(st);
    };
    node.receive({ payload: 'start' });
    await waitFor(() => caught.length >= 2, 'the second failed start at Catch');
    assert.deepEqual(statuses, ['needs a trigger (EINVAL)']);
    for (const c of caught) {
      assert.equal(c.error.code, 'EINVAL');
      assert.match(c.error.message, /no trigger is attached to the device/);
    }
  });

  it('iio-event: msg.payload.enable takes the kernel\'s words ("on", "1", "true"); garbage is EINVAL at Catch and changes nothing', async () => {
    await helper.load(allNodes, [
      THERMO,
      { id: 'n-ev', type: 'iio-event', device: 'dev-thermo', channel: 'temp', eventType: 'thresh', direction: 'falling', configure: false, wires: [['n-out']] },
      { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] },
      { id: 'n-out', type: 'helper' },
      { id: 'n-caught', type: 'helper' },
    ]);
    const caught = collect('n-caught');
    const t = emu('emu-thermo');
    const en = () => readSys(t, 'events/in_temp_thresh_falling_en');
    const was = en();
    try {
      for (const [value, want] of [['on', '1'], ['0', '0'], ['1', '1'], ['off', '0'], ['true', '1']] as const) {
        helper.getNode('n-ev').receive({ payload: { enable: value } });
        await waitFor(() => en() === want, `enable ${JSON.stringify(value)} → ${want}`, 5000);
      }
      helper.getNode('n-ev').receive({ payload: { enable: 'maybe' } });
      await waitFor(() => caught.length === 1, 'the EINVAL at the Catch node');
      assert.equal(caught[0].error.code, 'EINVAL');
      assert.match(caught[0].error.message, /enable/);
      await sleep(100);
      assert.equal(en(), '1');
    } finally {
      fs.writeFileSync(`${t.sysfsPath}/events/in_temp_thresh_falling_en`, was);
    }
  });

  it('iio-attr follows its device across a replug that renumbers it (watched as a device user)', async function () {
    this.timeout(120000);
    const drv = '/sys/bus/platform/drivers/iio-emu';
    await helper.load(allNodes, [
      ADC,
      { id: 'n-attr', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'name', wires: [['n-out']] },
      { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] },
      { id: 'n-out', type: 'helper' },
      { id: 'n-caught', type: 'helper' },
    ]);
    const statuses: string[] = [];
    const node = helper.getNode('n-attr');
    const original = node.status.bind(node);
    node.status = (st: Msg) => {
      statuses.push(st.text);
      original(st);
    };
    const got = collect('n-out');
    const caught = collect('n-caught');
    const before = emu('emu-adc');
    node.receive({});
    await waitFor(() => got.length === 1, 'the first read');
    assert.equal(got[0].payload, 'emu-adc');
    assert.equal(got[0].device.id, before.id);
    // A device's number is freed only when its last opener closes it: holding emu-thermo's chardev
    // over the replug makes all three come back under new numbers, one of them at adc's old one.
    const hold = fs.openSync(emu('emu-thermo').devPath, 'r');
    try {
      fs.writeFileSync(`${drv}/unbind`, 'iio-emu');
      try {
        await waitFor(() => statuses.includes('disconnected'), 'the disconnected status', 10000);
        node.receive({});
        await waitFor(() => caught.length === 1, 'the read of an absent device at the Catch node');
        assert.equal(caught[0].error.code, 'ENOENT');
      } finally {
        fs.writeFileSync(`${drv}/bind`, 'iio-emu');
      }
    } finally {
      fs.closeSync(hold);
    }
    const after = emu('emu-adc');
    assert.notEqual(after.id, before.id, 'the replug did not renumber emu-adc');
    assert.ok(ctx.devices().some((d) => d.id === before.id), `nothing took ${before.id}: the stale path would not be read`);
    node.receive({});
    await waitFor(() => got.length === 2, 'the read after the replug');
    assert.equal(got[1].payload, 'emu-adc');
    assert.equal(got[1].device.id, after.id);
    assert.equal(got[1].topic, 'adc-main/name');
    await waitFor(() => statuses.lastIndexOf('connected') > statuses.indexOf('disconnected'), 'the connected status after the replug', 10000);
  });

  it('iio-attr: reads scaled channel values, writes attributes, and rejects escaping names via Catch', async () => {
    setTemperature(31250);
    await helper.load(allNodes, [
      THERMO,
      ADC,
      { id: 'n-temp', type: 'iio-attr', device: 'dev-thermo', target: 'channel', channel: 'temp', attribute: 'raw', scaled: true, wires: [['n-out']] },
      { id: 'n-freq', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'sampling_frequency', action: 'write', wires: [['n-out']] },
      { id: 'n-bad', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'name', wires: [['n-out']] },
      { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] },
      { id: 'n-out', type: 'helper' },
      { id: 'n-caught', type: 'helper' },
    ]);
    const got = collect('n-out');
    const caught = collect('n-caught');
    helper.getNode('n-temp').receive({});
    await waitFor(() => got.length === 1, 'the temperature');
    assert.equal(got[0].payload, 31250);
    assert.equal(got[0].topic, 'board-temp/in_temp_raw');
    helper.getNode('n-freq').receive({ payload: 250 });
    await waitFor(() => got.length === 2, 'the write');
    assert.equal(got[1].payload, 250);
    assert.equal(readSys(emu('emu-adc'), 'sampling_frequency'), '250');
    helper.getNode('n-freq').receive({ payload: 1000 });
    helper.getNode('n-bad').receive({ attribute: '../../../../etc/passwd' });
    await waitFor(() => caught.length === 1, 'the rejected name at the Catch node');
    assert.equal(caught[0].error.code, 'EINVAL');
    helper.getNode('n-freq').receive({ payload: 'fast' });
    await waitFor(() => caught.length === 2, 'the driver EINVAL at the Catch node');
    assert.equal(caught[1].error.code, 'EINVAL');
    assert.match(caught[1].error.message, /sampling_frequency/);
    setTemperature(25000);
  });

  it('missing and busy devices reach Catch nodes; the runtime keeps running', async () => {
    const adc = emu('emu-adc');
    // Another process holds the chardev: the kernel admits one opener.
    const holder: ChildProcess = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(adc.devPath)}, 'r'); process.stdout.write('held\\n'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      await helper.load(allNodes, [
        ADC,
        { id: 'n-ghost', type: 'iio-device', deviceName: 'no-such-device' },
        { id: 'n-in1', type: 'iio-in', device: 'dev-adc', samples: 10, autoStart: false, wires: [[]] },
        { id: 'n-in2', type: 'iio-in', device: 'n-ghost', samples: 10, autoStart: false, wires: [[]] },
        { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] },
        { id: 'n-caught', type: 'helper' },
      ]);
      const caught = collect('n-caught');
      helper.getNode('n-in1').receive({ payload: 'start' });
      helper.getNode('n-in2').receive({ payload: 'start' });
      await waitFor(() => caught.length === 2, 'two errors at the Catch node');
      const codes = caught.map((m) => m.error.message).sort();
      assert.ok(codes.some((c) => /EBUSY/.test(c) && c.includes(adc.devPath)), codes.join(' | '));
      assert.ok(codes.some((c) => /ENOENT/.test(c) && /no-such-device/.test(c)), codes.join(' | '));
    } finally {
      holder.kill();
    }
  });

  it('a device that disappears shows "disconnected", the flow keeps running, and capture resumes when it returns', async function () {
    this.timeout(120000);
    const drv = '/sys/bus/platform/drivers/iio-emu';
    await helper.load(allNodes, [
      ADC,
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-replug', frequency: 500 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', channels: ['voltage1'], trigger: 'nr-replug', samples: 50, timestamps: false, wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ]);
    const statuses: Msg[] = [];
    const node = helper.getNode('n-in');
    const original = node.status.bind(node);
    node.status = (st: Msg) => {
      statuses.push(st);
      original(st);
    };
    const got = collect('n-out');
    await waitFor(() => got.length >= 2, 'capture before the unplug');
    fs.writeFileSync(`${drv}/unbind`, 'iio-emu');
    try {
      await waitFor(() => statuses.some((st) => st.text === 'disconnected'), 'the disconnected status', 30000);
    } finally {
      fs.writeFileSync(`${drv}/bind`, 'iio-emu');
    }
    const before = got.length;
    await waitFor(() => got.length >= before + 2, 'capture after the device came back', 30000);
    // The kernel's reason (EPERM; before 6.11 ENOENT: no DMA heap) goes to the log, not the status.
    assert.equal(statuses[statuses.length - 1].text, 'running (without DMABUF)');
    // After the replug the scan counter starts again at 0: the values are the pattern from scan 0.
    for (const [b, m] of got.slice(before, before + 2).entries()) {
      assert.equal(m.topic, 'adc-main/buffer0');
      assert.deepEqual(Array.from(m.payload.voltage1), Array.from({ length: 50 }, (_, i) => emuAdcRaw(1, b * 50 + i, 16, true)), `block ${b} after the replug`);
    }
  });

  it('admin endpoints list the devices and channels, and answer 404 for unknown ids', async () => {
    await helper.load(allNodes, [ADC, { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-admin', frequency: 100 }]);
    await waitFor(() => ctx.findTrigger('nr-admin') !== undefined, 'the trigger node to create its trigger', 5000);
    const list = await helper.request().get('/iio/devices').expect(200);
    const adc = list.body.find((d: Msg) => d.name === 'emu-adc');
    assert.equal(adc.label, 'adc-main');
    assert.deepEqual(list.body.map((d: Msg) => [d.name, d.error]), [['emu-thermo', null], ['emu-adc', null], ['emu-dac', null], ['emu-mux', null]]);
    assert.deepEqual(adc.channels.filter((c: Msg) => c.direction === 'in').map((c: Msg) => c.id), EMU_ADC_CHANNELS.map((c) => c.name));
    assert.deepEqual(adc.buffers.map((b: Msg) => b.index), [0, 1]);
    const one = await helper.request().get(`/iio/devices/${encodeURIComponent(adc.id)}`).expect(200);
    assert.equal(one.body.name, 'emu-adc');
    await helper.request().get('/iio/devices/iio:device99').expect(404);
    const trig = await helper.request().get('/iio/triggers').expect(200);
    assert.deepEqual(trig.body, [{ id: ctx.findTrigger('nr-admin')!.id, name: 'nr-admin' }]);
  });

  it('DAC waveform example: emu-dac plays exactly the sine/cosine block, repeated, until "stop"', async function () {
    if (!kernelHasIioDmabuf()) this.skip(); // the example's buffer1 is a kfifo there: write() repeats it instead
    const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples/Generate a DAC waveform.json'), 'utf8')) as Msg[];
    const dac = emu('emu-dac');
    fs.writeFileSync(path.join(dac.sysfsPath, 'emu_reset'), '1');
    await helper.load(allNodes, flow);
    // The example's inject fires once after 1 s: one period, 256 scans of [sine, cosine] s16.
    await waitFor(() => Number(readSys(dac, 'emu_cyclic_wraps')) >= 3, 'three repetitions', 60000);
    const stop = flow.find((n) => n.type === 'inject' && n.payload === 'stop')!;
    helper.getNode(stop.id).receive({ payload: 'stop' });
    const out = flow.find((n) => n.type === 'iio-dmabuf-out')!;
    await waitFor(() => readSys(dac, 'buffer1/enable') === '0', 'the output to stop');
    const scans = Number(readSys(dac, 'emu_consumed_scans'));
    const block = Buffer.alloc(256 * 4);
    for (let i = 0; i < 256; i++) {
      block.writeInt16LE(Math.round(10000 * Math.sin((2 * Math.PI * i) / 256)), i * 4);
      block.writeInt16LE(Math.round(10000 * Math.cos((2 * Math.PI * i) / 256)), i * 4 + 2);
    }
    const played = Buffer.concat(Array.from({ length: Math.ceil(scans / 256) }, () => block)).subarray(0, scans * 4);
    assert.ok(scans >= 3 * 256, `${scans} scans consumed`);
    assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(played).toString(16).padStart(8, '0')}`);
    assert.ok(helper.getNode(out.id), 'the output node is still there');
  });

  it('every example flow loads', async () => {
    for (const file of fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'))) {
      const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8'));
      await helper.load(allNodes, flow);
      for (const n of flow as Msg[]) if (n.type !== 'tab' && n.type !== 'comment') assert.ok(helper.getNode(n.id), `${file}: node ${n.id} (${n.type}) did not load`);
      await helper.unload();
      await waitFor(() => ctx.triggers().length === 0, `${file}: triggers removed`);
    }
  });
});
