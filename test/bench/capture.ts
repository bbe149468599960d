// Benchmark of the read() capture path: scans/s, MiB/s and CPU per scan of CaptureStream +
// ScanDecoder on emu-adc (all channels, 40-byte scans) for several block sizes. Run in the VM
// (npm run bench) or on a board with the emulator loaded. Absolute numbers under QEMU TCG are
// ~16x slower than hardware: compare the rows of one run, not runs on different machines.
import { CaptureStream } from '../../src/buffer';
import { IioContext } from '../../src/context';
import { ScanDecoder } from '../../src/scan';
import { createHrtimerTrigger, removeHrtimerTrigger } from '../../src/trigger';
import { measureWindow, printTable } from './measure';

const SECONDS = Number(process.env.BENCH_SECONDS || 4);
const RATE_HZ = Number(process.env.BENCH_RATE_HZ || 20000);
const BLOCKS = [16, 64, 256, 1024, 4096];

async function measure(scansPerBlock: number): Promise<string[]> {
  const ctx = new IioContext();
  const adc = ctx.findDevice({ name: 'emu-adc' });
  const dropsBefore = Number(require('fs').readFileSync(`${adc.sysfsPath}/emu_dropped_scans`, 'utf8'));
  let scans = 0;
  let bytes = 0;
  let decoder: ScanDecoder | null = null;
  const cap = new CaptureStream(adc, {
    scansPerBlock,
    length: Math.max(8192, 4 * scansPerBlock),
    onBlock: (b) => {
      decoder!.decode(b.data, b.scans);
      scans += b.scans;
      bytes += b.data.length;
    },
    onError: (e) => console.error(e.message),
  });
  decoder = new ScanDecoder(cap.layout);
  cap.start();
  const w = await measureWindow(SECONDS, [() => scans, () => bytes]);
  const n = w.moved[0];
  const mib = w.moved[1] / 1048576;
  const dt = w.dt;
  await cap.close();
  const drops = Number(require('fs').readFileSync(`${adc.sysfsPath}/emu_dropped_scans`, 'utf8')) - dropsBefore;
  const cpuUs = w.cpuUs;
  return [String(scansPerBlock), (n / dt).toFixed(0), (mib / dt).toFixed(3), n ? (cpuUs / n).toFixed(2) : '-', ((cpuUs / 1e6 / dt) * 100).toFixed(1), String(drops), String(cap.overruns)];
}

async function main() {
  const ctx = new IioContext();
  const adc = ctx.findDevice({ name: 'emu-adc' });
  const trig = createHrtimerTrigger('bench-read');
  try {
    trig.writeFrequency(RATE_HZ);
    adc.writeCurrentTrigger(trig.name);
    const rows = [['scans/block', 'scans/s', 'MiB/s', 'CPU µs/scan', 'CPU %', 'dropped', 'overruns']];
    for (const b of BLOCKS) rows.push(await measure(b));
    console.log(`read() capture, emu-adc all channels (40 B/scan), hrtimer ${RATE_HZ} Hz, ${SECONDS} s per row`);
    printTable(rows);
  } finally {
    adc.writeCurrentTrigger('');
    removeHrtimerTrigger('bench-read');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
