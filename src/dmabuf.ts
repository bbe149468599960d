// DMABUF: blocks of memory shared with the device instead of copied through read()/write().
// Blocks come from a DMA heap (or /dev/udmabuf over a sealed memfd), are attached to the buffer
// fd, enqueued with IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, and complete when their fence signals (POLLOUT
// on the DMABUF fd, through the reactor). CPU access is bracketed by DMA_BUF_IOCTL_SYNC.
//
// Memory-safety rule: no JS-reachable view may ever point at unmapped memory (an external Buffer
// has no finalizer; a stale view would be a SIGSEGV that takes Node-RED down). A block whose view
// never left this module is unmapped when released. A block whose view was handed out (zero-copy
// payloads) has its mapping replaced in place by anonymous memory (so stale views read zeros and the
// DMABUF itself is freed), and that placeholder is unmapped only once the GC has collected every view.
import * as os from 'os';
import { IioError, toIioError } from './errors';
import { kernel } from './local-backend';
import type { Backend, MappedRegion } from './backend';
import { reactor } from './reactor';
import { BlockDelivery, OutputBlocks, PayloadMode } from './delivery';
import {
  DMA_BUF_IOCTL_SYNC, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE,
  DMA_HEAP_IOCTL_ALLOC, IIO_BUFFER_DMABUF_ATTACH_IOCTL, IIO_BUFFER_DMABUF_CYCLIC, IIO_BUFFER_DMABUF_DETACH_IOCTL,
  IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, UDMABUF_CREATE, decodeDmaHeapAllocFd, encodeDmaBufSyncInto, encodeDmaHeapAlloc,
  encodeDmabufInto, encodeInt, encodeUdmabufCreate, IIO_DMABUF_SIZE, DMA_BUF_SYNC_SIZE, UDMABUF_FLAGS_CLOEXEC,
  POLLFD_SIZE, encodePollfdInto, decodePollRevents, O_CLOEXEC, O_RDWR, POLLERR, POLLOUT, PROT_READ, PROT_WRITE,
} from './uapi';
import { BufferSetup, BufferStream, CaptureOptions, CapturedBlock, OutputOptions, TimestampGaps } from './buffer';
import type { Device } from './device';

export const DEFAULT_HEAP = '/dev/dma_heap/system';
export const UDMABUF_DEVICE = '/dev/udmabuf';
const PAGE = 4096;

export interface DmabufOptions {
  /** DMA heap to allocate from; default /dev/dma_heap/system, then /dev/udmabuf. */
  heap?: string;
  /** Blocks in the pool; default 4. */
  blocks?: number;
}

const roundToPage = (n: number) => Math.ceil(n / PAGE) * PAGE;

/** Errors that mean "this buffer or kernel has no DMABUF": fall back to read()/write(). */
export function isDmabufUnsupported(err: unknown): boolean {
  return err instanceof IioError && ['EPERM', 'ENOTTY', 'ENOSYS', 'EOPNOTSUPP'].includes(err.code);
}

/** Failures that mean the allocator is not there (no heap, no udmabuf, not that kind of device). */
const ALLOCATOR_ABSENT = new Set(['ENOENT', 'ENODEV', 'ENXIO', 'ENOTTY', 'ENOSYS', 'EOPNOTSUPP']);
const NO_PERMISSION = new Set(['EACCES', 'EPERM']);

/** How much a failure tells the user: a real failure (ENOMEM, EMFILE…) 2, no permission 1, no allocator 0. */
function telling(code: string): number {
  return ALLOCATOR_ABSENT.has(code) ? 0 : NO_PERMISSION.has(code) ? 1 : 2;
}

/** No allocator gave a DMABUF. Carries the most telling failure's errno; `failures` has them all. */
export class DmabufAllocationError extends IioError {
  constructor(
    readonly failures: IioError[],
    size: number,
    heap: string,
  ) {
    const worst = failures.reduce((a, b) => (telling(b.code) > telling(a.code) ? b : a));
    const kind = telling(worst.code);
    const hint =
      kind === 1 ? `. Give this user read-write access to ${heap} or ${UDMABUF_DEVICE} (see README, Permissions), or use the read()/write() transport`
      : kind === 0 ? `. This kernel offers neither ${heap} nor ${UDMABUF_DEVICE}: use the read()/write() transport`
      : '';
    super({
      code: worst.code,
      errno: worst.errno,
      syscall: worst.syscall,
      path: worst.path,
      detail: `cannot allocate a ${size}-byte DMABUF (${failures.map((f) => f.message).join('; ')})${hint}`,
      cause: worst,
    });
  }
}

