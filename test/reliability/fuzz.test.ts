// Fuzzing every node type through a real Node-RED runtime against the emulated devices:
// ≥ 2 000 hostile messages each (IIO_FUZZ_MESSAGES scales it; the soak runs more). Checked: no
// crash, every done(err) an Error with an errno code, the stall bound, the invariants, no leaks,
// and that names escaping the device directory through sysfs symlinks are refused.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from './lib/seed';
import { row } from './lib/report';
import { ctx, scrub, Owner } from './lib/invariants';
import { fuzz, Send, progress } from './lib/fuzz-driver';
import { hostile, BIG, Heavy } from './lib/hostile';
import { statusText, eventually, finished, codeOf, helper, Msg, sleep, unload } from './lib/red';

const N = Number(process.env.IIO_FUZZ_MESSAGES) || 2000;
const ADC = { id: 'dev-adc', type: 'iio-device', deviceName: 'emu-adc' };
const DAC = { id: 'dev-dac', type: 'iio-device', deviceName: 'emu-dac' };
const THERMO = { id: 'dev-thermo', type: 'iio-device', deviceName: 'emu-thermo' };
const CATCH = [{ id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] }, { id: 'n-caught', type: 'helper' }];
const OUR_TRIGGERS = /^(rel-|sysfstrig9$)/;

const dev = (name: string) => ctx.findDevice({ name });
const sys = (name: string, attr: string) => fs.readFileSync(path.join(dev(name).sysfsPath, attr), 'utf8').trim();
const setSys = (name: string, attr: string, v: string | number) => fs.writeFileSync(path.join(dev(name).sysfsPath, attr), String(v));
const running = (id: string) => () => /^running/.test(statusText(id));
const outputRunning = (id: string) => () => /^(streaming|cyclic)/.test(statusText(id));

function jsonish(v: unknown): unknown {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? null : JSON.parse(s);
  } catch {
    // BigInt, circular: what a hand-edited flow file could hold instead is some odd string.
    return typeof v === 'bigint' ? v.toString() : '[unserialisable]';
  }
}

function check(problems: string[], extra = ''): void {
  assert.deepEqual(problems, [], `${problems.length} problems${extra}:\n  ${problems.join('\n  ')}`);
}

/** A command burst: what a flow with two inject nodes wired in can send at once. */
function commands(rng: Rng, id: string, words: string[]): Send[] {
  return Array.from({ length: rng.int(2, 6) }, () => ({ id, msg: { payload: rng.pick(words) } }));
}

