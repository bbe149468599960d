// The read() capture rows of the table alone (raw payload, 4 and 64 KiB blocks, against
// iio_readdev), with what each block cost: readv() calls, EAGAINs, thread-pool polls and
// zero-timeout polls per block, and the CPU of each thread of the process. A few minutes in the VM:
//   bash harness/vm.sh -- node dist/test/bench/readpath.js   (IIO_SIZES=4k,64k, IIO_BENCH_REPS, IIO_BENCH_SECONDS)
import { IioContext } from '../../src/context';
import { kernel } from '../../src/local-backend';
import { ours, iioReaddev } from './table';
import * as fs from 'fs';
import * as path from 'path';

const REPS = Number(process.env.IIO_BENCH_REPS || 3);
const k = kernel() as unknown as Record<string, (...a: unknown[]) => unknown>;
const c = { readv: 0, bytes: 0, eagain: 0, poll: 0, pollNow: 0, nowHits: 0 };
for (const [m, f] of [['readv', (r: unknown) => { c.readv++; if (r === null) c.eagain++; else c.bytes += r as number; }], ['poll', () => c.poll++], ['pollNow', (r: unknown) => { c.pollNow++; if (r) c.nowHits++; }]] as const) {
  const orig = k[m];
  k[m] = (...a: unknown[]) => { const r = orig(...a); (f as (r: unknown) => void)(r); return r; };
}
function threads(): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const st = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(') ') + 2).split(' ');
      m.set(`${comm}#${t}`, (Number(f[11]) + Number(f[12])) * 10);
    } catch { /* gone */ }
  }
  return m;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const adc = new IioContext().findDevice({ name: 'emu-adc' });
  const fr = path.join(adc.sysfsPath, 'emu_free_running');
  adc.writeCurrentTrigger('');
  fs.writeFileSync(fr, '2');
  const res: Record<string, { mibs: number[]; cpu: number[] }> = {};
  const add = (key: string, r: { mibs: number; cpuMsPerMiB: number }) => { (res[key] ??= { mibs: [], cpu: [] }).mibs.push(r.mibs); res[key].cpu.push(r.cpuMsPerMiB); };
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const [label, spb] of ([['4k', 102], ['64k', 1638]] as const).filter(([l]) => (process.env.IIO_SIZES || '4k,64k').split(',').includes(l))) {
        const ref = await iioReaddev(spb);
        add(`readdev ${label}`, ref);
        {
          const v = 'ours';
          for (const key of Object.keys(c)) (c as Record<string, number>)[key] = 0;
          const t0 = threads();
          const r = await ours(adc, 'read raw', spb);
          const t1 = threads();
          const busy = [...t1].map(([n, v]) => [n.split('#')[0], v - (t0.get(n) ?? 0)] as const).filter(([, d]) => d >= 50).map(([n, d]) => `${n} ${d}`).join(', ');
          console.log(`   thread CPU ms: ${busy}`);
          add(`${v} ${label}`, r);
          const blocks = c.bytes / (spb * 40);
          console.log(`rep ${rep} ${v} ${label}: ${r.mibs.toFixed(2)} MiB/s ${r.cpuMsPerMiB.toFixed(0)} ms/MiB (readdev ${ref.mibs.toFixed(2)} / ${ref.cpuMsPerMiB.toFixed(0)}) | per block: readv ${(c.readv / blocks).toFixed(2)} eagain ${(c.eagain / blocks).toFixed(2)} poll ${(c.poll / blocks).toFixed(2)} pollNow ${(c.pollNow / blocks).toFixed(2)} hits ${(c.nowHits / blocks).toFixed(2)}`);
        }
      }
    }
  } finally {
    fs.writeFileSync(fr, '0');
  }
  for (const label of (process.env.IIO_SIZES || '4k,64k').split(',')) {
    const ref = res[`readdev ${label}`];
    {
      const v = 'ours';
      const r = res[`${v} ${label}`];
      console.log(`${label} ${v}: ${median(r.mibs).toFixed(2)} MiB/s ${median(r.cpu).toFixed(0)} ms/MiB | ratio tp ${(median(r.mibs) / median(ref.mibs)).toFixed(2)} cpu ${(median(r.cpu) / median(ref.cpu)).toFixed(2)}`);
    }
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