/**
 * Allocates a DMABUF of `size` bytes: from the DMA heap, else /dev/udmabuf. When both fail, throws
 * DmabufAllocationError with the errno of the most telling failure (ENOMEM from the heap says more
 * than ENOENT of a missing /dev/udmabuf).
 */
export function allocateDmabuf(size: number, heap = DEFAULT_HEAP): number {
  // The system heap allocates page by page until the OOM killer ends the whole process (measured
  // on 6.12): refuse a block that cannot fit rather than take Node-RED down.
  if (size > os.totalmem() / 2) {
    throw new IioError({ code: 'ENOMEM', errno: 12, path: heap, detail: `a ${size}-byte DMABUF is more than half of this machine's ${os.totalmem()} bytes of memory` });
  }
  const failures: IioError[] = [];
  const k = kernel();
  try {
    const hfd = k.open(heap, O_RDWR | O_CLOEXEC);
    try {
      const arg = encodeDmaHeapAlloc(size);
      k.ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, arg, { path: heap, what: 'DMA_HEAP_IOCTL_ALLOC' });
      return decodeDmaHeapAllocFd(arg);
    } finally {
      k.close(hfd);
    }
  } catch (err) {
    failures.push(toIioError(err));
  }
  try {
    const memfd = k.sealedMemfd('iio-dmabuf', size);
    try {
      const ufd = k.open(UDMABUF_DEVICE, O_RDWR | O_CLOEXEC);
      try {
        return k.ioctl(ufd, UDMABUF_CREATE, encodeUdmabufCreate({ memfd, flags: UDMABUF_FLAGS_CLOEXEC, offset: 0, size }), { path: UDMABUF_DEVICE, what: 'UDMABUF_CREATE' });
      } finally {
        k.close(ufd);
      }
    } finally {
      k.close(memfd);
    }
  } catch (err) {
    failures.push(toIioError(err));
  }
  throw new DmabufAllocationError(failures, size, heap);
}

/**
 * Whether transport `auto` uses read()/write() after DMABUF failed with `err`: when DMABUF is not
 * to be had here — the buffer or kernel lacks it (EPERM on a kfifo buffer, ENOTTY before 6.11), or
 * no allocator is present or permitted. A shortage (ENOMEM, EMFILE…) is reported instead: read()
 * competes for the same memory and fds, and a silent switch would hide the cause until it fails there.
 */
export function fallsBackToReadWrite(err: unknown): boolean {
  if (err instanceof DmabufAllocationError) return telling(err.code) < 2;
  return isDmabufUnsupported(err);
}

let placeholderCount = 0;
/** Unmaps placeholders once no view of them is reachable. */
const placeholders = new FinalizationRegistry<{ k: Backend; region: MappedRegion }>(({ k, region }) => {
  placeholderCount--;
  try {
    k.munmap(region);
  } catch {
    /* nothing useful to do in a finalizer */
  }
});

/** Anonymous placeholders still waiting for their views to be collected (for tests and status). */
export function pendingPlaceholders(): number {
  return placeholderCount;
}

/** One DMABUF, mapped once for the CPU. */
export class DmabufBlock {
  private readonly k = kernel();
  private mapping: MappedRegion | null;
  private readonly syncArg = Buffer.alloc(DMA_BUF_SYNC_SIZE);
  /** The whole mapping; `null` once released. */
  view: Buffer | null;
  /** Whether a view of this block left the module (zero-copy payloads). */
  escaped = false;

  constructor(
    readonly fd: number,
    readonly size: number,
  ) {
    this.mapping = this.k.mmap(fd, size, PROT_READ | PROT_WRITE, { what: 'DMABUF' });
    this.view = this.mapping.view;
  }

  sync(flags: number): void {
    encodeDmaBufSyncInto(this.syncArg, flags);
    this.k.ioctl(this.fd, DMA_BUF_IOCTL_SYNC, this.syncArg, { what: 'DMA_BUF_IOCTL_SYNC' });
  }

