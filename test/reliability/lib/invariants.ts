// What must hold after every step: devices name only triggers that exist, a buffer is enabled
// only by a node that owns it and says it is running, and a node that says running is.
// After unload: nothing left (fds, mappings, handles, reactor fds, triggers, enabled buffers).
import * as fs from 'fs';
import * as path from 'path';
import { IioContext } from '../../../src/context';
import { DeviceHandle } from '../../../src/device';
import { reactor } from '../../../src/reactor';
import { resources } from '../../lib/hw';
import { unload, eventually } from './red';

export const ctx = new IioContext();

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    return `<${(err as NodeJS.ErrnoException).code}>`;
  }
}

/** A node that may enable a buffer: `running()` is what the node says (its status). */
export interface Owner {
  id: string;
  device: string;
  buffer: number;
  running(): boolean;
}

/** Violations of the per-step invariants; [] when all hold. */
export function violations(owners: Owner[]): string[] {
  const out: string[] = [];
  const triggers = new Set(ctx.triggers().map((t) => t.name));
  for (const d of ctx.devices()) {
    if (d.triggerable) {
      const cur = read(path.join(d.sysfsPath, 'trigger/current_trigger'));
      if (cur !== '' && !triggers.has(cur)) out.push(`${d.name} names trigger "${cur}", which does not exist`);
    }
    for (const b of d.buffers) {
      const on = read(path.join(d.sysfsPath, b.dir, 'enable')) === '1';
      const mine = owners.filter((o) => o.device === d.name && o.buffer === b.index);
      const running = mine.filter((o) => o.running());
      if (on && running.length === 0) out.push(`${d.name} ${b.dir} is enabled but no node owning it is running (${mine.map((o) => o.id).join(', ') || 'no owner'})`);
      if (!on) for (const o of running) out.push(`${o.id} says running but ${d.name} ${b.dir} is disabled`);
      if (running.length > 1) out.push(`${running.map((o) => o.id).join(' and ')} all say running on ${d.name} ${b.dir}`);
    }
  }
  return out;
}

export interface Baseline {
  res: ReturnType<typeof resources>;
  triggers: string[];
}

export function baseline(): Baseline {
  return { res: resources(), triggers: ctx.triggers().map((t) => t.name).sort() };
}

/** What an unload left behind, compared with `base`; [] when clean. */
export function leftovers(base: Baseline): string[] {
  const out: string[] = [];
  const res = resources();
  if (JSON.stringify(res.fds) !== JSON.stringify(base.res.fds)) out.push(`fds: ${JSON.stringify(res.fds)} (before: ${JSON.stringify(base.res.fds)})`);
  if (res.maps !== base.res.maps) out.push(`mappings: ${res.maps} (before: ${base.res.maps})`);
  if (DeviceHandle.openCount() !== 0) out.push(`DeviceHandle.openCount() = ${DeviceHandle.openCount()}`);
  if (reactor.size !== 0) out.push(`reactor.size = ${reactor.size}`);
  const triggers = ctx.triggers().map((t) => t.name).sort();
  if (JSON.stringify(triggers) !== JSON.stringify(base.triggers)) out.push(`triggers: ${JSON.stringify(triggers)} (before: ${JSON.stringify(base.triggers)})`);
  for (const d of ctx.devices()) {
    for (const b of d.buffers) if (read(path.join(d.sysfsPath, b.dir, 'enable')) !== '0') out.push(`${d.name} ${b.dir} left enabled`);
    if (d.triggerable) {
      const cur = read(path.join(d.sysfsPath, 'trigger/current_trigger'));
      if (cur !== '') out.push(`${d.name} left trigger "${cur}" attached`);
    }
  }
  return out;
}

/**
 * Puts the kernel back to a clean state after a failed test, without ever re-enabling anything:
 * buffers off, triggers detached, then our triggers removed (only the ones this suite names).
 */
export function scrub(ourTriggers: RegExp): void {
  for (const d of ctx.devices()) {
    for (const b of d.buffers) {
      try {
        fs.writeFileSync(path.join(d.sysfsPath, b.dir, 'enable'), '0');
      } catch {
        /* already off or gone */
      }
    }
    try {
      if (d.triggerable) fs.writeFileSync(path.join(d.sysfsPath, 'trigger/current_trigger'), '\n');
    } catch {
      /* gone */
    }
  }
  for (const t of ctx.triggers()) {
    if (!ourTriggers.test(t.name)) continue;
    const sysfs = /^sysfstrig(\d+)$/.exec(t.name);
    try {
      if (sysfs) fs.writeFileSync(path.join(ctx.root, 'iio_sysfs_trigger/remove_trigger'), sysfs[1]);
      else fs.rmdirSync(`/sys/kernel/config/iio/triggers/hrtimer/${t.name}`);
    } catch {
      /* not ours to remove after all */
    }
  }
}

/** Unloads the flows, gives the closes time to finish, and returns (and counts) what leaked. */
export async function unloadLeftovers(r: { leaks: number }, base: Baseline): Promise<string[]> {
  await unload();
  await eventually(() => reactor.size === 0, 10000);
  await eventually(() => leftovers(base).length === 0, 8000);
  const left = leftovers(base);
  r.leaks += left.length;
  return left.map((l) => `after unload: ${l}`);
}
