// Buffered capture and output through read()/write() on a buffer fd: configure the scan elements,
// length and watermark in sysfs, enable last; read whole blocks when the reactor says the
// watermark is reached (per-block syscalls, never per-sample); disable and release on stop.
import { IioError } from './errors';
import { readInto, writeFrom, POLLERR, POLLHUP, POLLIN, POLLOUT } from './libc';
import { reactor } from './reactor';
import { computeLayout, ScanLayout } from './scan';
import { AttributeDir } from './attr';
import { DeviceHandle, BufferFd } from './device';
import { asIioError } from './events';
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
  /** True when the kernel buffer was found full since the last block: scans were probably dropped. */
  overrun: boolean;
}

export interface CaptureOptions extends BufferSetup {
  onBlock: (block: CapturedBlock) => void;
  onError: (err: IioError) => void;
}

/** Finds buffer `index` of `device` with the wanted direction, or throws ENODEV naming it. */
export function findBuffer(device: DeviceInfo, index: number, direction: 'in' | 'out'): BufferInfo {
  const b = device.buffers.find((x) => x.index === index);
  if (!b) throw new IioError({ code: 'ENODEV', errno: 19, device: device.name, detail: `${device.name} has no buffer${index}` });
  if (b.direction !== direction) {
    throw new IioError({ code: 'EINVAL', device: device.name, detail: `buffer${index} of ${device.name} is an ${b.direction}put buffer` });
  }
  return b;
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

/**
 * Common life cycle of a buffer: configure and enable on start, disable and release on stop.
 * Both directions share it; only what happens when the fd is ready differs.
 */
export abstract class BufferStream {
  readonly buffer: BufferInfo;
  readonly elements: ScanElementInfo[];
  readonly layout: ScanLayout;
  readonly scansPerBlock: number;
  readonly length: number;
  protected readonly attrs: AttributeDir;
  protected handle: DeviceHandle | null = null;
  protected bfd: BufferFd | null = null;
  protected stopping: Promise<void> | null = null;

  constructor(
    readonly device: DeviceInfo,
    setup: BufferSetup,
    direction: 'in' | 'out',
    protected readonly reportError: (err: IioError) => void,
  ) {
    this.buffer = findBuffer(device, setup.index ?? 0, direction);
    this.elements = selectElements(device, this.buffer, setup.channels);
    this.layout = computeLayout(this.elements.map((e) => ({ name: e.channel, index: e.index, type: e.type, isTimestamp: e.channel === 'timestamp' })));
    this.scansPerBlock = checkScans(setup.scansPerBlock, 'scans per block');
    this.length = checkScans(setup.length ?? Math.max(4 * this.scansPerBlock, 16), 'buffer length');
    if (this.length < this.scansPerBlock) {
      throw new IioError({ code: 'EINVAL', device: device.name, detail: `buffer length ${this.length} is shorter than a block of ${this.scansPerBlock} scans` });
    }
    this.attrs = new AttributeDir(device.sysfsPath, device.name);
  }

  get running(): boolean {
    return this.bfd !== null;
  }

  get fd(): number {
    return this.bfd?.fd ?? -1;
  }

  /** Configures the scan elements, length and watermark, opens the buffer fd and enables it. */
  start(): void {
    if (this.handle) return;
    const dir = this.buffer.dir;
    const handle = DeviceHandle.acquire(this.device);
    this.handle = handle;
    try {
      // A buffer left enabled (e.g. by a crashed process) cannot be reconfigured: take it over.
      if (this.attrs.readIntSync(`${dir}/enable`) !== 0) this.attrs.writeSync(`${dir}/enable`, 0);
      const wanted = new Set(this.elements.map((e) => e.enableAttr));
      // Clear the unwanted elements first: a one-channel-at-a-time device (available_scan_masks)
      // refuses a second element while the previous capture's is still set.
      for (const el of this.buffer.scanElements) if (!wanted.has(el.enableAttr)) this.attrs.writeSync(el.enableAttr, 0);
      for (const el of this.elements) this.attrs.writeSync(el.enableAttr, 1);
      this.attrs.writeSync(`${dir}/length`, this.length);
      if (this.buffer.attributes.includes('watermark')) this.attrs.writeSync(`${dir}/watermark`, this.watermark());
      this.bfd = handle.openBuffer(this.buffer.index);
      this.attachBlocks(this.bfd.fd);
      this.enable();
    } catch (err) {
      this.releaseAfterFailedStart();
      throw err;
    }
    this.watchFds(this.bfd.fd);
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
    return asIioError(err, this.device);
  }

  /** The buffer fd went away (device removed): report once and stop. */
  protected hungUp(): void {
    this.reportError(new IioError({ code: 'ENODEV', errno: 19, syscall: 'poll', path: this.device.devPath, device: this.device.name, detail: `buffer${this.buffer.index} hung up (device removed?)` }));
    void this.stop();
  }

  /** Disables the buffer and releases its fd and the device handle. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= this.release().finally(() => {
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

  protected abstract watermark(): number;
  protected abstract pollEvents(): number;
  protected abstract onReadyData(): void;

  private onReady(revents: number): void {
    if (revents & (POLLERR | POLLHUP) && !(revents & (POLLIN | POLLOUT))) return this.hungUp();
    this.onReadyData();
  }

  private async release(): Promise<void> {
    const bfd = this.bfd;
    const handle = this.handle;
    if (!handle) return;
    this.bfd = null;
    this.handle = null;
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
    handle.release();
    if (firstError) throw firstError;
  }

  private releaseAfterFailedStart(): void {
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
    this.handle?.release();
    this.handle = null;
  }
}

/** Input: delivers blocks of exactly `scansPerBlock` scans. */
export class CaptureStream extends BufferStream {
  private block: Buffer;
  private filled = 0;
  private sequence = 0;
  private overrunPending = false;
  /** Blocks in which the kernel buffer had filled up (samples probably lost). */
  overruns = 0;
  private readonly blockBytes: number;

  constructor(device: DeviceInfo, private readonly opts: CaptureOptions) {
    super(device, opts, 'in', opts.onError);
    this.blockBytes = this.scansPerBlock * this.layout.scanBytes;
    this.block = Buffer.allocUnsafe(this.blockBytes);
  }

  protected watermark(): number {
    return Math.min(this.scansPerBlock, this.length);
  }

  protected pollEvents(): number {
    return POLLIN;
  }

  protected onReadyData(): void {
    const site = { path: this.device.devPath, device: this.device.name };
    // Drain what is there, bounded so one busy device cannot starve the event loop.
    let readThisTime = 0;
    const limit = this.length * this.layout.scanBytes;
    while (readThisTime < limit) {
      const n = readInto(this.bfd!.fd, this.block.subarray(this.filled), this.blockBytes - this.filled, site);
      if (n === null || n === 0) break;
      this.filled += n;
      readThisTime += n;
      if (this.filled === this.blockBytes) this.emit();
      if (!this.bfd) return; // stopped by the consumer
    }
    // Reading a whole kernel buffer at once means it was full: the kernel dropped what came next.
    if (readThisTime >= limit) {
      this.overrunPending = true;
    }
  }

  private emit(): void {
    const data = this.block;
    this.block = Buffer.allocUnsafe(this.blockBytes);
    this.filled = 0;
    const overrun = this.overrunPending;
    if (overrun) this.overruns++;
    this.overrunPending = false;
    this.opts.onBlock({ data, scans: this.scansPerBlock, sequence: ++this.sequence, overrun });
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

  constructor(device: DeviceInfo, private readonly opts: OutputOptions) {
    super(device, opts, 'out', opts.onError);
  }

  protected watermark(): number {
    return Math.min(this.scansPerBlock, this.length);
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
      const n = writeFrom(this.bfd!.fd, head.subarray(this.offset), head.length - this.offset, site);
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
