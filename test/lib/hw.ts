// Helpers for the hardware suite: finding our emulated devices and driving their control
// attributes. Used only where the emulator module is loaded (the VM, or a board).
import * as fs from 'fs';
import * as path from 'path';
import { strict as assert } from 'assert';
import { IioContext } from '../../src/context';
import type { Device } from '../../src/device';
import type { CapturedBlock } from '../../src/buffer';
import { ScanDecoder, ScanLayout } from '../../src/scan';
import { createHrtimerTrigger, removeHrtimerTrigger } from '../../src/trigger';
import { emuAdcRaw, EMU_ADC_CHANNELS } from './emu-pattern';

export const ctx = new IioContext();

export function emu(name: 'emu-thermo' | 'emu-adc' | 'emu-dac' | 'emu-mux'): Device {
  return ctx.findDevice({ name });
}

export function readSys(dev: Device, attr: string): string {
  return fs.readFileSync(path.join(dev.sysfsPath, attr), 'utf8').trim();
}

export function writeSys(dev: Device, attr: string, value: string | number): void {
  fs.writeFileSync(path.join(dev.sysfsPath, attr), String(value));
}

export function setTemperature(mC: number): void {
  writeSys(emu('emu-thermo'), 'emu_temp_mC', mC);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check()` is true; rejects with `what` after `ms`. */
export async function waitFor(check: () => boolean, what: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The process's open fds and mappings, for leak checks. */
export function resources(): { fds: string[]; maps: number } {
  const fds = fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return 'gone';
    }
  });
  // Only count mappings of device files and anonymous inodes: the heap moves on its own.
  const maps = fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => /iio|dmabuf|dma_heap|udmabuf|memfd/.test(l)).length;
  return { fds: fds.filter((f) => /iio|dmabuf|dma_heap|udmabuf|memfd/.test(f)).sort(), maps };
}

/**
 * The kernel thread that runs `dev`'s trigger handler (its pollfunc) while its buffer is enabled
 * (`irq/N-<name>_consumer<id>`; a new one on every enable).
 *
 * Why tests need it: iio_trigger_poll() (drivers/iio/industrialio-trigger.c) ignores a fire
 * while trig->use_count is not 0, and the handler thread sets it back to 0 only in
 * iio_trigger_notify_done(), after it has pushed the scan. So a reader that fires again as soon
 * as the scan arrives can beat the handler's last line and lose that fire without a trace (no
 * scan, no emu_dropped_scans, no dmesg; measured: 5 of 10 005 fires beside a second VM). Before
 * firing a sysfs trigger again, wait until this thread sleeps.
 */
export function pollfuncThread(dev: Device): number {
  const name = `${dev.name}_consumer${dev.id.replace(/^iio:device/, '')}`;
  const line = fs.readFileSync('/proc/interrupts', 'utf8').split('\n').find((l) => l.trim().split(/\s+/).pop() === name);
  if (!line) throw new Error(`no pollfunc irq ${name} in /proc/interrupts (buffer not enabled?)`);
  const prefix = `irq/${line.trim().split(':')[0]}-`;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith(prefix)) return Number(pid);
    } catch {
      // a process that just exited
    }
  }
  throw new Error(`no thread ${prefix}* for ${name}`);
}

/** The scheduler state letter of a thread (R running, S sleeping, D uninterruptible, …). */
export function threadState(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Resolves once the pollfunc thread sleeps in irq_wait_for_interrupt(), i.e. the last fire is done. */
export async function waitPollfuncIdle(pid: number, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (threadState(pid) !== 'S') {
    if (Date.now() > end) throw new Error(`timed out waiting for pollfunc thread ${pid} to finish (state ${threadState(pid)})`);
    await new Promise((r) => setImmediate(r));
  }
}

/** The running kernel has the IIO DMABUF API (6.11+); before, buffers fall back to read()/write(). */
export function kernelHasIioDmabuf(release = require('os').release() as string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return !m || Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 11);
}

/** Runs `body` with `dev` on a fresh hrtimer trigger at `hz`; removes the trigger afterwards. */
export async function withTrigger<T>(dev: Device, name: string, hz: number, body: () => Promise<T>): Promise<T> {
  const trig = createHrtimerTrigger(name);
  try {
    trig.writeFrequency(hz);
    dev.writeCurrentTrigger(trig.name);
    return await body();
  } finally {
    dev.writeCurrentTrigger('');
    removeHrtimerTrigger(name);
  }
}

/** Every decoded value of consecutive emu-adc blocks against the emulator's pattern from scan 0. */
export function checkPattern(layoutOf: { layout: ScanLayout }, blocks: CapturedBlock[], scans: number): void {
  const dec = new ScanDecoder(layoutOf.layout);
  let n = 0;
  for (const b of blocks) {
    const d = dec.decode(b.data, b.scans);
    for (let i = 0; i < d.scans && n < scans; i++, n++) {
      for (const ch of EMU_ADC_CHANNELS) {
        if (!(ch.name in d.channels)) continue;
        for (let r = 0; r < ch.repeat; r++) {
          const got = Number(d.channels[ch.name][i * ch.repeat + r]);
          const want = emuAdcRaw(ch.slot + r, n, ch.bits, ch.signed);
          if (got !== want) assert.fail(`scan ${n} ${ch.name}[${r}]: got ${got}, want ${want}`);
        }
      }
    }
  }
  assert.equal(n, scans);
}