  /** Unmaps (or, if views escaped, swaps in anonymous memory) and closes the DMABUF fd. */
  close(): void {
    const m = this.mapping;
    const view = this.view;
    this.mapping = null;
    this.view = null;
    if (m && view) {
      if (this.escaped) {
        this.k.detachToAnonymous(m);
        placeholders.register(view.buffer, { k: this.k, region: m });
        placeholderCount++;
      } else {
        this.k.munmap(m);
      }
    }
    this.k.close(this.fd);
  }
}

/** Attaches `count` blocks of `bytes` to buffer fd `bfd`; on failure releases what it made. */
function attachPool(bfd: number, count: number, bytes: number, heap: string | undefined, site: { path: string; device: string }): DmabufBlock[] {
  const blocks: DmabufBlock[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const fd = allocateDmabuf(roundToPage(bytes), heap);
      let block: DmabufBlock;
      try {
        block = new DmabufBlock(fd, roundToPage(bytes));
      } catch (err) {
        kernel().close(fd);
        throw err;
      }
      blocks.push(block);
      kernel().ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, encodeInt(fd), { ...site, what: 'IIO_BUFFER_DMABUF_ATTACH_IOCTL' });
    }
    return blocks;
  } catch (err) {
    detachPool(bfd, blocks, site);
    throw err;
  }
}

function detachPool(bfd: number, blocks: DmabufBlock[], site: { path: string; device: string }): void {
  for (const b of blocks) {
    try {
      kernel().ioctl(bfd, IIO_BUFFER_DMABUF_DETACH_IOCTL, encodeInt(b.fd), { ...site, what: 'IIO_BUFFER_DMABUF_DETACH_IOCTL' });
    } catch {
      /* never attached, or the device is gone: the close below still frees it */
    }
    b.close();
  }
  blocks.length = 0;
}

function checkBlocks(n: unknown): number {
  const v = n === undefined ? 4 : n;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > 64) {
    throw new IioError({ code: 'EINVAL', detail: `DMABUF block count must be an integer from 2 to 64, not ${String(n)}` });
  }
  return v;
}

/**
 * What both directions share: a pool of blocks attached before the buffer is enabled, each DMABUF
 * fd watched by the reactor for its fence, all detached and freed after the buffer is disabled.
 */
abstract class DmabufStream extends BufferStream {
  protected blocks: DmabufBlock[] = [];
  protected readonly enqueueArg = Buffer.alloc(IIO_DMABUF_SIZE);
  /** Bytes of one full block. */
  protected readonly blockBytes: number;
  protected readonly poolSize: number;

  private readonly heap?: string;

  constructor(device: Device, opts: BufferSetup & DmabufOptions & { onError: (err: IioError) => void }, direction: 'in' | 'out') {
    super(device, opts, direction, opts.onError);
    this.heap = opts.heap;
    this.blockBytes = this.scansPerBlock * this.layout.scanBytes;
    this.poolSize = checkBlocks(opts.blocks);
  }

  /** The buffer fd itself is never polled: completion shows on each DMABUF fd. */
  protected pollEvents(): number {
    return 0;
  }

  protected onReadyData(): void {}

  protected get site() {
    return { path: this.device.devPath, device: this.device.name };
  }

  /** Events a block is polled for right after the pool is attached. */
  protected abstract initialEvents(): number;
  protected abstract onComplete(b: DmabufBlock, revents: number): void;

  protected override attachBlocks(bfd: number): void {
    this.blocks = attachPool(bfd, this.poolSize, this.blockBytes, this.heap, this.site);
  }

  protected override watchFds(_bfd: number): void {
    for (const b of this.blocks) {
      reactor.watch(b.fd, this.initialEvents(), (revents) => this.onComplete(b, revents), (err) => this.reportError(this.asError(err)));
    }
  }

  protected override async unwatchFds(_bfd: number): Promise<void> {
    await Promise.all(this.blocks.map((b) => reactor.unwatch(b.fd)));
  }

  protected override detachBlocks(bfd: number): void {
    detachPool(bfd, this.blocks, this.site);
  }

