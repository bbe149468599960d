// What the two capture transports with blocks of their own — DMABUF (src/dmabuf.ts) and ADI's
// mmap blocks (src/block.ts) — share once a block is back from the device: gap bookkeeping (the
// next block queued after the device ran out of blocks is flagged), dropping cancelled blocks, and
// handing the block to onBlock in the payload mode asked for, with zero-copy blocks held back.
// How a block gets requeued (canary and CPU-access bracket, or a plain ENQUEUE) stays with each.
import type { CapturedBlock, TimestampGaps } from './buffer';

/** What onBlock receives: see DmabufCaptureOptions.payload. */
export type PayloadMode = 'copy' | 'borrow' | 'zerocopy';

/** A block of memory shared with the device, as delivery sees it. */
export interface SharedBlock {
  /** The whole mapping; `null` once released. */
  readonly view: Buffer | null;
  /** Whether a view of this block left the core (zero-copy payloads): it must outlive its mapping safely. */
  escaped: boolean;
}

export interface DeliverySetup<B extends SharedBlock> {
  readonly scansPerBlock: number;
  readonly blockBytes: number;
  readonly poolSize: number;
  readonly gaps: TimestampGaps;
  readonly payload?: PayloadMode;
  readonly onBlock: (b: CapturedBlock) => void;
  /** Gives the block back to the device (it calls `queued` once it is there). */
  readonly requeue: (b: B) => void;
  readonly running: () => boolean;
}

export class BlockDelivery<B extends SharedBlock> {
  /** Zero-copy blocks whose views the flow may still read. */
  private held: B[] = [];
  private sequence = 0;
  /** The next block queued follows a gap in the data. */
  private gapPending = false;
  private afterGap = new Set<B>();
  /** Blocks delivered right after scans were lost. */
  overruns = 0;
  /** Blocks that came back without being filled (cancelled) and were dropped. */
  cancelled = 0;

  constructor(private readonly s: DeliverySetup<B>) {}

  /** Scans were (or may have been) lost: the device has had nowhere to write. */
  gap(): void {
    this.gapPending = true;
  }

  /** `b` is now in the kernel's queue. */
  queued(b: B): void {
    if (this.gapPending) {
      this.afterGap.add(b);
      this.gapPending = false;
    }
  }

  /** The stream stopped: nothing is held or queued any more. */
  reset(): void {
    this.held = [];
    this.afterGap.clear();
  }

  /** `b` came back cancelled (never filled): its bytes are not data. Dropped, counted and requeued. */
  drop(b: B): void {
    this.afterGap.delete(b);
    this.cancelled++;
    this.gapPending = true;
    this.s.requeue(b);
  }

  /** `b` came back filled: hands its first blockBytes to onBlock, requeues it when the payload mode allows. */
  deliver(b: B): void {
    const s = this.s;
    const gapBefore = this.afterGap.delete(b);
    const view = b.view!.subarray(0, s.blockBytes);
    const lost = s.gaps.observe(view, s.scansPerBlock, gapBefore ? 0 : null);
    // Requeued just in time, the device lost nothing: the timestamps tell, where there are any.
    const overrun = gapBefore && lost !== 0;
    if (overrun) this.overruns++;
    const mode = s.payload ?? 'copy';
    const block: CapturedBlock = { data: mode === 'copy' ? Buffer.from(view) : view, scans: s.scansPerBlock, sequence: ++this.sequence, overrun, ...(overrun && lost !== undefined && { lost }) };
    if (mode === 'zerocopy') {
      b.escaped = true;
      this.held.push(b);
      const keep = Math.max(1, Math.floor(s.poolSize / 2));
      while (this.held.length > keep) s.requeue(this.held.shift()!);
      s.onBlock(block);
      return;
    }
    if (mode === 'copy') s.requeue(b);
    try {
      s.onBlock(block);
    } finally {
      if (mode === 'borrow' && s.running()) s.requeue(b);
    }
  }
}
