// ADI's mmap block API (Analog Devices kernels; never merged upstream): the kernel allocates the
// blocks (IIO_BUFFER_BLOCK_ALLOC), each is mmap()ed from the buffer fd at the offset QUERY reports,
// and ownership moves by ENQUEUE (to the kernel) and DEQUEUE (back, oldest finished first; the fd
// polls readable/writable while one waits). Detection is by probing: FREE succeeds wherever the
// API exists and fails with ENOTTY elsewhere, never by kernel version.
//
// Test setting: a stock kernel cannot grow ioctls on the IIO chardev, so the harness emulator
// serves the same UAPI on a chardev of its own. IIO_BLOCK_CHARDEV="emu-adc/buffer1=/dev/emu-adc-blocks,…"
// sends the block ioctls, mmap and poll for that buffer of the named device (name or label; a key
// without /bufferN means every buffer) there instead of the buffer fd. Used only by tests; see
// README "ADI mmap block API".
//
// Memory rule as for DMABUF (src/dmabuf.ts): no JS-reachable view ever points at unmapped memory.
// A block whose view escaped (zero-copy payload) has its mapping replaced by anonymous memory at
// stop, unmapped only once the GC has collected every view.
import { IioError, isIioError } from './errors';
import { kernel } from './local-backend';
import type { Backend, MappedRegion } from './backend';
import { reactor } from './reactor';
import { BlockDelivery, OutputBlocks, PayloadMode } from './delivery';
import {
  O_CLOEXEC, O_NONBLOCK, O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT, PROT_READ, PROT_WRITE,
  IIO_BUFFER_BLOCK_ALLOC_IOCTL, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, IIO_BUFFER_BLOCK_FLAG_CYCLIC,
  IIO_BUFFER_BLOCK_FREE_IOCTL, IIO_BUFFER_BLOCK_QUERY_IOCTL, IIO_BLOCK_SIZE, decodeBlockAllocReq, decodeBufferBlock,
  encodeBlockAllocReq, encodeBufferBlockInto,
} from './uapi';
import { BufferSetup, BufferStream, CaptureOptions, CapturedBlock, OutputOptions, TimestampGaps } from './buffer';
import type { DeviceInfo } from './context';
import type { Device } from './device';

const PAGE = 4096;
const roundToPage = (n: number) => Math.ceil(n / PAGE) * PAGE;

/** Environment variable pointing the block ioctls of a device at another chardev (tests only). */
export const BLOCK_CHARDEV_ENV = 'IIO_BLOCK_CHARDEV';

/** The test chardev for buffer `index` of `device` from IIO_BLOCK_CHARDEV ("name[/bufferN]=/dev/path,…"), if any. */
export function blockChardevFor(device: Pick<DeviceInfo, 'name' | 'label'>, index: number, env: string | undefined = process.env[BLOCK_CHARDEV_ENV]): string | undefined {
  if (!env) return undefined;
  for (const item of env.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const [name, buffer] = item.slice(0, eq).trim().split('/');
    const path = item.slice(eq + 1).trim();
    if (name !== device.name && name !== device.label) continue;
    if (buffer !== undefined && buffer !== `buffer${index}`) continue;
    if (path.startsWith('/dev/')) return path;
  }
  return undefined;
}

/**
 * The probe failed: this kernel has no block API on that fd. Keeps the kernel's errno: ENOTTY, or
 * EINVAL, which is what mainline's buffer fd answers to an ioctl it does not know (measured on
 * 6.12). ADI's FREE never fails, so either means absent.
 */
export class BlockApiUnsupportedError extends IioError {
  constructor(cause: IioError, site: { path: string; device: string }) {
    super({ code: cause.code, errno: cause.errno, syscall: 'ioctl', ...site, detail: `no mmap block API here (IIO_BUFFER_BLOCK_FREE_IOCTL: ${cause.code}): not an Analog Devices kernel`, cause });
  }
}

/** Errors that mean "no block API here": fall back to read()/write(). */
export function isBlockUnsupported(err: unknown): boolean {
  return err instanceof BlockApiUnsupportedError || (err instanceof IioError && ['ENOTTY', 'ENOSYS', 'EOPNOTSUPP'].includes(err.code));
}

