// The read() capture rows of the table alone (raw payload, 4 and 64 KiB blocks, against
// iio_readdev), with what each block cost: readv() calls, EAGAINs, thread-pool polls and
// zero-timeout polls per block, and the CPU of each thread of the process. A few minutes in the VM:
//   bash harness/vm.sh -- node dist/test/bench/readpath.js   (IIO_SIZES=4k,64k, IIO_BENCH_REPS, IIO_BENCH_SECONDS)
import { IioContext } from '../../src/context';
import { kernel } from '../../src/local-backend';
import { Reactor } from '../../src/reactor';
import { ours, oursRemote, withIiod, iioReaddev } from './table';
import * as fs from 'fs';
import * as path from 'path';
import * as inspector from 'inspector';

/** IIO_KIND: which of our capture cells (default the raw read() one). */
const KIND = (process.env.IIO_KIND || 'read raw') as Parameters<typeof ours>[1] | 'remote';
const REPS = Number(process.env.IIO_BENCH_REPS || 3);
const k = kernel() as unknown as Record<string, (...a: unknown[]) => unknown>;
/** Main-thread ns spent in each call (for poll: its submission) and in the reactor's dispatch. */
const spent: Record<string, number> = {};
const proto = Reactor.prototype as unknown as { dispatch: () => void };
const origDispatch = proto.dispatch;
proto.dispatch = function (this: unknown) { const t0 = process.hrtime.bigint(); origDispatch.call(this); spent.dispatch = (spent.dispatch ?? 0) + Number(process.hrtime.bigint() - t0); };
const c = { readv: 0, bytes: 0, eagain: 0, poll: 0, pollNow: 0, nowHits: 0, ioctl: 0, blocks: 0 };
for (const [m, f] of [['readv', (r: unknown) => { c.readv++; if (r === null) c.eagain++; else c.bytes += r as number; }], ['poll', () => c.poll++], ['pollNow', (r: unknown) => { c.pollNow++; if (r) c.nowHits++; }], ['ioctl', () => c.ioctl++]] as const) {
  const orig = k[m];
  k[m] = (...a: unknown[]) => { const t0 = process.hrtime.bigint(); const r = orig(...a); spent[m] = (spent[m] ?? 0) + Number(process.hrtime.bigint() - t0); (f as (r: unknown) => void)(r); return r; };
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
/** IIO_PROFILE=1: V8's sampling profiler over our capture window only; prints the top self times. */
const session = process.env.IIO_PROFILE === '1' ? new inspector.Session() : null;
session?.connect();
const post = (method: string, params?: object) => new Promise<any>((res, rej) => session!.post(method, params ?? {}, (e, r) => (e ? rej(e) : res(r)))); // eslint-disable-line @typescript-eslint/no-explicit-any
async function profiled<T>(body: () => Promise<T>): Promise<T> {
  if (!session) return body();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  try {
    return await body();
  } finally {
    const { profile } = await post('Profiler.stop');
    const byId = new Map<number, { callFrame: { functionName: string; url: string; lineNumber: number } }>(profile.nodes.map((n: { id: number }) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes as { id: number; children?: number[] }[]) for (const c of n.children ?? []) parent.set(c, n.id);
    const callers = new Map<string, Map<string, number>>();
    const self = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id: number, i: number) => {
      const f = byId.get(id)!.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`;
      const dt = profile.timeDeltas[i] ?? 0;
      total += dt;
      self.set(key, (self.get(key) ?? 0) + dt);
      const chain: string[] = [];
      for (let p = parent.get(id); p !== undefined && chain.length < 3; p = parent.get(p)) chain.push(byId.get(p)!.callFrame.functionName || '(anonymous)');
      const m = callers.get(key) ?? new Map<string, number>();
      callers.set(key, m);
      m.set(chain.join(' < '), (m.get(chain.join(' < ')) ?? 0) + dt);
    });
    for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      const top = [...callers.get(key)!].sort((a, b) => b[1] - a[1])[0][0];
      console.log(`   ${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}  < ${top}`);
    }
  }
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
        if (KIND === 'remote') {
          // Over Debian's iiod in this guest: ours pipelined against iio_readdev -u.
          await withIiod(async (uri) => {
            const ref = await iioReaddev(spb, uri);
            const t0 = threads();
            const r = await profiled(() => oursRemote(uri, spb, 2));
            const busy = [...threads()].map(([n, v]) => [n.split('#')[0], v - (t0.get(n) ?? 0)] as const).filter(([, d]) => d >= 50).map(([n, d]) => `${n} ${d}`).join(', ');
            console.log(`   thread CPU ms: ${busy}`);
            console.log(`rep ${rep} remote ${label}: ${r.mibs.toFixed(2)} MiB/s ${r.cpuMsPerMiB.toFixed(0)} ms/MiB (readdev -u ${ref.mibs.toFixed(2)} / ${ref.cpuMsPerMiB.toFixed(0)})`);
          });
          continue;
        }
        const ref = await iioReaddev(spb);
        add(`readdev ${label}`, ref);
        {
          const v = 'ours';
          for (const key of Object.keys(c)) (c as Record<string, number>)[key] = 0;
          for (const key of Object.keys(spent)) spent[key] = 0;
          const t0 = threads();
          const w0 = process.hrtime.bigint();
          const r = await profiled(() => ours(adc, KIND, spb));
          const wall = Number(process.hrtime.bigint() - w0) / 1e9;
          const t1 = threads();
          const busy = [...t1].map(([n, v]) => [n.split('#')[0], v - (t0.get(n) ?? 0)] as const).filter(([, d]) => d >= 50).map(([n, d]) => `${n} ${d}`).join(', ');
          console.log(`   thread CPU ms: ${busy}`);
          // read(): the blocks read; DMABUF: estimated from the rate over the whole call.
          const perBlock = c.bytes > 0 ? c.bytes / (spb * 40) : (r.mibs * 1048576 * wall) / (spb * 40);
          console.log(`   main-thread µs per block: ${Object.entries(spent).map(([n, ns]) => `${n} ${(ns / 1000 / perBlock).toFixed(0)}`).join(', ')}`);
          add(`${v} ${label}`, r);
          const blocks = perBlock;
          console.log(`rep ${rep} ${v} ${label}: ${r.mibs.toFixed(2)} MiB/s ${r.cpuMsPerMiB.toFixed(0)} ms/MiB (readdev ${ref.mibs.toFixed(2)} / ${ref.cpuMsPerMiB.toFixed(0)}) | per block: readv ${(c.readv / blocks).toFixed(2)} eagain ${(c.eagain / blocks).toFixed(2)} poll ${(c.poll / blocks).toFixed(2)} pollNow ${(c.pollNow / blocks).toFixed(2)} hits ${(c.nowHits / blocks).toFixed(2)} ioctl ${(c.ioctl / blocks).toFixed(2)}`);
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
      if (!r || !ref) continue; // remote: each repetition printed its own line
      console.log(`${label} ${v}: ${median(r.mibs).toFixed(2)} MiB/s ${median(r.cpu).toFixed(0)} ms/MiB | ratio tp ${(median(r.mibs) / median(ref.mibs)).toFixed(2)} cpu ${(median(r.cpu) / median(ref.cpu)).toFixed(2)}`);
    }
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
