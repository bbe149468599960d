// Per-call cost of the kernel calls the data path makes, beside a plain syscall through Node's own
// binding: our ioctl (ffi-rs, argument by address, no errno), our zero-timeout poll (ffi-rs), the
// thread-pool poll (ffi-rs runInNewThread) against Node's own thread-pool read, a bare ffi-rs call
// (getpid), and fs.readSync/fstatSync. Runs anywhere (no IIO device needed): on the host, in the
// VM (`bash harness/vm.sh -- node dist/test/bench/ffi-call.js`) or on a board.
import * as fs from 'fs';
import { load, open, DataType } from 'ffi-rs';
import { kernel } from '../../src/local-backend';
import { encodeInt, encodePollfdInto, encodeU64, POLLFD_SIZE, POLLIN } from '../../src/uapi';

const N = Number(process.env.IIO_BENCH_CALLS || 2000);
const FIONBIO = 0x5421; // generic ioctl on any fd, takes int *

function perCallUs(fn: () => void): number {
  for (let i = 0; i < Math.min(200, N); i++) fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / N;
}

async function perCallUsAsync(fn: () => Promise<unknown>): Promise<number> {
  const n = Math.max(1, Math.floor(N / 4));
  for (let i = 0; i < 20; i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

async function main(): Promise<void> {
  const k = kernel();
  const efd = k.eventFd();
  const one = encodeU64(1);
  const word = Buffer.alloc(8);
  const arg = encodeInt(1);
  const set = Buffer.alloc(POLLFD_SIZE);
  encodePollfdInto(set, 0, efd, POLLIN);
  open({ library: 'bare', path: '' });
  const rows: Array<[string, number]> = [];
  try {
    rows.push(['fs.fstatSync (a syscall through Node)', perCallUs(() => fs.fstatSync(efd))]);
    rows.push(['fs.writeSync + fs.readSync of an eventfd (two syscalls)', perCallUs(() => {
      fs.writeSync(efd, one, 0, 8, null);
      fs.readSync(efd, word, 0, 8, null);
    })]);
    rows.push(['ffi-rs getpid() (no arguments)', perCallUs(() => load({ library: 'bare', funcName: 'getpid', retType: DataType.I32, paramsType: [], paramsValue: [] }))]);
    rows.push(['our ioctl (FIONBIO, by address)', perCallUs(() => k.ioctl(efd, FIONBIO, arg))]);
    rows.push(['our poll, zero timeout, 1 fd', perCallUs(() => k.pollNow(set, 1))]);
    k.write(efd, one, 8); // readable: the thread-pool calls below return at once
    rows.push(['our thread-pool poll (ready fd), round trip', await perCallUsAsync(() => k.poll(set, 1, -1))]);
    rows.push(['Node fs.read on the thread pool (ready eventfd), round trip', await perCallUsAsync(() => new Promise<void>((resolve, reject) => {
      fs.writeSync(efd, one, 0, 8, null);
      fs.read(efd, word, 0, 8, null, (err) => (err ? reject(err) : resolve()));
    }))]);
  } finally {
    k.close(efd);
  }
  console.log(`\nPer-call cost (${process.arch}, ${require('os').release()}, ${N} calls, µs per call)`);
  console.log('| call | µs |');
  console.log('|---|---|');
  for (const [what, us] of rows) console.log(`| ${what} | ${us.toFixed(1)} |`);
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
