// Buffered capture and output through read()/write() on a buffer fd: configure the scan elements,
// length and watermark in sysfs, enable last; read whole blocks when the reactor says the
// watermark is reached (per-block syscalls, never per-sample); disable and close on close().
import { IioError, isIioError, toIioError } from './errors';
import { kernel } from './local-backend';
import type { LoopReader } from './backend';
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from './uapi';
import { reactor } from './reactor';
import { computeLayout, ScanLayout } from './scan';
import type { AttributeStore } from './attr';
import { DeviceHandle, BufferFd } from './device';
import type { Device } from './device';
import { checkTriggerBeforeEnable } from './trigger';
import type { BufferInfo, DeviceInfo, ScanElementInfo } from './context';

export interface BufferSetup {
  /** Buffer index (`bufferN`), default 0. */
  index?: number;
  /** Channel ids to enable (`voltage0`, `accel_x`, `timestamp`); all scan elements when omitted. */
  channels?: string[];
  /** Scans per delivered block (input) or per write (output). */
  scansPerBlock: number;
  /** Kernel buffer length in scans; default 4 blocks. */
  length?: number;
}

export interface CapturedBlock {
  /** `scans × layout.scanBytes` bytes as the kernel delivered them; owned by the receiver. */
  data: Buffer;
  scans: number;
  /** Blocks delivered so far, this one included. */
  sequence: number;
  /**
   * True when scans were lost right before this block: the kernel buffer was found full (read()),
   * or the device had no DMABUF block to fill or cancelled one (DMABUF). Never set on timing alone.
   */
  overrun: boolean;
  /**
   * With `overrun`: how many scans were lost, estimated from the timestamp channel (the gap to the
   * previous block in sampling periods of that block). Absent when there is no timestamp channel.
   * A full buffer whose timestamps show no gap (read just in time) is not an overrun at all.
   */
  lost?: number;
}

export interface CaptureOptions extends BufferSetup {
  onBlock: (block: CapturedBlock) => void;
  onError: (err: IioError) => void;
}

function selectElements(device: DeviceInfo, buffer: BufferInfo, channels?: string[]): ScanElementInfo[] {
  if (!channels || channels.length === 0) return buffer.scanElements;
  const chosen = channels.map((id) => {
    const el = buffer.scanElements.find((e) => e.channel === id);
    if (!el) {
      const known = buffer.scanElements.map((e) => e.channel).join(', ');
      throw new IioError({ code: 'EINVAL', device: device.name, detail: `buffer${buffer.index} of ${device.name} has no channel "${id}" (it has: ${known})` });
    }
    return el;
  });
  return [...new Set(chosen)].sort((a, b) => a.index - b.index);
}

function checkScans(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1 << 24) {
    throw new IioError({ code: 'EINVAL', detail: `${what} must be an integer from 1 to ${1 << 24}, not ${String(n)}` });
  }
  return n;
}

/** How often running buffers are checked for having been disabled behind their back (ms). */
const ENABLE_CHECK_MS = 1000;

/**
 * Running streams, checked every ENABLE_CHECK_MS: poll(2) says nothing when someone else writes 0
 * to `bufferN/enable`, the stream just goes quiet. One timer for all, unref'd.
 */
const enabledWatch = new (class {
  private streams = new Set<BufferStream>();
  private timer: NodeJS.Timeout | null = null;
  add(s: BufferStream): void {
    this.streams.add(s);
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const x of [...this.streams]) x.checkStillEnabled();
    }, ENABLE_CHECK_MS);
    this.timer.unref();
  }
  delete(s: BufferStream): void {
    this.streams.delete(s);
    if (this.streams.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }
})();

/**
 * Common life cycle of a buffer: configure and enable on start, disable and close on close.
 * Both directions share it; only what happens when the fd is ready differs.
 */
export abstract class BufferStream {
  readonly buffer: BufferInfo;
  readonly elements: ScanElementInfo[];
  readonly layout: ScanLayout;
  readonly scansPerBlock: number;
  readonly length: number;
  protected readonly attrs: AttributeStore;
  protected handle: DeviceHandle | null = null;
  protected bfd: BufferFd | null = null;
  protected stopping: Promise<void> | null = null;
  /** Scan elements enabled before `start`, put back by `close`. */
  private previousScanElements: Set<string> | null = null;

