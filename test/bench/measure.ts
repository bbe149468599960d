// What the capture benches share: one measured window after a settling pause, and the table print.

export interface Window {
  /** Seconds measured. */
  dt: number;
  /** CPU time of this process in the window, µs. */
  cpuUs: number;
  /** How far each counter moved in the window. */
  moved: number[];
}

/** Waits `settleMs`, then measures `seconds` of the counters and of this process's CPU. */
export async function measureWindow(seconds: number, counters: Array<() => number>, settleMs = 300): Promise<Window> {
  await new Promise((r) => setTimeout(r, settleMs));
  const before = counters.map((c) => c());
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { dt, cpuUs: cpu.user + cpu.system, moved: counters.map((c, i) => c() - before[i]) };
}

/** Prints rows as right-aligned columns. */
export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i])).join('  '));
}
