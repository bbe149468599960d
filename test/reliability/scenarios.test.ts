// Scenarios with a known right answer: every trigger life-cycle order, concurrent nodes on one
// device and buffer, a buffer disabled behind a node's back, start/stop serialised, loss
// accounting, device removal on both transports, the symlink escapes and the trigger consumer
// limit. Problems are collected and asserted at the end of each test (with the seed).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { row, crashCount, crashesSince } from './lib/report';
import { StallMonitor, STALL_BOUND_MS } from './lib/stall';
import { baseline, unloadLeftovers, scrub, violations, ctx } from './lib/invariants';
import { load, unload, deployNodes, errors, codeOf, describeErr, statusText, eventually, helper, collect, sleep, Msg, finished } from './lib/red';
import {
  ADC, DAC, THERMO, CATCH, OUR_TRIGGERS, dev, sys, setSys, isRunning, isOutputRunning, owner, count, countInto, settled, delivers, send, inNode, sinkOf,
} from './lib/steps';
import { createHrtimerTrigger, removeHrtimerTrigger } from '../../src/trigger';
import { emuAdcRaw } from '../lib/emu-pattern';

type Problems = string[];

/** Starts a test's row and bookkeeping; `end()` unloads, checks leaks, crashes and the stall bound. */
function begin(title: string, opts: { stall?: boolean } = {}) {
  const r = row(title);
  const base = baseline();
  const crash0 = crashCount();
  const err0 = errors.length;
  const mon = opts.stall === false ? null : new StallMonitor().start();
  const problems: Problems = [];
  return {
    r,
    problems,
    base,
    step(what: string, found: string[]) {
      r.attempts++;
      problems.push(...found.map((f) => `${what}: ${f}`));
    },
    /** Errors reported since the test began (done(err) and node.error). */
    errs: () => errors.slice(err0),
    async end(): Promise<void> {
      if (mon) r.stallMaxMs = await mon.stop();
      else r.stallMaxMs = null;
      problems.push(...(await unloadLeftovers(r, base)));
      for (const e of errors.slice(err0)) if ((e.viaDone || e.err instanceof Error) && codeOf(e.err) === null) problems.push(`${e.id}: error without an errno code: ${describeErr(e.err)}`);
      problems.push(...crashesSince(crash0).map((c) => `crash: ${describeErr(c)}`));
      if (mon && r.stallMaxMs! > STALL_BOUND_MS) problems.push(`event loop stalled ${Math.round(r.stallMaxMs!)} ms (bound ${STALL_BOUND_MS} ms)`);
      assert.deepEqual(problems, [], `${problems.length} problems:\n  ${problems.join('\n  ')}`);
    },
  };
}

const trig = (kind: 'hrtimer' | 'sysfs', name: string): Msg =>
  kind === 'hrtimer' ? { id: 'trig', type: 'iio-trigger', kind, triggerName: name, frequency: 500 } : { id: 'trig', type: 'iio-trigger', kind, sysfsId: Number(name.slice(9)) };

/** Makes a running iio-in deliver: hrtimer triggers tick by themselves, sysfs ones are fired. */
async function pulse(kind: 'hrtimer' | 'sysfs', name: string, sink: string): Promise<boolean> {
  if (kind === 'hrtimer') return delivers(sink);
  const from = count(sink);
  for (let i = 0; i < 40 && count(sink) === from; i++) {
    const t = ctx.findTrigger(name);
    if (!t) return false;
    t.fire();
    await eventually(() => count(sink) > from, 500);
  }
  return count(sink) > from;
}