  constructor(
    readonly device: Device,
    setup: BufferSetup,
    direction: 'in' | 'out',
    protected readonly reportError: (err: IioError) => void,
  ) {
    this.buffer = device.buffer(setup.index ?? 0, direction);
    this.elements = selectElements(device, this.buffer, setup.channels);
    this.layout = computeLayout(this.elements.map((e) => ({ name: e.channel, index: e.index, type: e.type, isTimestamp: e.channel === 'timestamp' })));
    this.scansPerBlock = checkScans(setup.scansPerBlock, 'scans per block');
    this.length = checkScans(setup.length ?? Math.max(4 * this.scansPerBlock, 16), 'buffer length');
    if (this.length < this.scansPerBlock) {
      throw new IioError({ code: 'EINVAL', device: device.name, detail: `buffer length ${this.length} is shorter than a block of ${this.scansPerBlock} scans` });
    }
    this.attrs = device.attrs;
  }

  get running(): boolean {
    return this.bfd !== null;
  }

  get fd(): number {
    return this.bfd?.fd ?? -1;
  }

  /** Opens the buffer fd, configures the scan elements, length and watermark, and enables it. */
  start(): void {
    if (this.handle) return;
    const dir = this.buffer.dir;
    const handle = this.device.openHandle();
    this.handle = handle;
    try {
      // Own the buffer before touching its configuration: a second user gets EBUSY here and must
      // not rewrite the scan elements of a capture that is running.
      this.bfd = handle.openBuffer(this.buffer.index);
      // Enabled with nobody holding its fd (e.g. left by a crashed process): take it over.
      if (this.attrs.readIntSync(`${dir}/enable`) !== 0) this.attrs.writeSync(`${dir}/enable`, 0);
      this.selectScanElements();
      this.attrs.writeSync(`${dir}/length`, this.length);
      if (this.buffer.attributes.includes('watermark')) this.attrs.writeSync(`${dir}/watermark`, this.watermark());
      this.attachBlocks(this.bfd.fd);
      if (this.device.triggerable) checkTriggerBeforeEnable(this.device);
      this.enable();
      // Waiting can fail too (EMFILE for the loop reader's duplicate fd): then nothing stays enabled.
      this.watchFds(this.bfd.fd);
    } catch (err) {
      this.closeAfterFailedStart();
      throw err;
    }
    enabledWatch.add(this);
  }

  /**
   * Enables exactly the wanted scan elements, remembering the previous set for `close`. Turns
   * channels off before turning others on: drivers that allow one channel at a time (ti-ads1015,
   * max11410, …) refuse a second one while the first is still on.
   */
  private selectScanElements(): void {
    const wanted = new Set(this.elements.map((e) => e.enableAttr));
    const before = new Set(this.buffer.scanElements.filter((el) => this.attrs.readIntSync(el.enableAttr) !== 0).map((el) => el.enableAttr));
    this.previousScanElements = before;
    this.setScanElements(before, wanted);
  }

  /** Moves the scan elements from the `current` enabled set to `wanted`: off first, then on. */
  private setScanElements(current: Set<string>, wanted: Set<string>): void {
    for (const el of this.buffer.scanElements) if (current.has(el.enableAttr) && !wanted.has(el.enableAttr)) this.attrs.writeSync(el.enableAttr, 0);
    for (const el of this.buffer.scanElements) {
      if (!wanted.has(el.enableAttr) || current.has(el.enableAttr)) continue;
      try {
        this.attrs.writeSync(el.enableAttr, 1);
      } catch (err) {
        if (!isIioError(err, 'EINVAL') || wanted.size < 2) throw err;
        const names = this.buffer.scanElements.filter((e) => wanted.has(e.enableAttr)).map((e) => e.channel).join(' + ');
        throw new IioError({
          code: 'EINVAL', errno: 22, syscall: 'write', path: `${this.device.sysfsPath}/${el.enableAttr}`, device: this.device.name, attribute: el.enableAttr,
          detail: `${this.device.name} refuses this channel combination (${names}): the driver accepts only the scan masks it supports (available_scan_masks; some allow one channel at a time)`,
        });
      }
    }
  }

