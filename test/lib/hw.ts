// Helpers for the hardware suite: finding our emulated devices and driving their control
// attributes. Used only where the emulator module is loaded (the VM, or a board).
import * as fs from 'fs';
import * as path from 'path';
import { IioContext, DeviceInfo } from '../../src/context';

export const ctx = new IioContext();

export function emu(name: 'emu-thermo' | 'emu-adc' | 'emu-dac' | 'emu-mux'): DeviceInfo {
  return ctx.findDevice({ name });
}

export function readSys(dev: DeviceInfo, attr: string): string {
  return fs.readFileSync(path.join(dev.sysfsPath, attr), 'utf8').trim();
}

export function writeSys(dev: DeviceInfo, attr: string, value: string | number): void {
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