let placeholderCount = 0;
const placeholders = new FinalizationRegistry<{ k: Backend; region: MappedRegion }>(({ k, region }) => {
  placeholderCount--;
  try {
    k.munmap(region);
  } catch {
    /* nothing useful to do in a finalizer */
  }
});

/** Anonymous placeholders of block mappings still waiting for their views to be collected. */
export function pendingBlockPlaceholders(): number {
  return placeholderCount;
}

/** One kernel-allocated block, mapped once. */
class MmapBlock {
  private readonly k = kernel();
  private mapping: MappedRegion | null;
  view: Buffer | null;
  escaped = false;

  constructor(
    readonly id: number,
    readonly size: number,
    fd: number,
    offset: number,
    site: { path: string; device: string },
  ) {
    this.mapping = this.k.mmap(fd, roundToPage(size), PROT_READ | PROT_WRITE, { ...site, what: `block ${id}` }, offset);
    this.view = this.mapping.view.subarray(0, size);
  }

  close(): void {
    const m = this.mapping;
    const view = this.view;
    this.mapping = null;
    this.view = null;
    if (!m || !view) return;
    if (this.escaped) {
      this.k.detachToAnonymous(m);
      placeholders.register(view.buffer, { k: this.k, region: m });
      placeholderCount++;
    } else {
      this.k.munmap(m);
    }
  }
}

function checkBlocks(n: unknown): number {
  const v = n === undefined ? 4 : n;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > 64) {
    throw new IioError({ code: 'EINVAL', detail: `block count must be an integer from 2 to 64, not ${String(n)}` });
  }
  return v;
}

export interface BlockOptions {
  /** Blocks the kernel allocates; default 4. */
  blocks?: number;
}

/**
 * What both directions share: blocks allocated and mapped before the buffer is enabled, the block
 * fd polled for finished blocks, everything unmapped and freed after the buffer is disabled.
 */
abstract class BlockStream extends BufferStream {
  protected readonly k = kernel();
  protected blocks: MmapBlock[] = [];
  protected readonly blockBytes: number;
  protected readonly poolSize: number;
  /** Where the block ioctls go: the buffer fd, or the test chardev. */
  protected ctl = -1;
  private ownsCtl = false;
  protected readonly arg = Buffer.alloc(IIO_BLOCK_SIZE);
  /** The test chardev in use, if any. */
  readonly chardev: string | undefined;

  constructor(device: Device, opts: BufferSetup & BlockOptions & { onError: (err: IioError) => void }, direction: 'in' | 'out') {
    super(device, opts, direction, opts.onError);
    this.blockBytes = this.scansPerBlock * this.layout.scanBytes;
    this.poolSize = checkBlocks(opts.blocks);
    this.chardev = blockChardevFor(device, this.buffer.index);
  }

  protected pollEvents(): number {
    return 0;
  }

  protected onReadyData(): void {}

  protected get site() {
    return { path: this.chardev ?? this.device.devPath, device: this.device.name };
  }

  protected abstract readyEvents(): number;
  protected abstract onFinished(): void;

