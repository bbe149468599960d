// Where event latency goes: emu-thermo threshold crossings 40 ms apart (as in table.ts), timed at
// each stage from the event's kernel timestamp (CLOCK_MONOTONIC): the C reader; plain Node fs.read
// on the event fd (blocking, thread pool); the core's EventStream (woken: its read on the event loop
// arrived, or the reactor's poll settled → handler); and the iio-event node (woken → node.send →
// the next node's input). Run in the VM:
//   bash harness/vm.sh -- node dist/test/bench/event-stages.js
import * as fs from 'fs';
import { PerformanceObserver, performance } from 'perf_hooks';
import { IioContext } from '../../src/context';
import type { Device } from '../../src/device';
import { EventStream } from '../../src/events';
import { kernel, useBackend } from '../../src/local-backend';
import { IIO_GET_EVENT_FD_IOCTL, encodeInt, decodeInt } from '../../src/uapi';
import { crossings, latencyC, loadPlain, nowNs, percentile, withEventBench } from './table';

const REPS = Number(process.env.IIO_BENCH_REPS || 2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// When the core last woke for an event fd: its loop read arrived (event fds are read on the event
// loop where the backend can), or the reactor's poll settled.
let pollSettled = 0n;
/** When the reactor last asked for a poll, and when that call handed back its promise. */
let pollAsked = 0n;
let pollSubmitted = 0n;
const local = kernel();
useBackend({ ...local, poll: async (fds, count, timeout) => {
  pollAsked = nowNs();
  const p = local.poll(fds, count, timeout);
  pollSubmitted = nowNs();
  const r = await p;
  pollSettled = nowNs();
  return r;
}, ...(local.readOnLoop && { readOnLoop: (fd, sink, site) => local.readOnLoop!(fd, { target: sink.target, onRead: (n) => { pollSettled = nowNs(); sink.onRead(n); }, onError: sink.onError }, site) }) });

type Stages = Record<string, number[]>;

// Garbage collections, on the hrtime clock: the slow outliers are checked against them.
const hrAtPerfZero = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
const gcs: Array<{ start: bigint; end: bigint; kind: number }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const start = hrAtPerfZero + BigInt(Math.round(e.startTime * 1e6));
    gcs.push({ start, end: start + BigInt(Math.round(e.duration * 1e6)), kind: (e as any).detail?.kind ?? 0 });
  }
}).observe({ entryTypes: ['gc'] });
/** The slowest node messages: kernel timestamp, arrival, and the GC time that overlapped them. */
const slowest: Array<{ ts: bigint; at: bigint; gcMs: number }> = [];
const add = (s: Stages, k: string, ns: bigint | number) => (s[k] ??= []).push(Number(ns));

async function plainNode(thermo: Device, s: Stages): Promise<void> {
  const dev = fs.openSync(thermo.devPath, 'r');
  const arg = encodeInt(0);
  local.ioctl(dev, IIO_GET_EVENT_FD_IOCTL, arg);
  const fd = decodeInt(arg); // blocking: fs.read waits on the thread pool
  const buf = Buffer.alloc(16 * 16);
  let stopping = false;
  let pending: Promise<void> = Promise.resolve();
  const next = () => {
    pending = new Promise<void>((resolve) => fs.read(fd, buf, 0, buf.length, null, (err, n) => {
      const t = nowNs();
      if (!err) for (let o = 0; o + 16 <= n; o += 16) add(s, 'plain fs.read: total', t - buf.readBigInt64LE(o + 8));
      if (!err && !stopping) next();
      resolve();
    }));
  };
  next();
  await sleep(100);
  await crossings(thermo, Number(process.env.IIO_BENCH_EVENTS || 100));
  stopping = true;
  await crossings(thermo, 1); // releases the read still waiting
  await pending;
  fs.closeSync(fd);
  fs.closeSync(dev);
}

