// The benchmark table of `npm run bench`: our data path beside its C yardsticks, measured in one
// run, alternating ours and the reference, three repetitions, median. Run in the VM or on a board
// with the emulator loaded; the absolute numbers under QEMU TCG are ~16x lower than on hardware,
// the ratios are what counts.
//
//  - capture: emu-adc free-running mode 2 (as fast as the reader takes it), all channels +
//    timestamp (40-byte scans), kernel buffer = 4 blocks; ours (CaptureStream / DmabufCapture)
//    against `iio_readdev -b SCANS -s 0 emu-adc` (libiio-utils), whose bytes and CPU come from
//    /proc/PID/io and /proc/PID/stat over the same window; DMABUF also against a minimal C reader of
//    the same blocks (harness/bench/iio_dmabuf_capture), the ceiling of DMABUF in this harness.
//  - output: emu-dac free-running, DmabufOutput against OutputStream (write()), 64 KiB blocks.
//  - events: emu-thermo threshold crossings 40 ms apart on CLOCK_MONOTONIC; latency from the
//    event's kernel timestamp to the message, for the iio-event node (in a Node-RED runtime; the test helper's spies off), the
//    core's EventStream, and a minimal C reader (harness/bench/iio_event_latency).
//  - remote: emu-adc free-running mode 2 served by Debian's iiod on ip:127.0.0.1, 64 KiB blocks;
//    our RemoteCapture (pipelined READBUF, and one READBUF at a time) against
//    `iio_readdev -u ip:127.0.0.1 -b SCANS -s 0 emu-adc`, whose bytes are its writes to /dev/null
//    (/proc/PID/io wchar). iiod's own CPU is in neither column.
//  - soak: read() capture with the decoded payload for IIO_BENCH_SOAK_S seconds: RSS and CPU per MiB
//    in the first and in the last minute.
//
// Environment (IIO_* passes into the VM): IIO_BENCH_SECONDS (window per cell, default 3), IIO_BENCH_REPS (default 3), IIO_BENCH_EVENTS
// (crossings per run, default 100), IIO_BENCH_SOAK_S (default 120; 600 for the 10-minute check),
// IIO_BENCH_ONLY (comma-separated: capture,output,events,remote,soak).
import * as fs from 'fs';
import * as path from 'path';
import { execFile, spawn, ChildProcess } from 'child_process';
import { promisify } from 'util';
import { CaptureStream, CapturedBlock, OutputStream } from '../../src/buffer';
import { IioContext } from '../../src/context';
import type { Device } from '../../src/device';
import { DmabufCapture, DmabufOutput } from '../../src/dmabuf';
import { openInput } from '../../src/transport';
import { EventStream } from '../../src/events';
import { ScanDecoder } from '../../src/scan';

import { toArrays } from '../../nodes/lib/payload';
import { RemoteContext } from '../../src/iiod/client';

const SECONDS = Number(process.env.IIO_BENCH_SECONDS || 3);
const REPS = Number(process.env.IIO_BENCH_REPS || 3);
const EVENTS = Number(process.env.IIO_BENCH_EVENTS || 100);
const SOAK_S = Number(process.env.IIO_BENCH_SOAK_S || 120);
const ONLY = (process.env.IIO_BENCH_ONLY || 'capture,output,events,remote,soak').split(',');
const WARMUP_MS = 500;
/** Unrecorded passes over our capture cells before the repetitions (IIO_BENCH_WARMUP_PASSES). */
const WARMUP_PASSES = Number(process.env.IIO_BENCH_WARMUP_PASSES ?? 2);
const MiB = 1048576;
const root = path.join(__dirname, '../../..');
const C_EVENT_READER = path.join(root, 'harness/bench/iio_event_latency');
const C_DMABUF_READER = path.join(root, 'harness/bench/iio_dmabuf_capture');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

interface Rate {
  mibs: number;
  /** CPU time (user + system) per MiB, ms. */
  cpuMsPerMiB: number;
}

function cpuMsOf(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
}

