// Event-loop stall monitor. perf_hooks samples the loop's delay with a 10 ms timer; its max is
// the longest time the loop was blocked (sync sysfs loops, JSON.stringify of a big payload, …).
import { monitorEventLoopDelay, IntervalHistogram } from 'perf_hooks';

/**
 * The bound, in ms of the VM (QEMU TCG, ≈16× slower than the host). Measured baseline of this
 * suite in the VM on the fixed-up paths: GC pauses and Node-RED's own work on a deploy stay below
 * ≈400 ms (≈25 ms of host time). 1 500 ms (≈95 ms host) leaves ~3× headroom for a shared 2-core
 * machine, and is still an order of magnitude below the stalls we hunt (16 s for 10 000 sysfs
 * fires, >10 s for JSON.stringify of a 4 MiB payload). On a host or board it is generous by 16×.
 * IIO_STALL_BOUND_MS overrides it (e.g. for KVM or a board).
 */
export const STALL_BOUND_MS = Number(process.env.IIO_STALL_BOUND_MS) || 1500;

export class StallMonitor {
  private h: IntervalHistogram | null = null;
  private worst = 0;

  start(): this {
    this.h = monitorEventLoopDelay({ resolution: 10 });
    this.h.enable();
    return this;
  }

  /** Longest stall so far, in ms (the timer's own 10 ms resolution subtracted). */
  get maxMs(): number {
    const now = this.h ? Math.max(0, this.h.max / 1e6 - 10) : 0;
    return Math.max(this.worst, now);
  }

  /** Stops sampling (e.g. around a step that blocks on purpose); maxMs keeps what was seen. */
  pause(): void {
    if (!this.h) return;
    this.worst = this.maxMs;
    this.h.disable();
    this.h = null;
  }

  stop(): number {
    this.pause();
    return this.worst;
  }
}