  protected override attachBlocks(bfd: number): void {
    if (this.chardev) {
      this.ctl = this.k.open(this.chardev, O_RDWR | O_CLOEXEC | O_NONBLOCK, { path: this.chardev, device: this.device.name });
      this.ownsCtl = true;
    } else {
      this.ctl = bfd;
    }
    try {
      // The probe, and a clean slate: blocks someone left behind would make ALLOC append.
      try {
        this.k.ioctl(this.ctl, IIO_BUFFER_BLOCK_FREE_IOCTL, Buffer.alloc(4), { ...this.site, what: 'IIO_BUFFER_BLOCK_FREE_IOCTL' });
      } catch (err) {
        if (isIioError(err, 'ENOTTY') || isIioError(err, 'EINVAL')) throw new BlockApiUnsupportedError(err as IioError, this.site);
        throw err;
      }
      const req = encodeBlockAllocReq({ size: this.blockBytes, count: this.poolSize });
      this.k.ioctl(this.ctl, IIO_BUFFER_BLOCK_ALLOC_IOCTL, req, { ...this.site, what: 'IIO_BUFFER_BLOCK_ALLOC_IOCTL' });
      const got = decodeBlockAllocReq(req);
      if (got.count !== this.poolSize) {
        throw new IioError({ code: 'ENOMEM', errno: 12, syscall: 'ioctl', ...this.site, detail: `IIO_BUFFER_BLOCK_ALLOC_IOCTL gave ${got.count} of ${this.poolSize} blocks of ${this.blockBytes} bytes` });
      }
      for (let i = 0; i < this.poolSize; i++) {
        encodeBufferBlockInto(this.arg, { id: got.id + i });
        this.k.ioctl(this.ctl, IIO_BUFFER_BLOCK_QUERY_IOCTL, this.arg, { ...this.site, what: 'IIO_BUFFER_BLOCK_QUERY_IOCTL' });
        const q = decodeBufferBlock(this.arg);
        this.blocks.push(new MmapBlock(q.id, this.blockBytes, this.ctl, q.offset, this.site));
      }
    } catch (err) {
      this.releaseBlocks();
      throw err;
    }
  }

  protected override watchFds(_bfd: number): void {
    reactor.watch(this.ctl, this.readyEvents(), (revents) => {
      if (revents & (POLLERR | POLLHUP) && !(revents & (POLLIN | POLLOUT))) return this.hungUp();
      this.onFinished();
    }, (err) => this.reportError(this.asError(err)));
  }

  protected override async unwatchFds(_bfd: number): Promise<void> {
    await reactor.unwatch(this.ctl);
  }

  protected override detachBlocks(_bfd: number): void {
    this.releaseBlocks();
  }

  /** Unmaps first (no view may outlive its memory), then FREE, then closes the test chardev. */
  private releaseBlocks(): void {
    let first: unknown = null;
    for (const b of this.blocks) {
      try {
        b.close();
      } catch (err) {
        first ??= err;
      }
    }
    this.blocks = [];
    if (this.ctl >= 0) {
      try {
        this.k.ioctl(this.ctl, IIO_BUFFER_BLOCK_FREE_IOCTL, Buffer.alloc(4), { ...this.site, what: 'IIO_BUFFER_BLOCK_FREE_IOCTL' });
      } catch {
        /* the device is gone, or the API never was: closing frees the blocks */
      }
      if (this.ownsCtl) this.k.close(this.ctl, this.site);
    }
    this.ctl = -1;
    this.ownsCtl = false;
    if (first) throw first;
  }

  protected enqueue(b: MmapBlock, bytesUsed: number, flags = 0): void {
    encodeBufferBlockInto(this.arg, { id: b.id, bytesUsed, flags });
    this.k.ioctl(this.ctl, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, this.arg, { ...this.site, what: 'IIO_BUFFER_BLOCK_ENQUEUE_IOCTL' });
  }

  /** DEQUEUE without blocking: the finished block and its bytes_used, or null when none waits. */
  protected dequeue(): { block: MmapBlock; bytesUsed: number } | null {
    encodeBufferBlockInto(this.arg, { id: 0 });
    try {
      this.k.ioctl(this.ctl, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, this.arg, { ...this.site, what: 'IIO_BUFFER_BLOCK_DEQUEUE_IOCTL' });
    } catch (err) {
      if (isIioError(err, 'EAGAIN')) return null;
      throw err;
    }
    const d = decodeBufferBlock(this.arg);
    const block = this.blocks.find((b) => b.id === d.id);
    if (!block) throw new IioError({ code: 'EIO', errno: 5, syscall: 'ioctl', ...this.site, detail: `IIO_BUFFER_BLOCK_DEQUEUE_IOCTL returned block ${d.id}, which this stream never allocated` });
    return { block, bytesUsed: d.bytesUsed };
  }
}

export interface BlockCaptureOptions extends CaptureOptions, BlockOptions {
  /** As for DMABUF: `copy` (default), `borrow` (valid until onBlock returns), `zerocopy` (valid for blocks / 2 further blocks). */
  payload?: PayloadMode;
}

