// What the two transports with blocks of their own — DMABUF (src/dmabuf.ts) and ADI's mmap blocks
// (src/block.ts) — share. On capture, once a block is back from the device: gap bookkeeping (the
// next block queued after the device ran out of blocks is flagged), dropping cancelled blocks, and
// handing the block to onBlock in the payload mode asked for, with zero-copy blocks held back. On
// output: the free list, the write() checks and the drain signal (OutputBlocks). How a block is
// filled and queued (CPU-access bracket, canary, or a plain ENQUEUE) stays with each.
import { IioError } from './errors';
import type { CapturedBlock, TimestampGaps } from './buffer';
import type { ScanLayout } from './scan';

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

/** What OutputBlocks checks a write against. */
export interface OutputShape {
  readonly running: boolean;
  readonly device: { readonly name: string };
  readonly layout: ScanLayout;
  readonly scansPerBlock: number;
}

/**
 * The free blocks of a running output and its drain signal: `write` fills a free block and queues
 * it, or takes nothing and returns false until a block comes back (`giveBack`), when onDrain runs.
 */
export class OutputBlocks<B extends SharedBlock> {
  private free: B[] = [];
  private blocked = false;
  /** Bytes queued so far. */
  written = 0;

  constructor(
    private readonly shape: OutputShape,
    private readonly blockBytes: number,
    private readonly onDrain?: () => void,
  ) {}

  /** Every block is free (on start), or none is (on close). */
  reset(blocks: readonly B[]): void {
    this.free = [...blocks];
    this.blocked = false;
  }

  /** Free blocks (the rest are queued in the kernel). */
  get available(): number {
    return this.free.length;
  }

  /**
   * Copies `data` (1 to scansPerBlock whole scans) into a free block through `fill` and queues it
   * with `queue`. EPIPE when not running, EINVAL for anything else than whole scans in a Buffer;
   * false when no block is free. A block whose queueing fails is free again.
   */
  write(data: Buffer, fill: (b: B) => void, queue: (b: B) => void): boolean {
    const s = this.shape;
    if (!s.running) throw new IioError({ code: 'EPIPE', device: s.device.name, detail: 'output buffer is not running' });
    if (!Buffer.isBuffer(data) || data.length === 0 || data.length % s.layout.scanBytes !== 0 || data.length > this.blockBytes) {
      throw new IioError({ code: 'EINVAL', device: s.device.name, detail: `output of ${Buffer.isBuffer(data) ? data.length : 'non-Buffer'} bytes is not 1 to ${s.scansPerBlock} whole ${s.layout.scanBytes}-byte scans` });
    }
    const b = this.free.shift();
    if (!b) {
      this.blocked = true;
      return false;
    }
    try {
      fill(b);
      queue(b);
    } catch (err) {
      this.free.unshift(b);
      throw err;
    }
    this.written += data.length;
    return true;
  }

  /** The device is done with `b`: free again. */
  giveBack(b: B): void {
    this.free.push(b);
  }

  /** After blocks came back: tells a writer who met a full pool that there is room. */
  drained(): void {
    if (!this.blocked || this.free.length === 0) return;
    this.blocked = false;
    this.onDrain?.();
  }
}
