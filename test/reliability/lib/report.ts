// The suite's table (test | attempts | crashes | leaks | stall max | result), crash counters
// from process hooks, and the seed printed with every failure so the run can be repeated.
import { SEED } from './seed';

export interface Row {
  test: string;
  attempts: number;
  crashes: number;
  leaks: number;
  /** ms; null where the test blocks the loop on purpose. */
  stallMaxMs: number | null;
  result?: string;
}

const rows: Row[] = [];
let current: Row | null = null;

/** Starts the row of the running test; tests fill in its counters. */
export function row(test: string): Row {
  current = { test, attempts: 0, crashes: 0, leaks: 0, stallMaxMs: 0 };
  rows.push(current);
  return current;
}

// Everything that would kill a Node-RED process. Recorded here, asserted by each test at its end.
const crashes: unknown[] = [];
process.on('uncaughtException', (err) => {
  crashes.push(err);
  if (current) current.crashes++;
  console.error(`reliability: uncaught exception (IIO_SEED=${SEED}):`, err);
});
process.on('unhandledRejection', (err) => {
  crashes.push(err);
  if (current) current.crashes++;
  console.error(`reliability: unhandled rejection (IIO_SEED=${SEED}):`, err);
});

/** Crashes recorded since `from` (an index from crashCount()). */
export function crashesSince(from: number): unknown[] {
  return crashes.slice(from);
}
export function crashCount(): number {
  return crashes.length;
}

/** The markdown table of every row so far. */
export function table(): string {
  const lines = ['| test | attempts | crashes | leaks | stall max | result |', '|---|---:|---:|---:|---:|---|'];
  for (const r of rows) {
    const stall = r.stallMaxMs === null ? 'n/a (blocks on purpose)' : `${Math.round(r.stallMaxMs)} ms`;
    lines.push(`| ${r.test} | ${r.attempts} | ${r.crashes} | ${r.leaks} | ${stall} | ${r.result ?? '?'} |`);
  }
  return lines.join('\n');
}

// Root hooks (this module is imported by every reliability test file, so they register once).
afterEach(function () {
  const t = this.currentTest;
  if (current && t) current.result = t.state === 'passed' ? 'pass' : 'FAIL';
  if (t && t.state !== 'passed') console.error(`    reproduce: IIO_SEED=${SEED} … --grep ${JSON.stringify(t.title)}`);
  current = null;
});
after(function () {
  console.log(`\nreliability suite, IIO_SEED=${SEED}\n\n${table()}\n`);
});
