// read() against DMABUF: MiB/s of capture into message payloads on emu-adc in its max-rate
// free-running mode (emu_free_running = 2: the device produces as fast as userspace takes it),
// for blocks from 4 KiB to 1 MiB. 32-byte scans (every channel but the timestamp).
// Run in the VM (npm run bench) or on a board with the emulator; compare rows of one run.
import * as fs from 'fs';
import * as path from 'path';
import { CaptureStream, CapturedBlock } from '../../src/buffer';
import { IioContext } from '../../src/context';
import type { Device } from '../../src/device';
import { DmabufCapture } from '../../src/dmabuf';


const SECONDS = Number(process.env.BENCH_SECONDS || 3);
const SIZES_KIB = [4, 16, 64, 256, 1024];
const CHANNELS = ['voltage0', 'voltage1', 'voltage2', 'voltage3', 'voltage4', 'accel_x', 'accel_y', 'accel_z'];

type Mode = 'read()' | 'DMABUF copy' | 'DMABUF zero-copy';

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
      : new DmabufCapture(adc, { index: 1, channels: CHANNELS, scansPerBlock, blocks: 4, payload: mode === 'DMABUF copy' ? 'copy' : 'zerocopy', onBlock, onError });
  stream.start();
  await new Promise((r) => setTimeout(r, 300));
  const b0 = bytes;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const mib = (bytes - b0) / 1048576;
  await stream.close();
  void held;
  return { mibs: mib / dt, cpu: ((cpu.user + cpu.system) / 1e6 / dt) * 100 };
}

async function main() {
  const adc = new IioContext().findDevice({ name: 'emu-adc' });
  const freeRunning = path.join(adc.sysfsPath, 'emu_free_running');
  adc.writeCurrentTrigger('');
  fs.writeFileSync(freeRunning, '2');
  try {
    const rows = [['block', 'read() MiB/s', 'DMABUF copy MiB/s', 'DMABUF zero-copy MiB/s', 'zero-copy / read()', 'CPU % read / copy / zero-copy']];
    for (const kib of SIZES_KIB) {
      const r = await run(adc, 'read()', kib);
      const c = await run(adc, 'DMABUF copy', kib);
      const z = await run(adc, 'DMABUF zero-copy', kib);
      rows.push([`${kib} KiB`, r.mibs.toFixed(1), c.mibs.toFixed(1), z.mibs.toFixed(1), `${(z.mibs / r.mibs).toFixed(2)}x`, `${r.cpu.toFixed(0)} / ${c.cpu.toFixed(0)} / ${z.cpu.toFixed(0)}`]);
    }
    console.log(`Capture into message payloads, emu-adc free-running at full speed (32-byte scans), ${SECONDS} s per cell`);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i])).join('  '));
  } finally {
    fs.writeFileSync(freeRunning, '0');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