  /** Puts back the scan elements that were enabled before `start` (best effort: the device may be gone). */
  private restoreScanElements(): void {
    const before = this.previousScanElements;
    this.previousScanElements = null;
    if (!before) return;
    try {
      const now = new Set(this.buffer.scanElements.filter((el) => this.attrs.readIntSync(el.enableAttr) !== 0).map((el) => el.enableAttr));
      this.setScanElements(now, before);
    } catch {
      /* restoring is a courtesy; the capture itself is over */
    }
  }

  /** Called by the enabled-watch: the buffer was disabled by someone else while running. */
  checkStillEnabled(): void {
    if (!this.bfd || this.stopping) return;
    let enabled: number;
    try {
      enabled = this.attrs.readIntSync(`${this.buffer.dir}/enable`);
    } catch {
      return; // the device is gone: the poll hang-up or the device watch reports that
    }
    if (enabled !== 0) return;
    this.reportError(new IioError({
      code: 'ECANCELED', errno: 125, path: `${this.device.sysfsPath}/${this.buffer.dir}/enable`, device: this.device.name, attribute: `${this.buffer.dir}/enable`,
      detail: `${this.buffer.dir} of ${this.device.name} was disabled by someone else while this capture/output was running`,
    }));
    void this.close();
  }

  /** Called with the buffer fd before the buffer is enabled (DMABUF: attach and enqueue blocks). */
  protected attachBlocks(_fd: number): void {}

  /** Called after the buffer is disabled, before its fd is closed (DMABUF: detach and free blocks). */
  protected detachBlocks(_fd: number): void {}

  /** Registers the fds to wait on: by default the buffer fd itself. */
  protected watchFds(fd: number): void {
    reactor.watch(fd, this.pollEvents(), (revents) => this.onReady(revents), (err) => this.reportError(this.asError(err)));
  }

  protected unwatchFds(fd: number): Promise<void> {
    return reactor.unwatch(fd);
  }

  protected asError(err: unknown): IioError {
    return toIioError(err, this.device.name);
  }

  /** The buffer fd went away (device removed): report once and close. */
  protected hungUp(): void {
    this.reportError(new IioError({ code: 'ENODEV', errno: 19, syscall: 'poll', path: this.device.devPath, device: this.device.name, detail: `buffer${this.buffer.index} hung up (device removed?)` }));
    void this.close();
  }

  /** Disables the buffer and closes its fd and the device handle. Safe to call twice; `start` opens it again. */
  close(): Promise<void> {
    this.stopping ??= this.teardown().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private enable(): void {
    const attr = `${this.buffer.dir}/enable`;
    try {
      this.attrs.writeSync(attr, 1);
    } catch (err) {
      // The kernel's EINVAL says nothing more; the usual cause is a triggered buffer with no trigger.
      if (err instanceof IioError && err.code === 'EINVAL' && this.device.triggerable && this.attrs.readStringSync('trigger/current_trigger') === '') {
        throw new IioError({ code: 'EINVAL', errno: 22, syscall: 'write', path: `${this.device.sysfsPath}/${attr}`, device: this.device.name, attribute: attr, detail: 'no trigger is attached to the device (set trigger/current_trigger first)' });
      }
      throw err;
    }
  }

  /** Scans the kernel waits for before it wakes a reader (or has room for before a writer): one block. */
  protected watermark(): number {
    return Math.min(this.scansPerBlock, this.length);
  }

  protected abstract pollEvents(): number;
  protected abstract onReadyData(): void;

  private onReady(revents: number): void {
    if (revents & (POLLERR | POLLHUP) && !(revents & (POLLIN | POLLOUT))) return this.hungUp();
    this.onReadyData();
  }

  private async teardown(): Promise<void> {
    const bfd = this.bfd;
    const handle = this.handle;
    if (!handle) return;
    this.bfd = null;
    this.handle = null;
    enabledWatch.delete(this);
    let firstError: unknown = null;
    if (bfd) await this.unwatchFds(bfd.fd);
    try {
      this.attrs.writeSync(`${this.buffer.dir}/enable`, 0);
    } catch (err) {
      // The device may be gone; closing must still release everything.
      if (!(err instanceof IioError && (err.code === 'ENOENT' || err.code === 'ENODEV'))) firstError = err;
    }
    if (bfd) {
      try {
        this.detachBlocks(bfd.fd);
      } catch (err) {
        firstError ??= err;
      }
    }
    if (bfd?.owned) handle.closeFd(bfd.fd);
    handle.close();
    this.restoreScanElements();
    if (firstError) throw firstError;
  }

  private closeAfterFailedStart(): void {
    // Without the buffer fd the buffer is someone else's: leave its state alone.
    if (!this.bfd) {
      this.handle?.close();
      this.handle = null;
      return;
    }
    try {
      this.attrs.writeSync(`${this.buffer.dir}/enable`, 0);
    } catch {
      /* the original error matters more */
    }
    if (this.bfd) {
      try {
        this.detachBlocks(this.bfd.fd);
      } catch {
        /* as above */
      }
    }
    if (this.bfd?.owned) this.handle?.closeFd(this.bfd.fd);
    this.bfd = null;
    this.handle?.close();
    this.handle = null;
    this.restoreScanElements();
  }
}

/**
 * Counts the scans lost in a gap from the timestamp channel: the time between the last scan before
 * the gap and the first after it, in the sampling period seen inside the block before. Consulted
 * only for blocks already known to follow a loss, so a slow or jittery trigger never counts as one.
 */
export class TimestampGaps {
  private lastTs: bigint | null = null;
  private periodNs = 0;
  /** Scans counted lost so far. */
  lost = 0;

