// The soak (npm run test:soak): a real Node-RED process (no test helper: its spies keep every
// message, so memory figures would be meaningless), driven through the admin API.
//   1. 1 000 deploys (IIO_SOAK_DEPLOYS) of seeded random flows, full and partial, with the
//      kernel invariants checked after each and a clean state after every empty deploy.
//   2. A 10-minute overload (IIO_SOAK_OVERLOAD_S): emu-adc free-running at 100 kHz into an
//      iio-in that cannot keep up; overruns must be reported, memory must stay flat.
// Node-RED's own event-loop delay and RSS are sampled inside it by the settings file.
import * as fs from 'fs';
import * as path from 'path';
import * as http from 'http';
import { spawn, ChildProcess } from 'child_process';
import { Rng, SEED } from './lib/seed';
import { STALL_BOUND_MS } from './lib/stall';
import { ctx } from './lib/invariants';

const root = path.join(__dirname, '../../..');
const PORT = 18802;
const DEPLOYS = Number(process.env.IIO_SOAK_DEPLOYS) || 1000;
const OVERLOAD_S = Number(process.env.IIO_SOAK_OVERLOAD_S) || 600;
const userDir = fs.mkdtempSync('/tmp/nr-soak-');
const statsFile = path.join(userDir, 'stats.json');

type Msg = Record<string, unknown>;
interface Stats {
  rssKiB: number;
  heapKiB: number;
  /** Node-RED's event-loop stalls (lib/stall.ts, machine stalls not counted): [start, ms]. */
  stalls: Array<[number, number]>;
}

/** Node-RED's longest stall that began at or after `t` (startup excluded that way). */
function stallSince(t: number): number {
  return Math.max(0, ...stats().stalls.filter(([a]) => a >= t).map(([, ms]) => ms));
}

