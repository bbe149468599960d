// The capture transports side by side — read(), DMABUF (copy and zero-copy) and ADI's mmap block
// API (copy and zero-copy): MiB/s of capture into message payloads on emu-adc in its max-rate
// free-running mode (emu_free_running = 2), for blocks from 4 KiB to 1 MiB, 32-byte scans. The
// block ioctls go to the emulator's chardev (/dev/emu-adc-blocks, buffer1), whose blocks are
// filled by the same kernel path as DMABUF blocks: the difference between those columns is the
// userspace side (DEQUEUE/ENQUEUE on one fd against a fence poll per DMABUF plus SYNC brackets).
// Without that chardev (kernels before 6.11) the block columns are left out. Run in the VM
// (npm run bench) or on a board with the emulator.
import * as fs from 'fs';
import * as path from 'path';
import { CaptureStream, CapturedBlock } from '../../src/buffer';
import { BlockCapture, BLOCK_CHARDEV_ENV } from '../../src/block';
import { IioContext } from '../../src/context';
import type { Device } from '../../src/device';
import { DmabufCapture } from '../../src/dmabuf';
import { measureWindow, printTable } from './measure';


const SECONDS = Number(process.env.BENCH_SECONDS || 3);
const SIZES_KIB = [4, 16, 64, 256, 1024];
const CHANNELS = ['voltage0', 'voltage1', 'voltage2', 'voltage3', 'voltage4', 'accel_x', 'accel_y', 'accel_z'];

type Mode = 'read()' | 'DMABUF copy' | 'DMABUF zero-copy' | 'blocks copy' | 'blocks zero-copy';

async function run(adc: Device, mode: Mode, kib: number): Promise<{ mibs: number; cpu: number }> {
  const scansPerBlock = (kib * 1024) / 32;
  let bytes = 0;
  let held: Buffer | null = null;
  const onBlock = (b: CapturedBlock) => {
    bytes += b.data.length;
    held = b.data; // a message would carry this payload
  };
  const onError = (e: Error) => console.error(`${mode} ${kib} KiB: ${e.message}`);
  const stream =
    mode === 'read()'
      ? new CaptureStream(adc, { index: 0, channels: CHANNELS, scansPerBlock, length: Math.max(4 * scansPerBlock, 16384), onBlock, onError })
      : mode.startsWith('DMABUF')
        ? new DmabufCapture(adc, { index: 1, channels: CHANNELS, scansPerBlock, blocks: 4, payload: mode === 'DMABUF copy' ? 'copy' : 'zerocopy', onBlock, onError })
        : new BlockCapture(adc, { index: 1, channels: CHANNELS, scansPerBlock, blocks: 4, payload: mode === 'blocks copy' ? 'copy' : 'zerocopy', onBlock, onError });
  stream.start();
  const w = await measureWindow(SECONDS, [() => bytes]);
  await stream.close();
  void held;
  return { mibs: w.moved[0] / 1048576 / w.dt, cpu: (w.cpuUs / 1e6 / w.dt) * 100 };
}

async function main() {
  process.env[BLOCK_CHARDEV_ENV] = 'emu-adc/buffer1=/dev/emu-adc-blocks';
  const blocks = fs.existsSync('/dev/emu-adc-blocks');
  if (!blocks) console.log('mmap block columns left out: no /dev/emu-adc-blocks (the emulator serves it from kernel 6.11 on)');
  const adc = new IioContext().findDevice({ name: 'emu-adc' });
  const freeRunning = path.join(adc.sysfsPath, 'emu_free_running');
  adc.writeCurrentTrigger('');
  fs.writeFileSync(freeRunning, '2');
  try {
    const modes: Mode[] = ['read()', 'DMABUF copy', 'DMABUF zero-copy', ...(blocks ? (['blocks copy', 'blocks zero-copy'] as const) : [])];
    const rows = [['block', ...modes.map((m) => `${m} MiB/s`), 'CPU % per column']];
    for (const kib of SIZES_KIB) {
      const r = [];
      for (const m of modes) r.push(await run(adc, m, kib));
      rows.push([`${kib} KiB`, ...r.map((x) => x.mibs.toFixed(1)), r.map((x) => x.cpu.toFixed(0)).join(' / ')]);
    }
    console.log(`${modes.join(' / ')}, emu-adc free-running at full speed (32-byte scans), ${SECONDS} s per cell`);
    printTable(rows);
  } finally {
    fs.writeFileSync(freeRunning, '0');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
