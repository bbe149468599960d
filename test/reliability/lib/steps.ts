// Shared pieces of the scenario tests: flows, waiting for a node to deliver, and asserting the
// per-step invariants with a deadline (a node needs a moment to notice what happened).
import * as fs from 'fs';
import * as path from 'path';
import { ctx, violations, Owner } from './invariants';
import { helper, statusText, eventually, Msg, finished } from './red';

export const ADC = { id: 'dev-adc', type: 'iio-device', deviceName: 'emu-adc' };
export const DAC = { id: 'dev-dac', type: 'iio-device', deviceName: 'emu-dac' };
export const THERMO = { id: 'dev-thermo', type: 'iio-device', deviceName: 'emu-thermo' };
export const CATCH = [{ id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] }, { id: 'n-caught', type: 'helper' }];
/** Triggers this suite creates: scrub() may remove only these. */
export const OUR_TRIGGERS = /^(rel-|sysfstrig[5-9]$)/;

/** How long the invariants may take to hold again after a step (VM time). */
export const SETTLE_MS = 15000;

export const dev = (name: string) => ctx.findDevice({ name });
export const sys = (name: string, attr: string) => fs.readFileSync(path.join(dev(name).sysfsPath, attr), 'utf8').trim();
export const setSys = (name: string, attr: string, v: string | number) => fs.writeFileSync(path.join(dev(name).sysfsPath, attr), String(v));
export const isRunning = (id: string) => /^running/.test(statusText(id));
export const isOutputRunning = (id: string) => /^(streaming|cyclic)/.test(statusText(id));

export function owner(id: string, device: string, buffer: number, output = false): Owner {
  return { id, device, buffer, running: () => (output ? isOutputRunning(id) : isRunning(id)) };
}

/** Messages reaching helper node `id` since the last deploy, counted without keeping them. */
const counts = new Map<string, number>();
const counted = new WeakSet<object>();
export function count(id: string): number {
  return counts.get(id) ?? 0;
}
/** Starts counting at helper node `id` (once per node instance: a redeploy makes a new one). */
export function countInto(id: string): void {
  const node = helper.getNode(id);
  if (!node || counted.has(node)) return;
  counted.add(node);
  counts.set(id, 0);
  node.on('input', () => counts.set(id, (counts.get(id) ?? 0) + 1));
}

/** The invariants, given time to settle; the violations still there at the deadline. */
export async function settled(owners: Owner[], ms = SETTLE_MS): Promise<string[]> {
  await eventually(() => violations(owners).length === 0, ms, 50);
  return violations(owners);
}

/** A node that says "running" must deliver: waits for `more` new messages at sink `sink`. */
export async function delivers(sink: string, more = 1, ms = SETTLE_MS): Promise<boolean> {
  const from = count(sink);
  return eventually(() => count(sink) >= from + more, ms, 20);
}

/** Sends `payloads` to node `id` in one burst and waits for all their done()s. */
export async function send(id: string, ...payloads: unknown[]): Promise<boolean> {
  const msgs = payloads.map((payload) => ({ payload }));
  for (const m of msgs) helper.getNode(id).receive(m);
  return eventually(() => msgs.every((m) => finished.has(m)), 30000);
}

export function inNode(id: string, trigger: string, extra: Msg = {}): Msg {
  return { id, type: 'iio-in', device: 'dev-adc', channels: ['voltage1'], buffer: 0, trigger, samples: 10, output: 'arrays', timestamps: false, autoStart: true, wires: [[`${id}-sink`]], ...extra };
}
export function sinkOf(id: string): Msg {
  return { id: `${id}-sink`, type: 'helper' };
}