  /** IIO_BUFFER_DMABUF_ENQUEUE_IOCTL of `bytesUsed` bytes of `b`. */
  protected enqueueBlock(b: DmabufBlock, bytesUsed: number, flags = 0): void {
    encodeDmabufInto(this.enqueueArg, { fd: b.fd, flags, bytesUsed });
    kernel().ioctl(this.fd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, this.enqueueArg, { ...this.site, what: 'IIO_BUFFER_DMABUF_ENQUEUE_IOCTL' });
  }
}

export interface DmabufCaptureOptions extends CaptureOptions, DmabufOptions {
  /**
   * What `onBlock` receives: `copy` (default) a Buffer of its own; `borrow` a view of the DMABUF
   * valid only until onBlock returns (for consumers that decode at once: no copy at all);
   * `zerocopy` a view of the DMABUF that stays valid until `blocks / 2` further blocks have been
   * delivered, after which the device writes into it again.
   */
  payload?: PayloadMode;
}

/** Bytes at the end of each capture block that the device must overwrite (see DmabufCapture). */
const CANARY_BYTES = 8;

/**
 * Input through DMABUF: delivers blocks of exactly `scansPerBlock` scans, in order.
 *
 * A block can complete without data: disabling a buffer (ours, or any buffer of the device, since
 * the core re-enables them all) cancels the queued blocks, and the IIO UAPI does not tell
 * userspace a fence's error. So before each enqueue the block's last 8 bytes get a fresh canary;
 * a block completed with its canary intact was never filled to its end and is dropped, counted,
 * and the next block is flagged `overrun`. A device writing those exact 8 bytes by chance: 2^-64.
 */
export class DmabufCapture extends DmabufStream {
  /** Blocks the kernel owns, in enqueue order. */
  private inKernel: DmabufBlock[] = [];
  private completed = new Set<DmabufBlock>();
  /** Scans lost in gaps, where the timestamp channel lets us count them. */
  readonly gaps: TimestampGaps;
  private readonly delivery: BlockDelivery<DmabufBlock>;
  private readonly canaryHigh = (Math.random() * 0x100000000) >>> 0;
  private canaryCount = 0;
  private canaries = new Map<DmabufBlock, number>();

  constructor(device: Device, private readonly opts: DmabufCaptureOptions) {
    super(device, opts, 'in');
    this.gaps = new TimestampGaps(this.layout);
    this.delivery = new BlockDelivery({ scansPerBlock: this.scansPerBlock, blockBytes: this.blockBytes, poolSize: this.poolSize, gaps: this.gaps, payload: opts.payload, onBlock: opts.onBlock, requeue: (b) => this.requeue(b), running: () => this.running });
    if (this.blockBytes < CANARY_BYTES) {
      throw new IioError({ code: 'EOPNOTSUPP', device: device.name, detail: `DMABUF capture needs blocks of at least ${CANARY_BYTES} bytes (this one has ${this.blockBytes}): use read()` });
    }
  }

  /** Blocks delivered right after scans were lost. */
  get overruns(): number {
    return this.delivery.overruns;
  }

  /** Blocks that completed without being filled (cancelled) and were dropped. */
  get cancelled(): number {
    return this.delivery.cancelled;
  }

  protected initialEvents(): number {
    return POLLOUT;
  }

  protected override attachBlocks(bfd: number): void {
    super.attachBlocks(bfd);
    for (const b of this.blocks) {
      b.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
      this.plantCanary(b);
      b.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
      this.enqueue(b);
    }
  }

  protected override watchFds(_bfd: number): void {
    for (const b of this.blocks) {
      reactor.watch(b.fd, POLLOUT, (revents) => this.onComplete(b, revents), (err) => this.reportError(this.asError(err)), this.afterCompletions);
    }
  }

  protected override detachBlocks(bfd: number): void {
    this.inKernel = [];
    this.completed.clear();
    this.delivery.reset();
    this.canaries.clear();
    super.detachBlocks(bfd);
  }

  /** Writes a fresh canary at the end of the block's used bytes (inside a CPU-access bracket). */
  private plantCanary(b: DmabufBlock): void {
    const low = (this.canaryCount = (this.canaryCount + 1) >>> 0);
    b.view!.writeUInt32LE(low, this.blockBytes - CANARY_BYTES);
    b.view!.writeUInt32LE(this.canaryHigh, this.blockBytes - 4);
    this.canaries.set(b, low);
  }