function rcharOf(pid: number): number {
  return Number(/rchar:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

function wcharOf(pid: number): number {
  return Number(/wchar:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Bytes counted by `count()` and our CPU over one window after a warm-up. */
async function window(count: () => number): Promise<Rate> {
  await sleep(WARMUP_MS);
  const b0 = count();
  const c0 = selfCpuMs();
  const t0 = process.hrtime.bigint();
  await sleep(SECONDS * 1000);
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = selfCpuMs() - c0;
  const mib = (count() - b0) / MiB;
  return { mibs: mib / dt, cpuMsPerMiB: mib > 0 ? cpu / mib : NaN };
}

type CaptureKind = 'read raw' | 'read arrays' | 'read arrays + strings' | 'dmabuf zero-copy';

/** Ours: the capture as iio-in runs it (raw: a copied payload; arrays: decoded into typed arrays). */
export async function ours(adc: Device, kind: CaptureKind, scansPerBlock: number): Promise<Rate> {
  let bytes = 0;
  let held: unknown = null;
  let decoder: ScanDecoder | null = null;
  const onError = (e: Error) => console.error(`${kind}: ${e.message}`);
  const onBlock = (b: CapturedBlock) => {
    bytes += b.data.length;
    held = decoder ? toArrays(decoder.decode(b.data, b.scans)) : b.data; // what a message would carry
    if (kind === 'read arrays + strings') void (held as { timestamp: unknown }).timestamp; // a flow that reads them
  };
  let stream: { close(): Promise<void>; layout: CaptureStream['layout'] };
  if (kind === 'dmabuf zero-copy') {
    const s = new DmabufCapture(adc, { index: 1, scansPerBlock, blocks: 4, payload: 'zerocopy', onBlock, onError });
    s.start();
    stream = s;
  } else {
    const started = openInput(adc, { index: 0, scansPerBlock, length: 4 * scansPerBlock, payload: kind === 'read raw' ? 'copy' : 'borrow', onBlock, onError }, 'read');
    stream = started.stream;
    if (kind !== 'read raw') decoder = new ScanDecoder(stream.layout);
  }
  try {
    return await window(() => bytes);
  } finally {
    await stream.close();
    void held;
  }
}

/**
 * The reference: iio_readdev reading the same buffer, its output thrown away. Locally its bytes are
 * what it read (rchar); over iiod (`uri`) what it wrote (wchar): socket reads are not counted.
 */
export async function iioReaddev(scansPerBlock: number, uri?: string): Promise<Rate> {
  const args = [...(uri ? ['-u', uri] : []), '-b', String(scansPerBlock), '-s', '0', 'emu-adc'];
  const child = spawn('iio_readdev', args, { stdio: ['ignore', fs.openSync('/dev/null', 'w'), 'pipe'] });
  const bytesOf = uri ? wcharOf : rcharOf;
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await sleep(WARMUP_MS + 700); // its start-up scans the whole context
    if (child.exitCode !== null) throw new Error(`iio_readdev exited: ${err}`);
    const pid = child.pid!;
    const b0 = bytesOf(pid);
    const c0 = cpuMsOf(pid);
    const t0 = process.hrtime.bigint();
    await sleep(SECONDS * 1000);
    const b1 = bytesOf(pid);
    const c1 = cpuMsOf(pid);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    const mib = (b1 - b0) / MiB;
    return { mibs: mib / dt, cpuMsPerMiB: mib > 0 ? (c1 - c0) / mib : NaN };
  } finally {
    child.kill('SIGINT'); // it disables the buffer on the way out
    await exited;
  }
}

/** The DMABUF ceiling: the C reader sets buffer1 up as DmabufCapture does, warms up 0.5 s, counts SECONDS. */
async function cDmabuf(adc: Device, blockBytes: number, blocks: number): Promise<Rate> {
  const args = [adc.sysfsPath, String(SECONDS), String(blockBytes), String(blocks)];
  const { stdout } = await promisify(execFile)(C_DMABUF_READER, args, { timeout: (SECONDS + 30) * 1000 });
  const r = JSON.parse(stdout) as { bytes: number; seconds: number; cpu_ms: number };
  const mib = r.bytes / MiB;
  return { mibs: mib / r.seconds, cpuMsPerMiB: mib > 0 ? r.cpu_ms / mib : NaN };
}

function medianRate(rs: Rate[]): Rate {
  return { mibs: median(rs.map((r) => r.mibs)), cpuMsPerMiB: median(rs.map((r) => r.cpuMsPerMiB)) };
}

const table: string[][] = [['measure', 'ours', 'reference', 'ours / reference', 'goal', 'met']];
/** `met` null: a row for information, no goal. */
function row(measure: string, ours: string, ref: string, ratio: number, goal: string, met: boolean | null): void {
  table.push([measure, ours, ref, Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-', goal, met === null ? '—' : met ? 'yes' : 'NO']);
  console.log(`  ${measure}: ${ours} | ${ref} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : '-'}`);
}
const fmtRate = (r: Rate) => `${r.mibs.toFixed(2)} MiB/s, ${r.cpuMsPerMiB.toFixed(0)} ms CPU/MiB`;

/** Runs `body` with emu-adc free-running in mode 2 (as fast as the reader takes it), no trigger. */
async function freeRunning(adc: Device, body: () => Promise<void>): Promise<void> {
  const fr = path.join(adc.sysfsPath, 'emu_free_running');
  adc.writeCurrentTrigger('');
  fs.writeFileSync(fr, '2');
  try {
    await body();
  } finally {
    fs.writeFileSync(fr, '0');
  }
}

async function captureRows(adc: Device): Promise<void> {
  const scanBytes = 40;
  const at4k = Math.floor(4096 / scanBytes);
  const at64k = Math.floor(65536 / scanBytes);
  const runs: Record<string, Rate[]> = {};
  const add = (k: string, r: Rate) => (runs[k] ??= []).push(r);
  const withC = fs.existsSync(C_DMABUF_READER);
  if (!withC) console.error(`capture: DMABUF C reader skipped, no ${C_DMABUF_READER} (make -C harness/bench)`);
  await freeRunning(adc, async () => {
    // Unrecorded passes first: under TCG V8 needs some 15–20 s of capture before the data path runs
    // as optimized code (the first repetitions were 0.4x where the later ones were 0.8x), and a
    // gateway runs for months; iio_readdev, compiled C, has nothing to warm up.
    for (let pass = 0; pass < WARMUP_PASSES; pass++) {
      console.log(`capture, warm-up pass ${pass + 1}/${WARMUP_PASSES} (not recorded)`);
      for (const [kind, spb] of [['read raw', at4k], ['read raw', at64k], ['read arrays', at64k], ['dmabuf zero-copy', at64k]] as const) await ours(adc, kind, spb);
    }
    for (let rep = 0; rep < REPS; rep++) {
      console.log(`capture, repetition ${rep + 1}/${REPS}`);
      add('readdev 4k', await iioReaddev(at4k));
      add('raw 4k', await ours(adc, 'read raw', at4k));
      add('readdev 64k', await iioReaddev(at64k));
      add('raw 64k', await ours(adc, 'read raw', at64k));
      add('arrays 64k', await ours(adc, 'read arrays', at64k));
      add('arrays+strings 64k', await ours(adc, 'read arrays + strings', at64k));
      add('dmabuf 64k', await ours(adc, 'dmabuf zero-copy', at64k));
      if (withC) add('C dmabuf 64k', await cDmabuf(adc, at64k * scanBytes, 4));
    }
  });
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianRate(v)]));
  const ref4 = m['readdev 4k'];
  const ref64 = m['readdev 64k'];
  for (const [label, r, ref] of [['4 KiB', m['raw 4k'], ref4], ['64 KiB', m['raw 64k'], ref64]] as const) {
    row(`read() capture, raw payload, ${label}: throughput`, fmtRate(r), `iio_readdev ${fmtRate(ref)}`, r.mibs / ref.mibs, '>= 0.9x', r.mibs / ref.mibs >= 0.9);
    row(`read() capture, raw payload, ${label}: CPU per MiB`, `${r.cpuMsPerMiB.toFixed(0)} ms`, `iio_readdev ${ref.cpuMsPerMiB.toFixed(0)} ms`, r.cpuMsPerMiB / ref.cpuMsPerMiB, '<= 1.5x', r.cpuMsPerMiB / ref.cpuMsPerMiB <= 1.5);
  }
  const a = m['arrays 64k'];
  row('read() capture, decoded arrays payload (timestamp strings built when read), 64 KiB', fmtRate(a), `iio_readdev ${fmtRate(ref64)}`, a.mibs / ref64.mibs, '>= 0.7x', a.mibs / ref64.mibs >= 0.7);
  const as = m['arrays+strings 64k'];
  row('  the same, the flow reading msg.payload.timestamp (a string per scan)', fmtRate(as), `iio_readdev ${fmtRate(ref64)}`, as.mibs / ref64.mibs, '(for information)', null);
  const d = m['dmabuf 64k'];
  row('DMABUF zero-copy capture, 64 KiB', fmtRate(d), `iio_readdev ${fmtRate(ref64)}`, d.mibs / ref64.mibs, '>= 4x', d.mibs / ref64.mibs >= 4);
  row('DMABUF zero-copy capture, 64 KiB, vs our read()', fmtRate(d), `our read() ${fmtRate(m['raw 64k'])}`, d.mibs / m['raw 64k'].mibs, '>= 4x', d.mibs / m['raw 64k'].mibs >= 4);
  const c = m['C dmabuf 64k'];
  if (c) {
    row('DMABUF capture, 64 KiB, minimal C reader (ceiling of this harness)', fmtRate(c), `iio_readdev ${fmtRate(ref64)}`, c.mibs / ref64.mibs, '(for information)', null);
    row('DMABUF zero-copy capture, 64 KiB, vs the C reader', fmtRate(d), `C reader ${fmtRate(c)}`, d.mibs / c.mibs, '(for information)', null);
  }
}

/** Streams one pre-encoded 64 KiB block to emu-dac as fast as it is taken. */
async function output(dac: Device, kind: 'write()' | 'DMABUF'): Promise<Rate> {
  const scansPerBlock = 16384; // 2 × s16 = 4-byte scans
  const data = Buffer.alloc(scansPerBlock * 4);
  for (let i = 0; i < data.length; i += 2) data.writeInt16LE(((i * 7) % 65536) - 32768, i);
  const onError = (e: Error) => console.error(`output ${kind}: ${e.message}`);
  const onDrain = () => fill();
  const s: DmabufOutput | OutputStream =
    kind === 'DMABUF'
      ? new DmabufOutput(dac, { index: 1, scansPerBlock, blocks: 4, onError, onDrain })
      : new OutputStream(dac, { index: 0, scansPerBlock, length: 4 * scansPerBlock, queueLimit: 2, onError, onDrain });
  const fill = () => {
    while (s.running && s.write(data));
  };
  s.start();
  fill();
  try {
    return await window(() => s.written);
  } finally {
    await s.close();
  }
}

async function outputRows(dac: Device): Promise<void> {
  const fr = path.join(dac.sysfsPath, 'emu_free_running');
  dac.writeCurrentTrigger('');
  fs.writeFileSync(fr, '1');
  const w: Rate[] = [];
  const d: Rate[] = [];
  try {
    for (let rep = 0; rep < REPS; rep++) {
      console.log(`output, repetition ${rep + 1}/${REPS}`);
      w.push(await output(dac, 'write()'));
      d.push(await output(dac, 'DMABUF'));
    }
  } finally {
    fs.writeFileSync(fr, '0');
  }
  const mw = medianRate(w);
  const md = medianRate(d);
  row('DMABUF output to emu-dac, 64 KiB, vs our write()', fmtRate(md), `our write() ${fmtRate(mw)}`, md.mibs / mw.mibs, '>= 4x', md.mibs / mw.mibs >= 4);
}

// ---------------------------------------------------------------------------
// Events

const TEMPS = [50000, 20000]; // each write crosses one threshold (rising at 45 °C, falling at 35 °C)

/** Makes `n` crossings 40 ms apart; `ready` resolves when the reader is listening. */
export async function crossings(thermo: Device, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    fs.writeFileSync(path.join(thermo.sysfsPath, 'emu_temp_mC'), String(TEMPS[i % 2]));
    await sleep(40);
  }
}

export const nowNs = () => process.hrtime.bigint(); // CLOCK_MONOTONIC

export async function latencyCore(thermo: Device): Promise<number[]> {
  const lat: number[] = [];
  const s = new EventStream(thermo, { onEvents: (evs) => { const t = nowNs(); for (const e of evs) lat.push(Number(t - e.timestamp)); }, onError: (e) => console.error(`events: ${e.message}`) });
  s.start();
  try {
    await sleep(100);
    await crossings(thermo, EVENTS);
    await sleep(200);
  } finally {
    await s.close();
  }
  return lat;
}

export async function latencyC(thermo: Device): Promise<number[]> {
  const child: ChildProcess = spawn(C_EVENT_READER, [thermo.devPath, String(EVENTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const t0 = Date.now();
  while (!out.startsWith('ready')) {
    if (child.exitCode !== null || Date.now() - t0 > 10000) throw new Error('the C event reader did not start');
    await sleep(10);
  }
  await crossings(thermo, EVENTS);
  const t1 = Date.now();
  while (child.exitCode === null && Date.now() - t1 < 2000) await sleep(20);
  if (child.exitCode === null) child.kill();
  await exited;
  return out.split('\n').slice(1).filter((l) => /^-?\d+$/.test(l)).map(Number);
}

/**
 * Loads `flow` into the test helper's runtime and takes the helper's instrumentation off again:
 * it wraps every node's send() and status() in a sinon spy that records each call and emits an
 * event for it on the next tick, which a Node-RED runtime does not do (it doubled Node-RED's own
 * send-to-input time on the host).
 */
export async function loadPlain(helper: any, allNodes: unknown[], flow: unknown[]): Promise<void> {
  await helper.load(allNodes, flow);
  helper._sandbox.restore();
}

/** The iio-event node in a Node-RED runtime (node-red-node-test-helper, spies off), timed at its output. */
export async function latencyNode(helper: any, allNodes: unknown[]): Promise<number[]> {
  const lat: number[] = [];
  await loadPlain(helper, allNodes, [
    { id: 'b-thermo', type: 'iio-device', deviceName: 'emu-thermo' },
    { id: 'b-ev', type: 'iio-event', device: 'b-thermo', channel: '', eventType: '', direction: '', configure: false, wires: [['b-out']] },
    { id: 'b-out', type: 'helper' },
  ]);
  helper.getNode('b-out').on('input', (m: any) => lat.push(Number(nowNs() - BigInt(m.payload.timestamp))));
  try {
    await sleep(500);
    await crossings(new IioContext().findDevice({ name: 'emu-thermo' }), EVENTS);
    await sleep(200);
  } finally {
    await helper.unload();
  }
  return lat;
}

/**
 * Runs `body` with a Node-RED test runtime holding our iio-device and iio-event nodes, and
 * emu-thermo's threshold events enabled and stamped on CLOCK_MONOTONIC; puts them back after.
 */
export async function withEventBench<T>(thermo: Device, body: (helper: any, allNodes: unknown[]) => Promise<T>): Promise<T> {
  const sys = (a: string, v: string | number) => fs.writeFileSync(path.join(thermo.sysfsPath, a), String(v));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require('node-red-node-test-helper');
  helper.init(require.resolve('node-red'));
  const allNodes = ['iio-device', 'iio-event'].map((n) => require(path.join(root, 'dist/nodes', n)).default);
  await new Promise<void>((r) => helper.startServer(r));
  sys('current_timestamp_clock', 'monotonic');
  sys('emu_temp_mC', 25000);
  sys('events/in_temp_thresh_rising_en', 1);
  sys('events/in_temp_thresh_falling_en', 1);
  try {
    return await body(helper, allNodes);
  } finally {
    sys('events/in_temp_thresh_rising_en', 0);
    sys('events/in_temp_thresh_falling_en', 0);
    sys('current_timestamp_clock', 'realtime');
    sys('emu_temp_mC', 25000);
    await new Promise<void>((r) => helper.stopServer(r));
  }
}

async function eventRows(thermo: Device): Promise<void> {
  const all: Record<string, number[]> = { c: [], core: [], node: [] };
  await withEventBench(thermo, async (helper, allNodes) => {
    for (let rep = 0; rep < REPS; rep++) {
      console.log(`events, repetition ${rep + 1}/${REPS}`);
      all.c.push(...(await latencyC(thermo)));
      all.core.push(...(await latencyCore(thermo)));
      all.node.push(...(await latencyNode(helper, allNodes)));
    }
  });
  const ms = (ns: number) => `${(ns / 1e6).toFixed(2)} ms`;
  const stat = (xs: number[]) => `p50 ${ms(percentile(xs, 50))}, p99 ${ms(percentile(xs, 99))} (${xs.length} events)`;
  const cP99 = percentile(all.c, 99);
  for (const [label, xs] of [['iio-event node', all.node], ['core EventStream', all.core]] as const) {
    const r = percentile(xs, 99) / cP99;
    row(`event -> message latency, ${label}`, stat(xs), `C reader ${stat(all.c)}`, r, 'p99 <= 3x', r <= 3);
  }
}

// ---------------------------------------------------------------------------
// Soak: cost per block flat in the number of blocks

async function soakRows(adc: Device): Promise<void> {
  const fr = path.join(adc.sysfsPath, 'emu_free_running');
  adc.writeCurrentTrigger('');
  fs.writeFileSync(fr, '2');
  const scansPerBlock = Math.floor(65536 / 40);
  let bytes = 0;
  let held: unknown = null;
  let decoder: ScanDecoder | null = null;
  const started = openInput(adc, { index: 0, scansPerBlock, length: 4 * scansPerBlock, payload: 'borrow', onBlock: (b) => {
    bytes += b.data.length;
    held = toArrays(decoder!.decode(b.data, b.scans));
  }, onError: (e) => console.error(`soak: ${e.message}`) }, 'read');
  decoder = new ScanDecoder(started.stream.layout);
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  const span = Math.min(60, SOAK_S / 2);
  const measure = async (): Promise<{ cpu: number; rss: number; mibs: number }> => {
    const b0 = bytes;
    const c0 = selfCpuMs();
    const t0 = Date.now();
    await sleep(span * 1000);
    const mib = (bytes - b0) / MiB;
    return { cpu: (selfCpuMs() - c0) / mib, rss: rss(), mibs: mib / ((Date.now() - t0) / 1000) };
  };
  try {
    console.log(`soak, ${SOAK_S} s`);
    const first = await measure();
    await sleep(Math.max(0, SOAK_S - 2 * span) * 1000);
    const last = await measure();
    const fmt = (x: typeof first) => `${x.mibs.toFixed(2)} MiB/s, ${x.cpu.toFixed(0)} ms CPU/MiB, RSS ${x.rss.toFixed(1)} MiB`;
    row(`soak ${(SOAK_S / 60).toFixed(0)} min, read() arrays 64 KiB: last minute vs first`, `last: ${fmt(last)}`, `first: ${fmt(first)}`, last.cpu / first.cpu, 'flat (CPU/MiB <= 1.1x, RSS +<= 10 MiB)', last.cpu / first.cpu <= 1.1 && last.rss - first.rss <= 10);
  } finally {
    await started.stream.close();
    fs.writeFileSync(fr, '0');
    void held;
  }
}

/** Ours over iiod: a RemoteCapture of every channel, the blocks counted (as iio-in's raw payload would carry them). */
export async function oursRemote(uri: string, scansPerBlock: number, pipeline: 1 | 2): Promise<Rate> {
  const board = await RemoteContext.connect(uri);
  let bytes = 0;
  try {
    const cap = await board.openInput({ name: 'emu-adc' }, { scansPerBlock, pipeline, onBlock: (b) => (bytes += b.data.length), onError: (e) => console.error(`iiod capture: ${e.message}`) });
    try {
      return await window(() => bytes);
    } finally {
      await cap.close();
    }
  } finally {
    await board.close();
  }
}

/** Runs Debian's iiod on this machine for `body`, then stops it. */
export async function withIiod<T>(body: (uri: string) => Promise<T>): Promise<T> {
  const uri = 'ip:127.0.0.1';
  const daemon = spawn('iiod', [], { stdio: 'ignore' });
  const exited = new Promise((r) => daemon.once('exit', r));
  try {
    const end = Date.now() + 30000;
    for (;;) {
      try {
        await (await RemoteContext.connect(uri, { timeoutMs: 3000 })).close();
        break;
      } catch (err) {
        if (Date.now() > end || daemon.exitCode !== null) throw new Error(`iiod did not come up: ${(err as Error).message}`);
        await sleep(200);
      }
    }
    return await body(uri);
  } finally {
    daemon.kill('SIGTERM');
    await exited;
  }
}

async function remoteRows(adc: Device): Promise<void> {
  const sizes = [['4 KiB', Math.floor(4096 / 40)], ['64 KiB', Math.floor(65536 / 40)]] as const;
  const runs: Record<string, Rate[]> = {};
  const add = (k: string, r: Rate) => (runs[k] ??= []).push(r);
  await freeRunning(adc, () =>
    withIiod(async (uri) => {
      // Unrecorded passes first, as for local capture: the session and framing code runs as
      // optimized code only after some seconds of capture under TCG.
      for (let pass = 0; pass < WARMUP_PASSES; pass++) {
        console.log(`remote capture, warm-up pass ${pass + 1}/${WARMUP_PASSES} (not recorded)`);
        for (const [, scans] of sizes) await oursRemote(uri, scans, 2);
      }
      for (let rep = 0; rep < REPS; rep++) {
        console.log(`remote capture, repetition ${rep + 1}/${REPS}`);
        for (const [size, scans] of sizes) {
          add(`readdev ${size}`, await iioReaddev(scans, uri));
          add(`pipelined ${size}`, await oursRemote(uri, scans, 2));
          add(`one at a time ${size}`, await oursRemote(uri, scans, 1));
        }
      }
    }),
  );
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianRate(v)]));
  for (const [size] of sizes) {
    const ref = m[`readdev ${size}`];
    const r = m[`pipelined ${size}`];
    row(`iiod capture (ip:127.0.0.1), pipelined READBUF (the default), ${size}: throughput`, fmtRate(r), `iio_readdev -u ${fmtRate(ref)}`, r.mibs / ref.mibs, '>= 0.9x', r.mibs / ref.mibs >= 0.9);
    // `pipeline: 1`, for a daemon that must see one command at a time: what pipelining buys.
    const one = m[`one at a time ${size}`];
    row(`  the same, one READBUF at a time (pipeline: 1), ${size}`, fmtRate(one), `iio_readdev -u ${fmtRate(ref)}`, one.mibs / ref.mibs, '(for information)', null);
  }
}

async function main() {
  const ctx = new IioContext();
  const adc = ctx.findDevice({ name: 'emu-adc' });
  if (ONLY.includes('capture')) await captureRows(adc);
  if (ONLY.includes('output')) await outputRows(ctx.findDevice({ name: 'emu-dac' }));
  if (ONLY.includes('events')) {
    if (fs.existsSync(C_EVENT_READER)) await eventRows(ctx.findDevice({ name: 'emu-thermo' }));
    else console.error(`events: skipped, no ${C_EVENT_READER} (make -C harness/bench)`);
  }
  if (ONLY.includes('remote')) await remoteRows(adc);
  if (ONLY.includes('soak')) await soakRows(adc);
  console.log(`\nIIO data path against its C yardsticks (${process.arch}, ${require('os').release()}; median of ${REPS} alternating runs, ${SECONDS} s windows)`);
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(table[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of table.slice(1)) console.log(line(r));
}

if (require.main === module) {
  main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
  });
}