describe('reliability: fuzz every node type', function () {
  this.timeout(0);
  // A test that failed half-way leaves its flow running: stop it, then put the kernel straight.
  afterEach(async () => {
    await unload().catch(() => undefined);
    scrub(OUR_TRIGGERS);
  });

  it(`iio-device (config): ${N} hostile selectors, resolved by iio-attr and iio-in users`, async () => {
    const r = row('fuzz iio-device (config)');
    const rng = Rng.for('fuzz iio-device');
    const names = ['emu-adc', 'adc-main', 'iio:device1', ' emu-adc ', 'EMU-ADC', 'emu-thermo', 'no-such', 'trigger0', '*', '../emu-adc'];
    const problems: string[] = [];
    const codes: Record<string, number> = {};
    // 50 selectors per deploy: a big but believable flow (every iio-device with users rescans
    // sysfs every 2 s while its device is absent, so the count of them sets that tick's cost).
    const perDeploy = 50;
    for (let deploy = 0; deploy * perDeploy < N; deploy++) {
      const flow: Msg[] = [...CATCH];
      const owners: Owner[] = [];
      // A flow's config is JSON (the editor saves it so): hostile, but JSON-representable.
      const sel = () => (rng.chance(0.4) ? rng.pick(names) : jsonish(hostile(rng)));
      for (let i = 0; i < perDeploy; i++) {
        const def = { id: `d${i}`, type: 'iio-device', deviceName: sel(), deviceLabel: rng.chance(0.3) ? sel() : undefined, deviceId: rng.chance(0.2) ? sel() : undefined };
        flow.push(def, { id: `a${i}`, type: 'iio-attr', device: `d${i}`, target: 'device', attribute: 'name', wires: [[]] });
        // Only a fifth start capturing: they all fight over the same buffer when they resolve.
        if (i % 5 === 0) {
          flow.push({ id: `i${i}`, type: 'iio-in', device: `d${i}`, buffer: 0, samples: 10, autoStart: rng.chance(0.5), trigger: rng.chance(0.5) ? 'rel-nowhere' : '', wires: [[]] });
          owners.push({ id: `i${i}`, device: 'emu-adc', buffer: 0, running: running(`i${i}`) });
        }
      }
      const res = await fuzz(r, rng, perDeploy, {
        flow,
        owners,
        burst: (g, i) => [{ id: `a${i}`, msg: g.chance(0.5) ? {} : { payload: hostile(g) } }],
        // autoStart nodes wait up to 5 s for the missing trigger, then report ENOENT.
        ready: async () => void (await sleep(200)),
        finish: async () => {
          for (let i = 0; i < perDeploy; i += 5) helper.getNode(`i${i}`)?.receive({ payload: 'stop' });
          await eventually(() => owners.every((o) => !o.running()), 20000);
          return [];
        },
      });
      problems.push(...res.problems.map((p) => `deploy ${deploy}: ${p}`));
      progress(`deploy ${deploy + 1}: ${(deploy + 1) * perDeploy} selectors`);
      for (const [c, n] of Object.entries(res.codes)) codes[c] = (codes[c] ?? 0) + n;
    }
    console.log(`      done(err) codes: ${JSON.stringify(codes)}`);
    check(problems);
  });

  it(`iio-in: ${N} hostile messages and start/stop bursts (buffer0, hrtimer from an iio-trigger node)`, async () => {
    const r = row('fuzz iio-in');
    const rng = Rng.for('fuzz iio-in');
    const big = new Heavy(2, N);
    const words = ['start', 'stop', 'start', 'stop', ' START', 'Stop '];
    const res = await fuzz(r, rng, N, {
      flow: [
        ADC,
        { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-fz-in', frequency: 200 },
        { id: 'in', type: 'iio-in', device: 'dev-adc', channels: ['voltage0', 'accel_x'], buffer: 0, trigger: 'rel-fz-in', samples: 20, output: 'arrays', timestamps: true, autoStart: false, wires: [['sink']] },
        { id: 'sink', type: 'helper' },
        ...CATCH,
      ],
      owners: [{ id: 'in', device: 'emu-adc', buffer: 0, running: running('in') }],
      burst: (g, i) => {
        if (big.due(i)) return [{ id: 'in', msg: { payload: BIG } }];
        // Commands are the slow messages (each start enables a buffer): 1 burst in 20.
        if (g.chance(0.05)) return commands(g, 'in', words);
        return [{ id: 'in', msg: { payload: g.chance(0.2) ? g.pick(words) : hostile(g), topic: hostile(g) } }];
      },
      finish: async () => {
        const stop = { payload: 'stop' };
        helper.getNode('in').receive(stop);
        await eventually(() => finished.has(stop), 20000);
        const adc = dev('emu-adc');
        const out: string[] = [];
        if (statusText('in') !== 'stopped') out.push(`after "stop" the status is "${statusText('in')}"`);
        if (sys('emu-adc', 'buffer0/enable') !== '0') out.push('after "stop" buffer0 is still enabled');
        if (sys('emu-adc', 'trigger/current_trigger') !== '') out.push(`after "stop" ${adc.name} still names trigger "${sys('emu-adc', 'trigger/current_trigger')}"`);
        return out;
      },
    });
    console.log(`      done(err) codes: ${JSON.stringify(res.codes)}`);
    check(res.problems);
  });

  it(`iio-trigger: ${N} hostile messages to an hrtimer and a sysfs trigger`, async () => {
    const r = row('fuzz iio-trigger');
    const rng = Rng.for('fuzz iio-trigger');
    const many = new Heavy(2, N);
    const res = await fuzz(r, rng, N, {
      // A device captures on each sysfs fire: that is what makes a fire cost something.
      flow: [
        THERMO,
        { id: 'hr', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-fz-hr', frequency: 100 },
        { id: 'sy', type: 'iio-trigger', kind: 'sysfs', sysfsId: 9 },
        { id: 'th', type: 'iio-in', device: 'dev-thermo', channels: ['temp'], buffer: 0, trigger: 'sysfstrig9', samples: 50, output: 'arrays', timestamps: false, autoStart: true, wires: [['sink']] },
        { id: 'sink', type: 'helper' },
        ...CATCH,
      ],
      owners: [{ id: 'th', device: 'emu-thermo', buffer: 0, running: running('th') }],
      ready: async () => void (await eventually(running('th'), 20000)),
      burst: (g, i) => {
        // The largest fire count the node accepts: a loop of sysfs writes if done synchronously.
        if (many.due(i)) return [{ id: 'sy', msg: { payload: 10000 } }];
        const id = g.pick(['hr', 'sy']);
        const msg: Msg = { payload: hostile(g) };
        if (g.chance(0.2)) msg.frequency = hostile(g);
        if (typeof msg.payload === 'number' && id === 'sy' && msg.payload > 300) msg.payload = 300; // keep fires cheap; the ration covers the big ones
        return [{ id, msg }];
      },
    });
    console.log(`      done(err) codes: ${JSON.stringify(res.codes)}`);
    check(res.problems);
  });

  it(`iio-event: ${N} hostile configuration messages while the temperature crosses the threshold`, async () => {
    const r = row('fuzz iio-event');
    const rng = Rng.for('fuzz iio-event');
    const attrs = ['en', 'value', 'hysteresis'].map((a) => `events/in_temp_thresh_rising_${a}`);
    const before = attrs.map((a) => sys('emu-thermo', a));
    const keys = ['enable', 'value', 'hysteresis', 'period'];
    try {
      const res = await fuzz(r, rng, N, {
        flow: [
          THERMO,
          { id: 'ev', type: 'iio-event', device: 'dev-thermo', channel: 'temp', eventType: 'thresh', direction: 'rising', configure: true, enable: true, value: '560', hysteresis: '16', wires: [['sink']] },
          { id: 'sink', type: 'helper' },
          ...CATCH,
        ],
        owners: [],
        burst: (g, i) => {
          if (i % 200 === 0) setSys('emu-thermo', 'emu_temp_mC', (i / 200) % 2 ? 25000 : 47000);
          if (g.chance(0.3)) return [{ id: 'ev', msg: { payload: hostile(g) } }];
          const p: Msg = {};
          for (const k of keys) if (g.chance(0.4)) p[k] = g.chance(0.3) ? g.int(-40000, 40000) : hostile(g);
          return [{ id: 'ev', msg: { payload: p } }];
        },
      });
      console.log(`      done(err) codes: ${JSON.stringify(res.codes)}`);
      check(res.problems);
    } finally {
      attrs.forEach((a, i) => setSys('emu-thermo', a, before[i]));
      setSys('emu-thermo', 'emu_temp_mC', 25000);
    }
  });

  it(`iio-attr: ${N} hostile names, channels, triggers and values; symlink escapes refused; drivers_autoprobe untouched`, async () => {
    const r = row('fuzz iio-attr');
    const rng = Rng.for('fuzz iio-attr');
    const autoprobe = '/sys/bus/iio/drivers_autoprobe';
    const autoprobeBefore = fs.readFileSync(autoprobe, 'utf8');
    const freqBefore = sys('emu-adc', 'sampling_frequency');
    // Names that leave the directory through a symlink, each with a value that is harmless should
    // the write get through (the current value, a device that does not exist, a "change" uevent).
    const escapes: Record<string, string> = {
      'subsystem/drivers_autoprobe': autoprobeBefore.trim(),
      'subsystem/drivers_probe': 'no-such-device',
      'subsystem/uevent': 'change',
      'device/uevent': 'change',
      'driver/unbind': 'no-such-device',
      'device/driver/unbind': 'no-such-device',
    };
    const invalidNames = ['../name', '/sys/bus/iio/drivers_autoprobe', 'a//b', 'buffer0/../name', 'a/b/c/d', 'x'.repeat(300), 'na\0me', '..', 'name/', ' name'];
    const okWrites: Record<string, string[]> = { wr: ['sampling_frequency', 'emu_dropped_scans', 'in_voltage0_raw', 'name', 'no_such_attr'], tw: ['sampling_frequency', 'name', 'no_such_attr'] };
    const okReads = ['sampling_frequency', 'name', 'label', 'in_voltage_scale', 'buffer0/enable', 'trigger/current_trigger', 'no_such_attr'];
    const probes = new Map<object, { id: string; name: string; write: boolean }>();
    const res = await fuzz(r, rng, N, {
      flow: [
        ADC,
        THERMO,
        { id: 'ta', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-fz-at', frequency: 100 },
        { id: 'rd', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'sampling_frequency', wires: [['sink']] },
        { id: 'wr', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'sampling_frequency', action: 'write', wires: [['sink']] },
        { id: 'ch', type: 'iio-attr', device: 'dev-thermo', target: 'channel', channel: 'temp', attribute: 'raw', scaled: true, wires: [['sink']] },
        { id: 'tr', type: 'iio-attr', target: 'trigger', trigger: 'rel-fz-at', attribute: 'sampling_frequency', wires: [['sink']] },
        { id: 'tw', type: 'iio-attr', target: 'trigger', trigger: 'rel-fz-at', attribute: 'sampling_frequency', action: 'write', wires: [['sink']] },
        { id: 'sink', type: 'helper' },
        ...CATCH,
      ],
      owners: [],
      burst: (g) => {
        const id = g.pick(['rd', 'wr', 'ch', 'tr', 'tw']);
        const write = id === 'wr' || id === 'tw';
        const msg: Msg = { payload: g.chance(0.3) ? g.int(1, 5000) : hostile(g) };
        const roll = g.next();
        if (roll < 0.25) {
          const name = g.pick(Object.keys(escapes));
          msg.attribute = name;
          if (write) msg.payload = escapes[name];
          if (id !== 'ch') probes.set(msg, { id, name, write });
        } else if (roll < 0.4) msg.attribute = g.pick(invalidNames);
        else if (roll < 0.6) msg.attribute = write ? g.pick(okWrites[id]) : g.pick(okReads);
        else if (roll < 0.75 && !write) msg.attribute = hostile(g);
        else if (roll < 0.75) msg.attribute = g.pick([1e308, 42n, {}, [], null]);
        if (id === 'ch' && g.chance(0.5)) msg.channel = g.chance(0.5) ? g.pick(['temp', 'voltage0', 'timestamp', '__proto__', 'constructor']) : hostile(g);
        if ((id === 'tr' || id === 'tw') && g.chance(0.4)) msg.trigger = g.chance(0.5) ? g.pick(['rel-fz-at', 'sysfstrig1', 'emu-adc', 'iio:device0', '../trigger0', 'trigger0']) : hostile(g);
        // Writes go only to the names above: the device's own harmless attributes, invalid names,
        // escapes with harmless values, or names that do not exist.
        if (write && typeof msg.attribute === 'string' && !(msg.attribute in escapes) && !invalidNames.includes(msg.attribute) && !okWrites[id].includes(msg.attribute)) msg.attribute = 'no_such_attr';
        if (write && msg.trigger !== undefined && msg.trigger !== 'rel-fz-at') msg.trigger = 'no-such-trigger';
        return [{ id, msg }];
      },
    });
    setSys('emu-adc', 'sampling_frequency', freqBefore);
    setSys('emu-adc', 'emu_dropped_scans', 0);
    const problems = [...res.problems];
    const autoprobeAfter = fs.readFileSync(autoprobe, 'utf8');
    if (autoprobeAfter !== autoprobeBefore) {
      problems.push(`${autoprobe} changed from ${JSON.stringify(autoprobeBefore)} to ${JSON.stringify(autoprobeAfter)}`);
      fs.writeFileSync(autoprobe, autoprobeBefore);
    }
    // Every escape must have been refused by the node, with EINVAL/EACCES/EPERM (ENOENT only
    // where the link does not exist at all).
    const escaped = new Map<string, number>();
    for (const [msg, p] of probes) {
      const e = res.errors.find((x) => x.viaDone && x.msg === msg);
      const code = e ? codeOf(e.err) : null;
      const dir = p.id === 'tr' || p.id === 'tw' ? ctx.findTrigger('rel-fz-at')?.sysfsPath ?? '/sys/bus/iio/devices/trigger0' : dev('emu-adc').sysfsPath;
      const exists = fs.existsSync(path.join(dir, p.name));
      const accepted = ['EINVAL', 'EACCES', 'EPERM', ...(exists ? [] : ['ENOENT'])];
      if (code === null || !accepted.includes(code)) {
        const key = `${p.write ? 'write to' : 'read of'} ${p.name} (${p.id}) was not refused: ${e ? `${code}` : 'done without error'}`;
        escaped.set(key, (escaped.get(key) ?? 0) + 1);
      }
    }
    for (const [k, n] of escaped) problems.push(`${k} (×${n})`);
    console.log(`      ${probes.size} escape attempts; done(err) codes: ${JSON.stringify(res.codes)}`);
    check(problems);
  });

  it(`iio-dmabuf-out: ${N} hostile payloads and start/stop bursts (DMABUF streaming + write() cyclic)`, async () => {
    const r = row('fuzz iio-dmabuf-out');
    const rng = Rng.for('fuzz iio-dmabuf-out');
    const big = new Heavy(2, N);
    setSys('emu-dac', 'emu_reset', 1);
    const wave = (g: Rng, n: number) => ({ voltage0: Int16Array.from({ length: n }, () => g.int(-32768, 32767)), voltage1: Array.from({ length: n }, () => g.int(-32768, 32767)) });
    const res = await fuzz(r, rng, N, {
      flow: [
        DAC,
        { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-fz-dac', frequency: 2000 },
        { id: 'st', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 1, channels: [], mode: 'streaming', blockSize: 64, blocks: 4, transport: 'auto', trigger: 'rel-fz-dac' },
        { id: 'cy', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 0, channels: ['voltage0'], mode: 'cyclic', blockSize: 64, blocks: 2, transport: 'write', trigger: 'rel-fz-dac' },
        ...CATCH,
      ],
      owners: [
        { id: 'st', device: 'emu-dac', buffer: 1, running: outputRunning('st') },
        { id: 'cy', device: 'emu-dac', buffer: 0, running: outputRunning('cy') },
      ],
      ready: async () => void (await eventually(() => outputRunning('st')() && outputRunning('cy')(), 20000)),
      burst: (g, i) => {
        const id = g.pick(['st', 'cy']);
        if (big.due(i)) return [{ id, msg: { payload: BIG } }];
        if (g.chance(0.04)) return commands(g, id, ['start', 'stop']);
        if (g.chance(0.1)) return [{ id, msg: { payload: id === 'st' ? wave(g, g.int(1, 300)) : Int16Array.from({ length: g.int(1, 64) }, (_, i) => i * 100) } }];
        return [{ id, msg: { payload: hostile(g) } }];
      },
      finish: async () => {
        const stops = ['st', 'cy'].map((id) => ({ id, msg: { payload: 'stop' } }));
        for (const s of stops) helper.getNode(s.id).receive(s.msg);
        await eventually(() => stops.every((s) => finished.has(s.msg)), 20000);
        const out: string[] = [];
        for (const b of ['buffer0', 'buffer1']) if (sys('emu-dac', `${b}/enable`) !== '0') out.push(`after "stop" emu-dac ${b} is still enabled`);
        if (sys('emu-dac', 'trigger/current_trigger') !== '') out.push(`after "stop" emu-dac still names trigger "${sys('emu-dac', 'trigger/current_trigger')}"`);
        return out;
      },
    });
    console.log(`      done(err) codes: ${JSON.stringify(res.codes)}`);
    check(res.problems);
  });
});