  /** Whether the timestamp is little-endian (looked up once: observe runs for every block). */
  private readonly le: boolean;

  constructor(private readonly layout: ScanLayout) {
    this.le = layout.elements.find((e) => e.isTimestamp)?.type.endian !== 'be';
  }

  /**
   * Notes a delivered block. `gapAt` is where a known loss sits: before scan `gapAt` of this block
   * (0: before its first scan), or null for none. Returns the scans lost there, when countable.
   */
  observe(data: Buffer, scans: number, gapAt: number | null): number | undefined {
    const off = this.layout.timestampOffset;
    if (off === undefined || scans < 1) return undefined;
    const le = this.le;
    const at = (i: number) => (le ? data.readBigInt64LE(i * this.layout.scanBytes + off) : data.readBigInt64BE(i * this.layout.scanBytes + off));
    const first = at(0);
    const last = at(scans - 1);
    let lost: number | undefined;
    if (gapAt !== null && gapAt < scans) {
      const before = gapAt === 0 ? this.lastTs : at(gapAt - 1);
      // The period seen on the side of the gap that has several scans.
      const period = gapAt > 1 ? Number(at(gapAt - 1) - first) / (gapAt - 1) : this.periodNs;
      if (before !== null && period > 0) {
        lost = Math.max(0, Math.round(Number(at(gapAt) - before) / period) - 1);
        this.lost += lost;
      }
    }
    this.lastTs = last;
    if (scans > 1 && last > first) this.periodNs = Number(last - first) / (scans - 1);
    return lost;
  }
}

/** Most bytes one read() asks for; larger kernel buffers are read in several calls. */
const MAX_READ_BYTES = 16 << 20;
/** Most blocks one readv() fills in place; with more (tiny blocks) reads go through a staging buffer. */
const MAX_READV_BLOCKS = 64;
/** Most bytes one read of the event-loop reader asks for (larger kernel buffers take several reads). */
const LOOP_READ_MAX = 1 << 20;
/** Blocks smaller than this are read on the event loop, larger ones through the reactor (see watchFds). */
const LOOP_READ_BELOW_BYTES = 16 << 10;

/** Most reads per wake-up, and the bytes they may take (at least two full kernel buffers). */
const DRAIN_ROUNDS = 8;
const DRAIN_BUDGET_BYTES = 256 << 10;

/** Input: delivers blocks of exactly `scansPerBlock` scans. */
export class CaptureStream extends BufferStream {
  private block: Buffer;
  private filled = 0;
  private sequence = 0;
  private overrunPending = false;
  /** Where in the block being filled the loss sits (scan index), once a full buffer was read. */
  private gapAt = 0;
  /** Blocks after which the kernel buffer had filled up (scans arriving meanwhile were dropped). */
  overruns = 0;
  /** Scans lost in those gaps, where the timestamp channel lets us count them. */
  readonly gaps: TimestampGaps;
  private readonly blockBytes: number;
  /** What one read() asks for: everything the kernel buffer can hold, so a full read means a full buffer. */
  private readonly readBytes: number;
  /** Staging for reads when blocks are too small to be read into in place (see MAX_READV_BLOCKS). */
  private readonly staging: Buffer | null;
  /** Whether a read() that fills `readBytes` proves the kernel buffer was full. */
  private readonly detectsFull: boolean;
  /** Blocks to fill next, in order, never handed out (readv() fills them in place). */
  private spare: Buffer[] = [];
  /** `borrow`: the receiver reads a block only during onBlock, so its memory is reused. */
  private readonly borrow: boolean;
  /** Reading on the event loop (the backend's readOnLoop), when it has one. */
  private loopReader: LoopReader | null = null;
  /** Where the loop reader's current read goes, and the bytes read since it last caught up. */
  private loopTarget: Buffer | null = null;
  private loopDrained = 0;
  /**
   * The loop reader reads in place into a slab of whole blocks, as much as the kernel buffer holds
   * per read, and hands the blocks out as views of it (no copy). A new slab once it is used up
   * (`borrow`: the same one again). `slabPos`: bytes read into it; `slabBlock`: where the block
   * being filled starts.
   */
  private slab: Buffer | null = null;
  private slabPos = 0;
  private slabBlock = 0;