  private canaryIntact(b: DmabufBlock): boolean {
    return b.view!.readUInt32LE(this.blockBytes - CANARY_BYTES) === this.canaries.get(b) && b.view!.readUInt32LE(this.blockBytes - 4) === this.canaryHigh;
  }

  private enqueue(b: DmabufBlock): void {
    this.enqueueBlock(b, this.blockBytes);
    this.inKernel.push(b);
    this.delivery.queued(b);
  }

  protected onComplete(b: DmabufBlock, revents: number): void {
    if (revents & POLLERR) return this.hungUp();
    // Until it is enqueued again the block stays "complete": stop polling it meanwhile.
    reactor.setEvents(b.fd, 0);
    this.completed.add(b);
  }

  /** After each poll: deliver the completed blocks in enqueue order (fences may signal out of order). */
  private readonly afterCompletions = (): void => {
    if (!this.running) return;
    // Blocks complete in queue order: the last one queued done means every one is, and the device
    // has had nowhere to write since. The poll that woke us may be older than that (the loop was
    // busy), so ask the kernel about that one block now: one zero-timeout poll per batch.
    if (this.inKernel.length > 0 && this.lastQueuedDone()) this.delivery.gap();
    while (this.inKernel.length > 0 && this.completed.has(this.inKernel[0])) {
      const head = this.inKernel.shift()!;
      this.completed.delete(head);
      this.deliver(head);
      if (!this.running) return;
    }
  };

  private readonly tailPoll = Buffer.alloc(POLLFD_SIZE);

  private lastQueuedDone(): boolean {
    const tail = this.inKernel[this.inKernel.length - 1];
    if (this.completed.has(tail)) return true;
    encodePollfdInto(this.tailPoll, 0, tail.fd, POLLOUT);
    return kernel().pollNow(this.tailPoll, 1) === 1 && (decodePollRevents(this.tailPoll, 0) & POLLOUT) !== 0;
  }

  private deliver(b: DmabufBlock): void {
    b.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE);
    // Cancelled (or never filled): its bytes are whatever was there before, never data.
    if (this.canaryIntact(b)) this.delivery.drop(b);
    else this.delivery.deliver(b);
  }

  private requeue(b: DmabufBlock): void {
    this.plantCanary(b);
    b.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE);
    this.enqueue(b);
    reactor.setEvents(b.fd, POLLOUT);
  }
}

export interface DmabufOutputOptions extends OutputOptions, DmabufOptions {}

/**
 * Output through DMABUF. `write` fills a free block and enqueues it; a cyclic block is repeated by
 * the device until the next block is enqueued or the buffer is disabled.
 */
export class DmabufOutput extends DmabufStream {
  private readonly pool: OutputBlocks<DmabufBlock>;

  constructor(device: Device, opts: DmabufOutputOptions) {
    super(device, opts, 'out');
    this.pool = new OutputBlocks(this, this.blockBytes, opts.onDrain);
  }

  /** Bytes enqueued so far. */
  get written(): number {
    return this.pool.written;
  }

  /** Polled only while enqueued: an idle DMABUF is always "complete". */
  protected initialEvents(): number {
    return 0;
  }

  protected override attachBlocks(bfd: number): void {
    super.attachBlocks(bfd);
    this.pool.reset(this.blocks);
  }

  protected override detachBlocks(bfd: number): void {
    this.pool.reset([]);
    super.detachBlocks(bfd);
  }

  /** Free blocks (the rest are queued in the kernel). */
  get available(): number {
    return this.pool.available;
  }

  /**
   * Enqueues whole scans (at most one block). Returns false when no block is free: the caller keeps
   * the data and waits for onDrain.
   */
  write(data: Buffer, cyclic = false): boolean {
    return this.pool.write(
      data,
      (b) => {
        b.sync(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
        data.copy(b.view!, 0, 0, data.length);
        b.sync(DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
      },
      (b) => {
        this.enqueueBlock(b, data.length, cyclic ? IIO_BUFFER_DMABUF_CYCLIC : 0);
        reactor.setEvents(b.fd, POLLOUT);
      },
    );
  }

  protected onComplete(b: DmabufBlock, revents: number): void {
    if (revents & POLLERR) return this.hungUp();
    reactor.setEvents(b.fd, 0);
    this.pool.giveBack(b);
    this.pool.drained();
  }
}