function request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`http://127.0.0.1:${PORT}${url}`, { method, headers: { ...(data ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.setTimeout(120000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    if (data) req.write(data);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(): Stats {
  return JSON.parse(fs.readFileSync(statsFile, 'utf8')) as Stats;
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Kernel state that must hold whatever is deployed: devices name existing triggers only. */
function danglingTriggers(): string[] {
  const names = new Set(ctx.triggers().map((t) => t.name));
  return ctx.devices().filter((d) => d.triggerable && read(path.join(d.sysfsPath, 'trigger/current_trigger')) !== '' && !names.has(read(path.join(d.sysfsPath, 'trigger/current_trigger')))).map((d) => `${d.name} names missing trigger "${read(path.join(d.sysfsPath, 'trigger/current_trigger'))}"`);
}

/** After an empty deploy: nothing of ours open in Node-RED, no trigger, no enabled buffer. */
function leftovers(red: ChildProcess): string[] {
  const out: string[] = [];
  const fds = fs.readdirSync(`/proc/${red.pid}/fd`).map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${red.pid}/fd/${fd}`);
    } catch {
      return '';
    }
  }).filter((f) => /iio|dmabuf|dma_heap|udmabuf|memfd/.test(f));
  if (fds.length) out.push(`open: ${fds.join(', ')}`);
  const maps = read(`/proc/${red.pid}/maps`).split('\n').filter((l) => /iio|dmabuf|dma_heap|udmabuf|memfd/.test(l)).length;
  if (maps) out.push(`${maps} device mappings`);
  const triggers = ctx.triggers().map((t) => t.name).filter((n) => n.startsWith('soak-') || /^sysfstrig4$/.test(n));
  if (triggers.length) out.push(`triggers left: ${triggers.join(', ')}`);
  for (const d of ctx.devices()) {
    for (const b of d.buffers) if (read(path.join(d.sysfsPath, b.dir, 'enable')) !== '0') out.push(`${d.name} ${b.dir} enabled`);
    if (d.triggerable && read(path.join(d.sysfsPath, 'trigger/current_trigger')) !== '') out.push(`${d.name} names "${read(path.join(d.sysfsPath, 'trigger/current_trigger'))}"`);
  }
  return out;
}

/** A seeded random flow from the parts users combine. */
function randomFlow(rng: Rng): Msg[] {
  const flow: Msg[] = [{ id: 'soak-tab', type: 'tab', label: 'soak' }];
  const node = (n: Msg) => flow.push({ z: 'soak-tab', x: 100, y: 40 * flow.length, wires: [], ...n });
  flow.push({ id: 'soak-adc', type: 'iio-device', deviceName: 'emu-adc' }, { id: 'soak-thermo', type: 'iio-device', deviceName: 'emu-thermo' }, { id: 'soak-dac', type: 'iio-device', deviceName: 'emu-dac' });
  const kind = rng.pick(['hrtimer', 'sysfs']);
  const trig = kind === 'hrtimer' ? 'soak-hr' : 'sysfstrig4';
  if (rng.chance(0.7)) node({ id: 'soak-trig', type: 'iio-trigger', kind, triggerName: 'soak-hr', sysfsId: 4, frequency: rng.pick([100, 500, 1000]) });
  node({ id: 'soak-count', type: 'function', func: 'return null;', outputs: 1 });
  if (rng.chance(0.7)) node({ id: 'soak-in', type: 'iio-in', device: 'soak-adc', channels: ['voltage0', 'voltage1'], buffer: 0, trigger: trig, samples: 50, output: rng.pick(['arrays', 'objects', 'raw']), timestamps: true, autoStart: rng.chance(0.8), transport: 'read', wires: [['soak-count']] });
  if (rng.chance(0.3)) node({ id: 'soak-in2', type: 'iio-in', device: 'soak-adc', channels: [], buffer: rng.pick([0, 1]), trigger: trig, samples: 100, output: 'arrays', autoStart: true, transport: 'auto', wires: [['soak-count']] });
  if (rng.chance(0.3)) node({ id: 'soak-ev', type: 'iio-event', device: 'soak-thermo', channel: 'temp', eventType: 'thresh', direction: 'rising', configure: true, enable: true, value: '560', wires: [['soak-count']] });
  if (rng.chance(0.3)) node({ id: 'soak-attr', type: 'iio-attr', device: 'soak-adc', target: 'channel', channel: 'voltage1', attribute: 'raw', interval: 1, wires: [['soak-count']] });
  if (rng.chance(0.2)) node({ id: 'soak-out', type: 'iio-dmabuf-out', device: 'soak-dac', buffer: 1, channels: ['voltage0'], mode: 'cyclic', blockSize: 64, blocks: 2, transport: 'auto', trigger: trig });
  return flow;
}

const EMPTY: Msg[] = [{ id: 'soak-tab', type: 'tab', label: 'soak' }];

async function deploy(flow: Msg[], type: 'full' | 'nodes' = 'full'): Promise<void> {
  const res = await request('POST', '/flows', flow, { 'Node-RED-Deployment-Type': type });
  if (res.status !== 204 && res.status !== 200) throw new Error(`deploy answered ${res.status}: ${res.body.slice(0, 200)}`);
}

async function settle(ms: number, check: () => string[]): Promise<string[]> {
  const end = Date.now() + ms;
  let v = check();
  while (v.length && Date.now() < end) {
    await sleep(100);
    v = check();
  }
  return v;
}

async function main(): Promise<number> {
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(root, path.join(userDir, 'node_modules', 'node-red-contrib-iio'));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(EMPTY));
  // The settings file runs inside Node-RED: it samples the event-loop delay and memory there.
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `const fs = require('fs');
const { StallMonitor } = require(${JSON.stringify(path.join(__dirname, 'lib/stall.js'))});
const mon = new StallMonitor().start();
setInterval(() => {
  const m = process.memoryUsage();
  const stalls = mon.since(Date.now() - 3600000).slice(-2000);
  fs.writeFileSync(${JSON.stringify(statsFile)} + '.tmp', JSON.stringify({ rssKiB: Math.round(m.rss / 1024), heapKiB: Math.round(m.heapUsed / 1024), stalls }));
  fs.renameSync(${JSON.stringify(statsFile)} + '.tmp', ${JSON.stringify(statsFile)});
}, 1000).unref();
module.exports = { uiHost: '127.0.0.1', uiPort: ${PORT}, flowFile: 'flows.json', credentialSecret: false,
  diagnostics: { enabled: false }, telemetry: { enabled: false, updateNotification: false },
  logging: { console: { level: 'error' } } };
`,
  );
  const red = spawn(process.execPath, ['--expose-gc', path.join(root, 'node_modules/node-red/red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { stdio: ['ignore', 'inherit', 'inherit'] });
  let exited: string | null = null;
  red.on('exit', (code, signal) => (exited = `Node-RED exited (code ${code}, signal ${signal})`));
  const problems: string[] = [];
  const rows: string[] = [];
  try {
    const up = Date.now() + 300000;
    while ((await request('GET', '/flows').catch(() => ({ status: 0, body: '' }))).status !== 200) {
      if (Date.now() > up || exited) throw new Error(exited ?? 'Node-RED did not come up');
      await sleep(500);
    }
    while (!fs.existsSync(statsFile)) await sleep(200);

    // 1. Deploys.
    const rng = Rng.for('soak deploys');
    const t0 = Date.now();
    const rss: number[] = [];
    let deployProblems = 0;
    let leakChecks = 0;
    let leaks = 0;
    let stall1 = 0;
    for (let i = 1; i <= DEPLOYS && !exited; i++) {
      const empty = i % 10 === 0;
      const flow = empty ? EMPTY : randomFlow(rng);
      await deploy(flow, !empty && rng.chance(0.3) ? 'nodes' : 'full');
      const v = await settle(10000, danglingTriggers);
      if (v.length) {
        deployProblems++;
        if (deployProblems <= 5) problems.push(`deploy ${i}: ${v.join('; ')}`);
      }
      if (empty) {
        leakChecks++;
        const left = await settle(15000, () => leftovers(red));
        if (left.length) {
          leaks++;
          if (leaks <= 5) problems.push(`after empty deploy ${i}: ${left.join('; ')}`);
        }
        rss.push(stats().rssKiB);
      }
      stall1 = stallSince(t0);
      if (i % 100 === 0) console.log(`soak: ${i} deploys, ${((Date.now() - t0) / 1000).toFixed(0)} s, RSS ${(stats().rssKiB / 1024).toFixed(1)} MiB, stall max ${Math.round(stall1)} ms`);
    }
    // Memory after warm-up: the mean of the last quarter of samples against the second quarter.
    const q = Math.max(1, Math.floor(rss.length / 4));
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
    const early = mean(rss.slice(q, 2 * q));
    const late = mean(rss.slice(-q));
    const growth = (late - early) / 1024;
    console.log(`soak: RSS after empty deploys (MiB): first ${(rss[0] / 1024).toFixed(1)}, max ${(Math.max(...rss) / 1024).toFixed(1)}, last ${(rss[rss.length - 1] / 1024).toFixed(1)}; second-quarter mean ${(early / 1024).toFixed(1)} → last-quarter mean ${(late / 1024).toFixed(1)}`);
    // 32 MiB: a leak of one message's worth per deploy would exceed it; GC noise stays far below.
    const leakedMem = growth > 32;
    if (leakedMem) problems.push(`RSS grew ${growth.toFixed(1)} MiB from the second to the last quarter of the deploys`);
    if (stall1 > STALL_BOUND_MS) problems.push(`Node-RED's event loop stalled ${Math.round(stall1)} ms during the deploys (bound ${STALL_BOUND_MS} ms)`);
    rows.push(`| soak ${DEPLOYS} deploys (real Node-RED) | ${DEPLOYS} | ${exited ? 1 : 0} | ${leaks + (leakedMem ? 1 : 0)} | ${Math.round(stall1)} ms | ${deployProblems + leaks + (leakedMem ? 1 : 0) === 0 && !exited && stall1 <= STALL_BOUND_MS ? 'pass' : 'FAIL'} |`);

    // 2. Overload.
    const adc = ctx.findDevice({ name: 'emu-adc' });
    fs.writeFileSync(path.join(adc.sysfsPath, 'emu_dropped_scans'), '0');
    fs.writeFileSync(path.join(adc.sysfsPath, 'emu_free_running'), '1');
    fs.writeFileSync(path.join(adc.sysfsPath, 'sampling_frequency'), '100000');
    const flow: Msg[] = [
      ...EMPTY,
      { id: 'soak-adc', type: 'iio-device', deviceName: 'emu-adc' },
      { id: 'ov-in', type: 'iio-in', z: 'soak-tab', device: 'soak-adc', channels: [], buffer: 0, trigger: '', samples: 200, output: 'objects', scaled: true, timestamps: true, autoStart: true, transport: 'read', bufferLength: 4096, x: 100, y: 40, wires: [['ov-count']] },
      { id: 'ov-count', type: 'function', z: 'soak-tab', x: 300, y: 40, outputs: 1, wires: [[]], func: 'const s = global.get("ov") || { msgs: 0, scans: 0, overruns: 0 }; s.msgs++; s.scans += msg.scans; if (msg.overrun) s.overruns++; global.set("ov", s); return null;' },
      { id: 'ov-http', type: 'http in', z: 'soak-tab', url: '/soak-stats', method: 'get', x: 100, y: 100, wires: [['ov-stats']] },
      { id: 'ov-stats', type: 'function', z: 'soak-tab', x: 300, y: 100, outputs: 1, wires: [['ov-res']], func: 'msg.payload = global.get("ov") || { msgs: 0, scans: 0, overruns: 0 }; return msg;' },
      { id: 'ov-res', type: 'http response', z: 'soak-tab', x: 500, y: 100, wires: [] },
    ];
    const before = stats();
    await deploy(flow);
    const samples: Stats[] = [];
    const tEnd = Date.now() + OVERLOAD_S * 1000;
    let stall2 = 0;
    const t2 = Date.now();
    while (Date.now() < tEnd && !exited) {
      await sleep(10000);
      samples.push(stats());
      stall2 = stallSince(t2);
    }
    const ov = JSON.parse((await request('GET', '/soak-stats')).body) as { msgs: number; scans: number; overruns: number };
    const dropped = Number(read(path.join(adc.sysfsPath, 'emu_dropped_scans')));
    await deploy(EMPTY);
    const left = await settle(15000, () => leftovers(red));
    fs.writeFileSync(path.join(adc.sysfsPath, 'emu_free_running'), '0');
    fs.writeFileSync(path.join(adc.sysfsPath, 'sampling_frequency'), '1000');
    const rssOv = samples.map((s) => s.rssKiB);
    const h = Math.max(1, Math.floor(rssOv.length / 2));
    const grow2 = (mean(rssOv.slice(-Math.max(1, Math.floor(rssOv.length / 4)))) - mean(rssOv.slice(Math.floor(h / 2), h))) / 1024;
    console.log(`soak: overload ${OVERLOAD_S} s at 100 kHz: ${ov.msgs} messages, ${ov.scans} scans, ${ov.overruns} with overrun; device dropped ${dropped}; RSS (MiB) before ${(before.rssKiB / 1024).toFixed(1)}, max ${(Math.max(...rssOv) / 1024).toFixed(1)}, end ${(rssOv[rssOv.length - 1] / 1024).toFixed(1)}; stall max ${Math.round(stall2)} ms`);
    const ovProblems: string[] = [];
    if (ov.msgs === 0) ovProblems.push('no message during the overload');
    if (dropped > 0 && ov.overruns === 0) ovProblems.push(`the device dropped ${dropped} scans but no message reported an overrun`);
    if (dropped === 0 && ov.overruns > 0) ovProblems.push(`${ov.overruns} overruns reported but the device dropped nothing`);
    if (grow2 > 32) ovProblems.push(`RSS grew ${grow2.toFixed(1)} MiB during the overload`);
    if (stall2 > STALL_BOUND_MS) ovProblems.push(`Node-RED's event loop stalled ${Math.round(stall2)} ms during the overload (bound ${STALL_BOUND_MS} ms)`);
    if (left.length) ovProblems.push(`after the overload: ${left.join('; ')}`);
    problems.push(...ovProblems);
    rows.push(`| soak ${OVERLOAD_S} s overload (real Node-RED) | ${ov.msgs} | ${exited ? 1 : 0} | ${left.length + (grow2 > 32 ? 1 : 0)} | ${Math.round(stall2)} ms | ${ovProblems.length === 0 && !exited ? 'pass' : 'FAIL'} |`);
  } catch (err) {
    problems.push(`soak aborted: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    if (exited) problems.push(exited);
    red.kill('SIGINT');
    await new Promise((r) => (red.exitCode !== null || red.signalCode !== null ? r(null) : red.once('exit', r)));
  }
  console.log(`\nsoak, IIO_SEED=${SEED}\n\n| test | attempts | crashes | leaks | stall max | result |\n|---|---:|---:|---:|---:|---|\n${rows.join('\n')}\n`);
  if (problems.length) console.log(`soak problems:\n  ${problems.join('\n  ')}`);
  return problems.length ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