  constructor(device: Device, private readonly opts: CaptureOptions) {
    super(device, opts, 'in', opts.onError);
    this.blockBytes = this.scansPerBlock * this.layout.scanBytes;
    this.block = Buffer.allocUnsafe(this.blockBytes);
    this.gaps = new TimestampGaps(this.layout);
    // The kfifo behind a read() buffer holds `length` rounded up to a power of two.
    const capacity = 2 ** Math.ceil(Math.log2(this.length)) * this.layout.scanBytes;
    this.detectsFull = capacity <= MAX_READ_BYTES;
    this.readBytes = Math.min(capacity, MAX_READ_BYTES);
    // readv() reads segment by segment, so a fast producer can refill the buffer between them:
    // a full readv() then only suggests a full buffer. The timestamps settle it (a gap or none,
    // as for a buffer read just as it filled up); without a timestamp channel one read() is the proof.
    const inPlace = Math.ceil(this.readBytes / this.blockBytes) + 1 <= MAX_READV_BLOCKS && this.layout.timestampOffset !== undefined;
    this.staging = inPlace ? null : Buffer.allocUnsafe(this.readBytes);
    this.borrow = (opts as { payload?: unknown }).payload === 'borrow';
  }

  protected pollEvents(): number {
    return POLLIN;
  }

  /**
   * Small blocks are read on the event loop (the backend's readOnLoop), large ones through the
   * reactor. Small blocks come often, and a wake-up on the event loop costs much less than the
   * reactor's thread-pool poll round trip; large blocks are fewer, and there the reactor's slower
   * wake-up lets several gather for one readv(), which costs less per block. Measured under QEMU
   * against iio_readdev in one run: 4 KiB blocks 0.9-1.4x on the loop, 0.4-1.1x with the reactor;
   * 16 KiB mixed; 32 and 64 KiB 0.8-1.2x on the loop, 1.15-1.7x with the reactor.
   */
  protected override watchFds(fd: number): void {
    const k = kernel();
    if (!k.readOnLoop || this.blockBytes >= LOOP_READ_BELOW_BYTES) return super.watchFds(fd);
    this.loopDrained = 0;
    this.slab = null;
    this.loopReader = k.readOnLoop(fd, { target: () => this.nextTarget(), onRead: (n) => this.onLoopRead(n), onError: (err) => this.onLoopError(err) }, { path: this.device.devPath, device: this.device.name });
  }

  protected override unwatchFds(fd: number): Promise<void> {
    const r = this.loopReader;
    if (!r) return super.unwatchFds(fd);
    this.loopReader = null;
    return r.close();
  }