async function core(thermo: Device, s: Stages): Promise<void> {
  const es = new EventStream(thermo, { onEvents: (evs) => {
    const t = nowNs();
    for (const e of evs) {
      add(s, 'EventStream: kernel -> woken', pollSettled - e.timestamp);
      add(s, 'EventStream: woken -> onEvents', t - pollSettled);
      add(s, 'EventStream: total', t - e.timestamp);
    }
  }, onError: (e) => console.error(e.message) });
  es.start();
  try {
    await sleep(100);
    await crossings(thermo, Number(process.env.IIO_BENCH_EVENTS || 100));
    await sleep(200);
  } finally {
    await es.close();
  }
}

async function node(helper: any, allNodes: unknown[], s: Stages): Promise<void> {
  await loadPlain(helper, allNodes, [
    { id: 's-thermo', type: 'iio-device', deviceName: 'emu-thermo' },
    { id: 's-ev', type: 'iio-event', device: 's-thermo', channel: '', eventType: '', direction: '', configure: false, wires: [['s-out']] },
    { id: 's-out', type: 'helper' },
  ]);
  const ev = helper.getNode('s-ev');
  const send = ev.send.bind(ev);
  const status = ev.status.bind(ev);
  let sentAt = 0n;
  let polled = 0n;
  let checkPhase = 0n;
  ev.send = (m: unknown) => {
    sentAt = nowNs();
    polled = pollSettled;
    setImmediate(() => (checkPhase = nowNs())); // queued just before Node-RED's delivery
    send(m);
  };
  ev.status = (st: unknown) => {
    const t0 = nowNs();
    status(st);
    if (sentAt) add(s, 'node: status() call', nowNs() - t0);
  };
  helper.getNode('s-out').on('input', (m: any) => {
    const t = nowNs();
    const ts = BigInt(m.payload.timestamp);
    add(s, 'node: kernel -> woken', polled - ts);
    add(s, 'node: woken -> send', sentAt - polled);
    add(s, 'node: send -> next node input', t - sentAt);
    add(s, 'node: send -> check phase', checkPhase - sentAt);
    add(s, 'node: check phase -> next node input', t - checkPhase);
    if (pollAsked > sentAt) add(s, 'node: send -> next poll asked', pollAsked - sentAt);
    if (pollAsked > sentAt) add(s, 'node: next poll asked -> submitted', pollSubmitted - pollAsked);
    add(s, 'node: total', t - ts);
    slowest.push({ ts, at: t, gcMs: 0 });
  });
  try {
    await sleep(500);
    await crossings(new IioContext().findDevice({ name: 'emu-thermo' }), Number(process.env.IIO_BENCH_EVENTS || 100));
    await sleep(200);
  } finally {
    await helper.unload();
  }
}

async function main(): Promise<void> {
  const thermo = new IioContext().findDevice({ name: 'emu-thermo' });
  const s: Stages = {};
  await withEventBench(thermo, async (helper, allNodes) => {
    for (let rep = 0; rep < REPS; rep++) {
      console.log(`repetition ${rep + 1}/${REPS}`);
      for (const ns of await latencyC(thermo)) add(s, 'C reader: total', ns);
      await plainNode(thermo, s);
      await core(thermo, s);
      await node(helper, allNodes, s);
    }
  });
  const ms = (ns: number) => (ns / 1e6).toFixed(2);
  for (const e of slowest) for (const g of gcs) if (g.end > e.ts && g.start < e.at) e.gcMs += Number((g.end < e.at ? g.end : e.at) - (g.start > e.ts ? g.start : e.ts)) / 1e6;
  slowest.sort((a, b) => Number(b.at - b.ts - (a.at - a.ts)));
  console.log(`GCs: ${gcs.length}, ${ms(gcs.reduce((x, g) => x + Number(g.end - g.start), 0))} ms in all`);
  console.log(`slowest node messages (ms, GC ms within): ${slowest.slice(0, 6).map((e) => `${ms(Number(e.at - e.ts))} (${e.gcMs.toFixed(2)})`).join(', ')}`);
  console.log(`\nEvent latency by stage (${process.arch}; ms)`);
  console.log('| stage | n | p50 | p90 | p99 |');
  console.log('|---|---|---|---|---|');
  for (const [k, xs] of Object.entries(s)) console.log(`| ${k} | ${xs.length} | ${ms(percentile(xs, 50))} | ${ms(percentile(xs, 90))} | ${ms(percentile(xs, 99))} |`);
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