/** Finished blocks taken per wake-up, so one busy device cannot starve the event loop. */
const MAX_DEQUEUE_PER_WAKE = 64;

/**
 * Input through the block API: delivers blocks of exactly `scansPerBlock` scans, in order. A block
 * the kernel hands back with fewer bytes than that was cut short (a disable cancelled it): it is
 * dropped, counted in `cancelled`, and the next delivered block is flagged `overrun`.
 */
export class BlockCapture extends BlockStream {
  private inKernel = 0;
  readonly gaps: TimestampGaps;
  private readonly delivery: BlockDelivery<MmapBlock>;

  constructor(device: Device, opts: BlockCaptureOptions) {
    super(device, opts, 'in');
    this.gaps = new TimestampGaps(this.layout);
    this.delivery = new BlockDelivery({ scansPerBlock: this.scansPerBlock, blockBytes: this.blockBytes, poolSize: this.poolSize, gaps: this.gaps, payload: opts.payload, onBlock: opts.onBlock, requeue: (b) => this.requeue(b), running: () => this.running });
  }

  /** Blocks delivered right after scans were lost. */
  get overruns(): number {
    return this.delivery.overruns;
  }

  /** Blocks the kernel handed back cut short (cancelled) and were dropped. */
  get cancelled(): number {
    return this.delivery.cancelled;
  }

  protected readyEvents(): number {
    return POLLIN;
  }

  protected override attachBlocks(bfd: number): void {
    super.attachBlocks(bfd);
    try {
      // All blocks in the kernel before the buffer is enabled: nothing is lost at the start.
      for (const b of this.blocks) this.requeue(b);
    } catch (err) {
      this.detachBlocks(bfd);
      throw err;
    }
  }

  protected override detachBlocks(bfd: number): void {
    this.inKernel = 0;
    this.delivery.reset();
    super.detachBlocks(bfd);
  }

  private requeue(b: MmapBlock): void {
    this.enqueue(b, this.blockBytes);
    this.inKernel++;
    this.delivery.queued(b);
  }

  protected onFinished(): void {
    for (let i = 0; i < MAX_DEQUEUE_PER_WAKE && this.running; i++) {
      const got = this.dequeue();
      if (!got) return;
      this.inKernel--;
      // Every block was finished: the device has had nowhere to write since.
      if (this.inKernel === 0) this.delivery.gap();
      if (got.bytesUsed < this.blockBytes) this.delivery.drop(got.block);
      else this.delivery.deliver(got.block);
    }
  }
}

export interface BlockOutputOptions extends OutputOptions, BlockOptions {}

/** Output through the block API: `write` fills a free block and enqueues it (cyclic: repeated until the next one). */
export class BlockOutput extends BlockStream {
  private readonly pool: OutputBlocks<MmapBlock>;

  constructor(device: Device, opts: BlockOutputOptions) {
    super(device, opts, 'out');
    this.pool = new OutputBlocks(this, this.blockBytes, opts.onDrain);
  }

  /** Bytes enqueued so far. */
  get written(): number {
    return this.pool.written;
  }

  protected readyEvents(): number {
    return POLLOUT;
  }

  protected override attachBlocks(bfd: number): void {
    super.attachBlocks(bfd);
    this.pool.reset(this.blocks);
  }

  protected override detachBlocks(bfd: number): void {
    this.pool.reset([]);
    super.detachBlocks(bfd);
  }

  get available(): number {
    return this.pool.available;
  }

  /** Enqueues whole scans (at most one block). False when no block is free: wait for onDrain. */
  write(data: Buffer, cyclic = false): boolean {
    return this.pool.write(
      data,
      (b) => data.copy(b.view!, 0, 0, data.length),
      (b) => this.enqueue(b, data.length, cyclic ? IIO_BUFFER_BLOCK_FLAG_CYCLIC : 0),
    );
  }

  protected onFinished(): void {
    for (let i = 0; i < MAX_DEQUEUE_PER_WAKE && this.running; i++) {
      const got = this.dequeue();
      if (!got) break;
      this.pool.giveBack(got.block);
    }
    this.pool.drained();
  }
}