  /**
   * Where the loop reader reads next: as much as the kernel buffer holds (up to LOOP_READ_MAX), so
   * one read takes all that is there, however many blocks. A read that fills the whole kernel
   * buffer's size proves it was full; several reads that reach it without catching up suggest it
   * (the timestamps settle it). Without a slab (see `staging`) the staging buffer is read into.
   */
  private nextTarget(): Buffer {
    const want = this.readBytes - this.loopDrained;
    if (this.staging) return (this.loopTarget = want >= this.staging.length ? this.staging : this.staging.subarray(0, want));
    if (!this.slab || this.slabPos === this.slab.length) {
      if (!(this.borrow && this.slab)) this.slab = Buffer.allocUnsafe(this.blockBytes * (Math.ceil(Math.min(this.readBytes, LOOP_READ_MAX) / this.blockBytes) + 1));
      this.slabPos = this.slabBlock = 0;
    }
    return (this.loopTarget = this.slab.subarray(this.slabPos, this.slabPos + Math.min(this.slab.length - this.slabPos, want)));
  }

  private onLoopRead(n: number): void {
    if (!this.bfd) return;
    const asked = this.loopTarget!.length;
    if (this.staging) this.distribute(this.staging, n);
    else {
      this.slabPos += n;
      while (this.slabPos - this.slabBlock >= this.blockBytes) {
        const data = this.slab!.subarray(this.slabBlock, this.slabBlock + this.blockBytes);
        this.slabBlock += this.blockBytes;
        this.deliver(data);
        if (!this.bfd) return;
      }
    }
    this.loopDrained += n;
    if (n < asked) {
      this.loopDrained = 0; // caught up
      return;
    }
    if (this.loopDrained < this.readBytes) return;
    // The kernel buffer's whole size without catching up: it was full (see onReadyData).
    this.loopDrained = 0;
    if (this.detectsFull && !this.overrunPending) {
      this.overrunPending = true;
      this.gapAt = (this.staging ? this.filled : this.slabPos - this.slabBlock) / this.layout.scanBytes;
    }
  }

  private onLoopError(err: unknown): void {
    if (!this.bfd) return;
    this.reportError(this.asError(err));
    void this.close();
  }

  protected onReadyData(): void {
    const site = { path: this.device.devPath, device: this.device.name };
    // Drain what is there, bounded so one busy device cannot starve the event loop. A read that
    // brought a whole block or more means the producer is ahead: reading again at once is far
    // cheaper than a poll round trip through the thread pool, and finds the scans that came
    // while the last ones were delivered. Less than a block: caught up, wait for the watermark.
    const budget = Math.max(2 * this.readBytes, DRAIN_BUDGET_BYTES);
    for (let round = 0, taken = 0; round < DRAIN_ROUNDS && taken < budget; round++) {
      const n = this.staging ? kernel().read(this.bfd!.fd, this.staging, this.readBytes, site) : kernel().readv(this.bfd!.fd, this.nextBlocks(), site);
      if (n === null || n === 0) return;
      taken += n;
      if (this.staging) this.distribute(this.staging, n);
      else this.account(n);
      if (!this.bfd) return; // stopped by the consumer
      if (n < this.readBytes) {
        if (n >= this.blockBytes) continue;
        return; // drained
      }
      // The whole kernel buffer at once: it was full, and the kernel dropped scans that came
      // meanwhile. Not a guess from timing: a buffer with room left gives a shorter read.
      if (this.detectsFull && !this.overrunPending) {
        this.overrunPending = true;
        this.gapAt = this.filled / this.layout.scanBytes;
      }
    }
  }

  /** The rest of the current block, then spare blocks: `readBytes` in all, for one readv(). */
  private nextBlocks(): Buffer[] {
    const iov = [this.filled === 0 ? this.block : this.block.subarray(this.filled)];
    let room = this.blockBytes - this.filled;
    for (let i = 0; room < this.readBytes; i++, room += this.blockBytes) {
      if (i === this.spare.length) this.spare.push(Buffer.allocUnsafe(this.blockBytes));
      iov.push(this.spare[i]);
    }
    const last = iov.length - 1;
    if (room > this.readBytes) iov[last] = iov[last].subarray(0, iov[last].length - (room - this.readBytes));
    return iov;
  }