describe('reliability: scenarios', function () {
  this.timeout(0);
  // A test that failed half-way leaves its flow running: stop it, then put the kernel straight.
  afterEach(async () => {
    await unload().catch(() => undefined);
    scrub(OUR_TRIGGERS);
  });

  for (const kind of ['hrtimer', 'sysfs'] as const) {
    const name = kind === 'hrtimer' ? 'rel-lc-hr' : 'sysfstrig6';
    const A = owner('in', 'emu-adc', 0);
    const flowWith = (parts: { trig?: boolean; input?: boolean }) => [ADC, ...(parts.trig ? [trig(kind, name)] : []), ...(parts.input ? [inNode('in', name), sinkOf('in')] : []), ...CATCH];

    it(`trigger life cycle (${kind}): deployed and closed together`, async () => {
      const t = begin(`life cycle ${kind}: together`);
      await load(flowWith({ trig: true, input: true }));
      countInto('in-sink');
      t.step('deploy', await settled([A]));
      if (!(await pulse(kind, name, 'in-sink'))) t.problems.push(`iio-in says "${statusText('in')}" but delivers nothing`);
      await t.end();
    });

    it(`trigger life cycle (${kind}): the iio-trigger node closed first, then the iio-in`, async () => {
      const t = begin(`life cycle ${kind}: trigger closed first`);
      await load(flowWith({ trig: true, input: true }));
      countInto('in-sink');
      t.step('deploy', await settled([A]));
      await deployNodes(flowWith({ input: true }));
      t.step('trigger node removed', await settled([A]));
      await deployNodes(flowWith({}));
      t.step('iio-in removed', await settled([]));
      await t.end();
    });

    it(`trigger life cycle (${kind}): the iio-in closed first, then the iio-trigger node`, async () => {
      const t = begin(`life cycle ${kind}: iio-in closed first`);
      await load(flowWith({ trig: true, input: true }));
      countInto('in-sink');
      t.step('deploy', await settled([A]));
      await deployNodes(flowWith({ trig: true }));
      t.step('iio-in removed', await settled([]));
      if (sys('emu-adc', 'trigger/current_trigger') !== '') t.problems.push(`iio-in closed but emu-adc still names "${sys('emu-adc', 'trigger/current_trigger')}"`);
      await deployNodes(flowWith({}));
      t.step('trigger node removed', await settled([]));
      await t.end();
    });

    it(`trigger life cycle (${kind}): the trigger appears after the iio-in was deployed`, async () => {
      const t = begin(`life cycle ${kind}: trigger after iio-in`);
      await load(flowWith({ input: true }));
      countInto('in-sink');
      await sleep(300);
      t.step('iio-in alone', violations([A]));
      await deployNodes(flowWith({ trig: true, input: true }));
      // The iio-in waits a while for its trigger; a slow deploy may outlast that, then "start" must work.
      if (!(await eventually(() => isRunning('in'), 15000))) await send('in', 'start');
      if (!isRunning('in')) t.problems.push(`iio-in did not start once the trigger appeared (nor on "start"): "${statusText('in')}"`);
      t.step('trigger added', await settled([A]));
      if (!(await pulse(kind, name, 'in-sink'))) t.problems.push(`iio-in says "${statusText('in')}" but delivers nothing`);
      await t.end();
    });
  }

  it('trigger life cycle: an existing trigger is adopted, used and left in place', async () => {
    const t = begin('life cycle: adopted trigger');
    createHrtimerTrigger('rel-lc-adopt', ctx);
    try {
      const A = owner('in', 'emu-adc', 0);
      await load([ADC, { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-lc-adopt', frequency: 500 }, inNode('in', 'rel-lc-adopt'), sinkOf('in'), ...CATCH]);
      countInto('in-sink');
      t.step('deploy', await settled([A]));
      if (!(await delivers('in-sink'))) t.problems.push(`iio-in says "${statusText('in')}" but delivers nothing`);
      await unload();
      await eventually(() => sys('emu-adc', 'trigger/current_trigger') === '', 8000);
      if (!ctx.findTrigger('rel-lc-adopt')) t.problems.push('the adopted trigger was removed by the node that did not create it');
      if (sys('emu-adc', 'trigger/current_trigger') !== '') t.problems.push('emu-adc still names the adopted trigger after unload');
    } finally {
      if (ctx.findTrigger('rel-lc-adopt')) removeHrtimerTrigger('rel-lc-adopt');
    }
    await t.end();
  });

  it('trigger life cycle: a trigger that never appears is an ENOENT error, nothing enabled', async () => {
    const t = begin('life cycle: missing trigger');
    await load([ADC, inNode('in', 'rel-lc-missing'), sinkOf('in'), ...CATCH]);
    const caught = collect('n-caught');
    await eventually(() => caught.length > 0, 20000);
    const codes = caught.map((m) => m.error?.code);
    if (codes.join() !== 'ENOENT') t.problems.push(`expected one ENOENT at the Catch node, got ${JSON.stringify(codes)}`);
    t.step('deploy', await settled([owner('in', 'emu-adc', 0)]));
    if (sys('emu-adc', 'trigger/current_trigger') !== '') t.problems.push('emu-adc names a trigger although none was attached');
    await t.end();
  });

  it('two iio-in on one buffer: the second gets EBUSY, the first keeps delivering; DMABUF buffer1 and other nodes alongside', async () => {
    const t = begin('concurrent nodes on one device/buffer');
    const owners = [owner('in1', 'emu-adc', 0), owner('in2', 'emu-adc', 0), owner('in3', 'emu-adc', 1)];
    await load([
      ADC, THERMO,
      { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-cc', frequency: 500 },
      inNode('in1', 'rel-cc'), sinkOf('in1'),
      inNode('in2', 'rel-cc', { autoStart: false }), sinkOf('in2'),
      inNode('in3', 'rel-cc', { buffer: 1, transport: 'dmabuf', samples: 50 }), sinkOf('in3'),
      { id: 'n-raw', type: 'iio-attr', device: 'dev-adc', target: 'channel', channel: 'voltage1', attribute: 'raw', interval: 0.2, wires: [[]] },
      { id: 'n-ev', type: 'iio-event', device: 'dev-thermo', channel: 'temp', eventType: 'thresh', direction: 'rising', wires: [[]] },
      ...CATCH,
    ]);
    for (const id of ['in1-sink', 'in2-sink', 'in3-sink']) countInto(id);
    t.step('deploy', await settled(owners));
    if (!(await delivers('in1-sink'))) t.problems.push(`in1 says "${statusText('in1')}" but delivers nothing before the second start`);
    await send('in2', 'start');
    const busy = t.errs().filter((e) => e.id === 'in2').map((e) => codeOf(e.err));
    if (busy.join() !== 'EBUSY') t.problems.push(`the second iio-in on buffer0: expected one EBUSY, got ${JSON.stringify(busy)} (status "${statusText('in2')}")`);
    t.step('second start', await settled(owners));
    if (!isRunning('in1')) t.problems.push(`in1 no longer running after the second one failed: "${statusText('in1')}"`);
    else if (!(await delivers('in1-sink', 2))) t.problems.push(`in1 says "${statusText('in1')}" but delivers nothing after the second one failed`);
    if (!(await delivers('in3-sink'))) t.problems.push(`in3 (DMABUF) says "${statusText('in3')}" but delivers nothing`);
    // Hand the buffer over: stop the first, start the second.
    await send('in1', 'stop');
    await send('in2', 'start');
    t.step('hand-over', await settled(owners));
    if (!isRunning('in2') || !(await delivers('in2-sink'))) t.problems.push(`after the hand-over in2 is "${statusText('in2')}" and delivers ${count('in2-sink')} messages`);
    await t.end();
  });

  for (const how of ['iio-attr', 'outside Node-RED'] as const) {
    it(`buffer0 disabled behind a running iio-in's back (${how}): noticed, reported, invariants hold`, async () => {
      const t = begin(`buffer disabled behind the node (${how})`);
      const A = owner('in', 'emu-adc', 0);
      await load([
        ADC,
        { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-bd', frequency: 500 },
        inNode('in', 'rel-bd'), sinkOf('in'),
        { id: 'w', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'buffer0/enable', action: 'write', wires: [[]] },
        ...CATCH,
      ]);
      countInto('in-sink');
      const caught = collect('n-caught');
      t.step('deploy', await settled([A]));
      if (!(await delivers('in-sink'))) t.problems.push('iio-in delivers nothing before the disable');
      if (how === 'iio-attr') await send('w', 0);
      else setSys('emu-adc', 'buffer0/enable', 0);
      // Either the node reports it (error with a code, status no longer "running") or it re-enables
      // and delivers again; "running" with a disabled buffer is the bug.
      t.step('disable', await settled([A]));
      // The status changes as the error is reported; the Catch node gets it a turn or two later.
      const reported = () => caught.some((m) => m.error?.source?.id === 'in' && typeof m.error.code === 'string');
      // Either outcome may still be on its way when the invariants settle: judge the state after the wait.
      const deliversAgain = isRunning('in') && (await delivers('in-sink'));
      if (!deliversAgain && isRunning('in')) t.problems.push(`iio-in says "${statusText('in')}" but delivers nothing after the disable`);
      if (!deliversAgain && !isRunning('in') && !(await eventually(reported, 5000))) t.problems.push(`iio-in stopped ("${statusText('in')}") without an error at the Catch node`);
      await t.end();
    });
  }

  it('iio-in start/stop serialised: "stop","start" ends running; "start","stop","start" then "stop" ends stopped and detached', async () => {
    const t = begin('iio-in start/stop serialised');
    const A = owner('in', 'emu-adc', 0);
    await load([ADC, { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-ser', frequency: 500 }, inNode('in', 'rel-ser', { autoStart: false }), sinkOf('in'), ...CATCH]);
    countInto('in-sink');
    for (let round = 0; round < 3; round++) {
      await send('in', 'start');
      await send('in', 'stop', 'start');
      t.step(`round ${round} stop,start`, await settled([A]));
      if (!isRunning('in')) t.problems.push(`round ${round}: "stop","start" ended "${statusText('in')}", not running`);
      else if (!(await delivers('in-sink'))) t.problems.push(`round ${round}: running but delivers nothing`);
      await send('in', 'stop');
      await send('in', 'start', 'stop', 'start');
      await send('in', 'stop');
      t.step(`round ${round} start,stop,start;stop`, await settled([A]));
      if (statusText('in') !== 'stopped') t.problems.push(`round ${round}: ended "${statusText('in')}", not stopped`);
      const cur = sys('emu-adc', 'trigger/current_trigger');
      if (cur !== '') t.problems.push(`round ${round}: stopped but emu-adc still names trigger "${cur}"`);
    }
    const busy = t.errs().filter((e) => codeOf(e.err) === 'EBUSY');
    if (busy.length) t.problems.push(`${busy.length} EBUSY errors from start/stop of one node: ${describeErr(busy[0].err)}`);
    await t.end();
  });

  it('iio-dmabuf-out: "stop","start" ends running; cyclic waveforms back to back are all accepted', async () => {
    const t = begin('iio-dmabuf-out serialised, cyclic back to back');
    setSys('emu-dac', 'emu_reset', 1);
    const O = owner('out', 'emu-dac', 1, true);
    await load([
      DAC,
      { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-cyc', frequency: 2000 },
      { id: 'out', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 1, channels: ['voltage0'], mode: 'cyclic', blockSize: 64, blocks: 4, transport: 'dmabuf', trigger: 'rel-cyc' },
      ...CATCH,
    ]);
    t.step('deploy', await settled([O]));
    for (let round = 0; round < 3; round++) {
      await send('out', 'stop', 'start');
      t.step(`round ${round} stop,start`, await settled([O]));
      if (!isOutputRunning('out')) t.problems.push(`round ${round}: "stop","start" ended "${statusText('out')}"`);
    }
    const err0 = t.errs().length;
    const waves = Array.from({ length: 12 }, (_, k) => Int16Array.from({ length: 64 }, (_, i) => (i * (k + 1) * 37) % 30000));
    const ok = await send('out', ...waves);
    if (!ok) t.problems.push('not every cyclic waveform finished (done)');
    const rejected = t.errs().slice(err0).map((e) => codeOf(e.err) ?? describeErr(e.err));
    if (rejected.length) t.problems.push(`${rejected.length} of ${waves.length} back-to-back cyclic waveforms rejected: ${JSON.stringify(rejected)}`);
    t.step('waveforms', await settled([O]));
    await t.end();
  });

  for (const transport of ['read', 'dmabuf'] as const) {
    const buffer = transport === 'read' ? 0 : 1;
    it(`loss accounting (${transport}, buffer${buffer}): paced scans → exact values, no overrun; a blocked loop → overruns reported`, async () => {
      const t = begin(`loss accounting ${transport}`, { stall: false });
      const adc = dev('emu-adc');
      setSys('emu-adc', 'emu_dropped_scans', 0);
      // Paced: one sysfs fire at a time, each waited for, so nothing can be lost.
      await load([ADC, trig('sysfs', 'sysfstrig7'), inNode('in', 'sysfstrig7', { buffer, transport, samples: 5 }), sinkOf('in'), ...CATCH]);
      const got = collect('in-sink');
      t.step('paced deploy', await settled([owner('in', 'emu-adc', buffer)]));
      const scans = 50;
      for (let n = 0; n < scans; n++) {
        // Fire the first scan of a block only once the last block was delivered (and requeued).
        if (n % 5 === 0 && !(await eventually(() => got.length >= n / 5, 10000))) t.problems.push(`block ${n / 5 - 1} was not delivered`);
        ctx.findTrigger('sysfstrig7')!.fire();
        const want = String(emuAdcRaw(1, n, 16, true));
        if (!(await eventually(() => fs.readFileSync(path.join(adc.sysfsPath, 'in_voltage1_raw'), 'utf8').trim() === want, 5000, 2))) {
          t.problems.push(`scan ${n} was not captured by the device`);
          break;
        }
      }
      await eventually(() => got.length >= scans / 5, 10000);
      const values = got.flatMap((m) => Array.from(m.payload.voltage1 as ArrayLike<number>));
      const expected = Array.from({ length: scans }, (_, n) => emuAdcRaw(1, n, 16, true));
      if (JSON.stringify(values) !== JSON.stringify(expected)) t.problems.push(`paced values differ: got ${values.length} values, first ${JSON.stringify(values.slice(0, 6))}`);
      const flagged = got.filter((m) => m.overrun !== false || m.overruns !== 0).length;
      if (flagged) t.problems.push(`false positive: ${flagged} of ${got.length} paced messages report an overrun`);
      if (sys('emu-adc', 'emu_dropped_scans') !== '0') t.problems.push(`the device dropped ${sys('emu-adc', 'emu_dropped_scans')} paced scans`);
      await unload();

      // Overloaded: 1 kHz into a small buffer while the event loop is blocked for 3 s.
      setSys('emu-adc', 'emu_dropped_scans', 0);
      await load([ADC, { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-loss', frequency: 1000 }, inNode('in', 'rel-loss', { buffer, transport, samples: 8, bufferLength: 32 }), sinkOf('in'), ...CATCH]);
      const flood = collect('in-sink');
      await eventually(() => flood.length >= 3, 20000);
      const end = Date.now() + 3000;
      while (Date.now() < end) {
        /* block the loop on purpose: the kernel buffer must overflow */
      }
      const seen = flood.length;
      await eventually(() => flood.length >= seen + 20, 20000);
      const dropped = Number(sys('emu-adc', 'emu_dropped_scans'));
      const reported = flood.filter((m) => m.overrun === true).length;
      // The scan numbers in the pattern show the gaps the node should have reported.
      const inv257 = 65281; // 257 × 65281 ≡ 1 (mod 65536)
      const ns = flood.flatMap((m) => Array.from(m.payload.voltage1 as ArrayLike<number>, (v) => (((v & 0xffff) - 961) * inv257) & 0xffff));
      let gaps = 0;
      for (let i = 1; i < ns.length; i++) if (ns[i] !== ((ns[i - 1] + 1) & 0xffff)) gaps++;
      if (dropped === 0) t.problems.push('the blocked loop did not make the device drop scans (test setup)');
      if (gaps === 0) t.problems.push('no gap in the scan numbers although the device dropped scans');
      if (reported === 0) t.problems.push(`true positive missed: ${dropped} scans dropped, ${gaps} gaps, no message reports an overrun`);
      t.r.attempts += scans + flood.length;
      await t.end();
    });
  }

  for (const [transport, buffer] of [['read', 0], ['dmabuf', 1]] as const) {
    it(`device removal (${transport}): unbind while capturing → "disconnected", no crash; bind → delivers again; nothing leaks`, async () => {
      const t = begin(`device removal ${transport}`);
      const drv = '/sys/bus/platform/drivers/iio-emu';
      const A = owner('in', 'emu-adc', buffer);
      await load([ADC, { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-rm', frequency: 500 }, inNode('in', 'rel-rm', { buffer, transport, samples: 20 }), sinkOf('in'), ...CATCH]);
      countInto('in-sink');
      t.step('deploy', await settled([A]));
      if (!(await delivers('in-sink'))) t.problems.push('nothing delivered before the unbind');
      for (let cycle = 0; cycle < 2; cycle++) {
        fs.writeFileSync(`${drv}/unbind`, 'iio-emu');
        try {
          if (!(await eventually(() => statusText('in') === 'disconnected', 15000))) t.problems.push(`cycle ${cycle}: status "${statusText('in')}" after the unbind, not "disconnected"`);
          t.step(`cycle ${cycle} unbound`, violations([A]));
        } finally {
          fs.writeFileSync(`${drv}/bind`, 'iio-emu');
        }
        if (!(await eventually(() => isRunning('in'), 30000))) t.problems.push(`cycle ${cycle}: not running again after the bind: "${statusText('in')}"`);
        else if (!(await delivers('in-sink', 2))) t.problems.push(`cycle ${cycle}: running but delivers nothing after the bind`);
        t.step(`cycle ${cycle} bound`, await settled([A]));
      }
      await t.end();
    });
  }

  it('symlink escapes: iio-attr refuses to read or write through subsystem/ and friends; drivers_autoprobe untouched', async () => {
    const t = begin('symlink escapes');
    const autoprobe = '/sys/bus/iio/drivers_autoprobe';
    const before = fs.readFileSync(autoprobe, 'utf8');
    const escapes: Record<string, string> = { 'subsystem/drivers_autoprobe': before.trim(), 'subsystem/drivers_probe': 'no-such-device', 'subsystem/uevent': 'change', 'device/uevent': 'change', 'driver/unbind': 'no-such-device', 'device/driver/unbind': 'no-such-device' };
    await load([
      ADC,
      { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-esc', frequency: 100 },
      { id: 'rd', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'name', wires: [[]] },
      { id: 'wr', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'sampling_frequency', action: 'write', wires: [[]] },
      { id: 'tr', type: 'iio-attr', target: 'trigger', trigger: 'rel-esc', attribute: 'name', wires: [[]] },
      { id: 'tw', type: 'iio-attr', target: 'trigger', trigger: 'rel-esc', attribute: 'sampling_frequency', action: 'write', wires: [[]] },
      ...CATCH,
    ]);
    for (const [name, value] of Object.entries(escapes)) {
      for (const id of ['rd', 'wr', 'tr', 'tw']) {
        const msg = { attribute: name, payload: value };
        const from = errors.length;
        helper.getNode(id).receive(msg);
        await eventually(() => finished.has(msg), 10000);
        t.r.attempts++;
        const e = errors.slice(from).find((x) => x.msg === msg);
        const dir = id.startsWith('t') ? ctx.findTrigger('rel-esc')!.sysfsPath : dev('emu-adc').sysfsPath;
        const accepted = ['EINVAL', 'EACCES', 'EPERM', ...(fs.existsSync(path.join(dir, name)) ? [] : ['ENOENT'])];
        const code = e ? codeOf(e.err) : null;
        const write = id === 'wr' || id === 'tw';
        if (!code || !accepted.includes(code)) t.problems.push(`${write ? 'write to' : 'read of'} ${name} via ${id}: not refused (${e ? code ?? describeErr(e.err) : 'succeeded'})`);
      }
    }
    const after = fs.readFileSync(autoprobe, 'utf8');
    if (after !== before) {
      t.problems.push(`${autoprobe} changed from ${JSON.stringify(before)} to ${JSON.stringify(after)}`);
      fs.writeFileSync(autoprobe, before);
    }
    await t.end();
  });

  it('trigger consumer limit: three devices on one trigger → two run, the third reports an error; nothing left behind', async () => {
    const t = begin('trigger consumer limit');
    const owners = [owner('a', 'emu-adc', 0), owner('th', 'emu-thermo', 0), owner('o', 'emu-dac', 0, true)];
    await load([
      ADC, THERMO, DAC,
      { id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'rel-lim', frequency: 200 },
      inNode('a', 'rel-lim'), sinkOf('a'),
      { ...inNode('th', 'rel-lim'), device: 'dev-thermo', channels: ['temp'] }, sinkOf('th'),
      { id: 'o', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 0, channels: [], mode: 'cyclic', blockSize: 64, blocks: 2, transport: 'write', trigger: 'rel-lim' },
      ...CATCH,
    ]);
    const failed = () => t.errs().filter((e) => ['a', 'th', 'o'].includes(e.id));
    await eventually(() => failed().length > 0 || [isRunning('a'), isRunning('th'), isOutputRunning('o')].filter(Boolean).length === 3, 20000);
    await sleep(500);
    const runningNodes = [isRunning('a') && 'a', isRunning('th') && 'th', isOutputRunning('o') && 'o'].filter(Boolean);
    const state = ['emu-adc', 'emu-thermo', 'emu-dac'].map((d) => `${d} buffer0=${sys(d, 'buffer0/enable')} trigger="${sys(d, 'trigger/current_trigger')}"`).join(', ');
    if (runningNodes.length !== 2) t.problems.push(`expected exactly two of three running on one trigger (CONFIG_IIO_CONSUMERS_PER_TRIGGER=2), got ${JSON.stringify(runningNodes)}; ${state}`);
    const codes = failed().map((e) => `${e.id}:${codeOf(e.err)}`);
    if (codes.length !== 1 || codes[0].endsWith(':null')) t.problems.push(`expected one error with a code from the third node, got ${JSON.stringify(codes)}`);
    t.step('deploy', await settled(owners));
    await t.end();
  });
});
