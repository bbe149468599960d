// Drives one fuzz target: deploy, send hostile messages in bursts, wait for every done(), check
// the invariants now and then, stop, unload, and gather what went wrong (never asserting inside
// a callback: everything is collected, then asserted by the test).
import { Rng } from './seed';
import { StallMonitor, STALL_BOUND_MS } from './stall';
import { Row, crashCount, crashesSince } from './report';
import { violations, baseline, unloadLeftovers, Owner } from './invariants';
import { load, helper, finished, errors, codeOf, describeErr, eventually, Msg, ErrorRecord } from './red';

export interface Send {
  id: string;
  msg: Msg;
}

export interface FuzzTarget {
  flow: Msg[];
  owners: Owner[];
  /** One burst: messages sent without waiting in between. */
  burst(rng: Rng, i: number): Send[];
  /** Waits for the deployed nodes to settle (e.g. autoStart) before fuzzing. */
  ready?(): Promise<void>;
  /** After the messages, before unload: bring the nodes to rest (e.g. "stop"); returns problems. */
  finish?(): Promise<string[]>;
}

export interface FuzzResult {
  problems: string[];
  /** Every error that reached done(err), by code. */
  codes: Record<string, number>;
  errors: ErrorRecord[];
}

/** How long one batch may take to finish (VM); past it the messages count as never done. */
const BURST_DEADLINE_MS = 30000;
const BATCH = 8;

export async function fuzz(r: Row, rng: Rng, count: number, target: FuzzTarget): Promise<FuzzResult> {
  const problems: string[] = [];
  const base = baseline();
  const crash0 = crashCount();
  const err0 = errors.length;
  await load(target.flow);
  await target.ready?.();
  const mon = new StallMonitor().start();
  const t0 = Date.now();
  let sent = 0;
  let bursts = 0;
  let undone = 0;
  while (sent < count) {
    // Bursts go out in batches of about BATCH messages before waiting: independent messages
    // arrive together in a real flow too, and waiting after each one would only measure timers.
    const burst: Send[] = [];
    while (burst.length < BATCH && sent + burst.length < count) burst.push(...target.burst(rng, sent + burst.length));
    for (const s of burst) {
      const node = helper.getNode(s.id);
      if (!node) {
        problems.push(`node ${s.id} is gone`);
        continue;
      }
      node.receive(s.msg);
    }
    sent += burst.length;
    // After three messages that never finished, stop waiting long for more of them.
    const ok = await eventually(() => burst.every((s) => finished.has(s.msg)), undone >= 3 ? 500 : BURST_DEADLINE_MS, 2);
    if (!ok) {
      for (const s of burst) if (!finished.has(s.msg)) {
        undone++;
        if (undone <= 5) problems.push(`message ${sent} to ${s.id} never finished (no done()): payload ${show(s.msg.payload)}`);
      }
    }
    if (++bursts % 10 === 0) for (const v of violations(target.owners)) problems.push(`after ${sent} messages: ${v}`);
    if (Math.floor(sent / 500) > Math.floor((sent - burst.length) / 500)) progress(`${sent} messages, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  r.attempts += sent;
  progress(`${sent} messages in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (target.finish) problems.push(...(await target.finish()));
  const stall = await mon.stop();
  r.stallMaxMs = Math.max(r.stallMaxMs ?? 0, stall);
  for (const v of violations(target.owners)) problems.push(`at the end: ${v}`);
  problems.push(...(await unloadLeftovers(r, base)));

  const mine = errors.slice(err0);
  const codes: Record<string, number> = {};
  for (const e of mine) {
    const code = codeOf(e.err);
    if (e.viaDone) codes[code ?? 'NO CODE'] = (codes[code ?? 'NO CODE'] ?? 0) + 1;
    if (code === null && (e.viaDone || e.err instanceof Error)) problems.push(`${e.id}: ${e.viaDone ? 'done(err)' : 'node.error'} without an errno code: ${describeErr(e.err)}`);
  }
  const crashes = crashesSince(crash0);
  problems.push(...crashes.map((c) => `crash: ${describeErr(c)}`));
  if (stall > STALL_BOUND_MS) problems.push(`event loop stalled ${Math.round(stall)} ms (bound ${STALL_BOUND_MS} ms)`);
  if (undone > 5) problems.push(`… ${undone} messages never finished in all`);
  return { problems: dedupe(problems), codes, errors: mine };
}

/** A progress line (VM runs are long; this shows where one is). */
export function progress(text: string): void {
  process.stderr.write(`        … ${text}\n`);
}

export function show(v: unknown): string {
  if (Buffer.isBuffer(v)) return `Buffer(${v.length})`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'symbol' || typeof v === 'function') return String(v).slice(0, 40);
  if (v && typeof v === 'object') return `${v.constructor?.name ?? 'Object'}`;
  return String(v);
}

/** Same problem text once, with a count. */
function dedupe(list: string[]): string[] {
  const seen = new Map<string, number>();
  for (const p of list) seen.set(p, (seen.get(p) ?? 0) + 1);
  return [...seen].map(([p, n]) => (n > 1 ? `${p} (×${n})` : p));
}