  /** `n` bytes were read in place into the current block and the spare blocks after it. */
  private account(n: number): void {
    while (n > 0) {
      const take = Math.min(this.blockBytes - this.filled, n);
      this.filled += take;
      n -= take;
      if (this.filled === this.blockBytes) {
        this.emit();
        if (!this.bfd) return;
      }
    }
  }

  /** Cuts the first `n` bytes of `staging` into blocks. */
  private distribute(staging: Buffer, n: number): void {
    let off = 0;
    while (off < n) {
      const take = Math.min(this.blockBytes - this.filled, n - off);
      staging.copy(this.block, this.filled, off, off + take);
      this.filled += take;
      off += take;
      if (this.filled === this.blockBytes) {
        this.emit();
        if (!this.bfd) return;
      }
    }
  }

  private emit(): void {
    const data = this.block;
    this.block = this.spare.shift() ?? Buffer.allocUnsafe(this.blockBytes);
    this.filled = 0;
    this.deliver(data);
    // Borrowed: the receiver is done with it. Filled again after the blocks already waiting.
    if (this.borrow) this.spare.push(data);
  }

  /** Hands a full block to the receiver, with what is known of a loss before it. */
  private deliver(data: Buffer): void {
    const lost = this.gaps.observe(data, this.scansPerBlock, this.overrunPending ? this.gapAt : null);
    // Read just as it filled up, the buffer lost nothing: the timestamps tell, where there are any.
    const overrun = this.overrunPending && lost !== 0;
    if (overrun) this.overruns++;
    this.overrunPending = false;
    const block: CapturedBlock = { data, scans: this.scansPerBlock, sequence: ++this.sequence, overrun };
    if (overrun && lost !== undefined) block.lost = lost;
    this.opts.onBlock(block);
  }
}

export interface OutputOptions extends BufferSetup {
  /** Blocks queued in userspace before `write` reports backpressure; default 4. */
  queueLimit?: number;
  onError: (err: IioError) => void;
  /** Called when the queue has room again after `write` returned false. */
  onDrain?: () => void;
}

/** Output: queues blocks and writes them as the kernel buffer makes room (POLLOUT). */
export class OutputStream extends BufferStream {
  private queue: Buffer[] = [];
  private offset = 0;
  private blocked = false;
  /** Bytes written to the kernel so far. */
  written = 0;

  constructor(device: Device, private readonly opts: OutputOptions) {
    super(device, opts, 'out', opts.onError);
  }

  protected pollEvents(): number {
    return 0; // paused until there is something to write
  }

  /** Scan bytes must be whole scans of `layout`. Returns false when the caller should wait for onDrain. */
  write(data: Buffer): boolean {
    if (!this.running) throw new IioError({ code: 'EPIPE', device: this.device.name, detail: 'output buffer is not running' });
    if (data.length === 0 || data.length % this.layout.scanBytes !== 0) {
      throw new IioError({ code: 'EINVAL', device: this.device.name, detail: `output of ${data.length} bytes is not a whole number of ${this.layout.scanBytes}-byte scans` });
    }
    this.queue.push(data);
    reactor.setEvents(this.fd, POLLOUT);
    const full = this.queue.length >= (this.opts.queueLimit ?? 4);
    if (full) this.blocked = true;
    return !full;
  }

  /** Blocks waiting in userspace. */
  get queued(): number {
    return this.queue.length;
  }

  protected onReadyData(): void {
    const site = { path: this.device.devPath, device: this.device.name };
    while (this.queue.length > 0) {
      const head = this.queue[0];
      const n = kernel().write(this.bfd!.fd, head.subarray(this.offset), head.length - this.offset, site);
      if (n === null || n === 0) break;
      this.written += n;
      this.offset += n;
      if (this.offset === head.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    if (this.queue.length === 0) reactor.setEvents(this.fd, 0);
    if (this.blocked && this.queue.length < (this.opts.queueLimit ?? 4)) {
      this.blocked = false;
      this.opts.onDrain?.();
    }
  }
}
