// A fake kernel behind the Backend contract, for host tests of the runtime: an in-memory sysfs tree
// and chardevs whose buffers, event fds, eventfds and DMABUFs behave as the IIO UAPI says (per
// DESIGN.md §3), with failures injectable per operation. Tests drive the "device" side by hand:
// push scans, raise events, complete DMABUF blocks, hang up.
import * as path from 'node:path';
import type { Backend, CallSite, DirEntry, MappedRegion } from '../../src/backend';
import { IioError, errnoFromCode } from '../../src/errors';
import { useBackend } from '../../src/local-backend';
import { reactor } from '../../src/reactor';
import { DeviceHandle } from '../../src/device';
import { IioContext } from '../../src/context';
import type { Device } from '../../src/device';
import {
  DMA_BUF_IOCTL_SYNC, DMA_HEAP_IOCTL_ALLOC, IIO_BUFFER_DMABUF_ATTACH_IOCTL, IIO_BUFFER_DMABUF_DETACH_IOCTL, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL,
  IIO_BUFFER_GET_FD_IOCTL, IIO_GET_EVENT_FD_IOCTL, IIO_EVENT_DATA_SIZE, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, O_NONBLOCK,
  decodeDmabuf, decodeDmaBufSync, decodeDmaHeapAllocLen, decodeInt, decodePollfd, encodeDmaHeapAllocFdInto, encodeEventDataInto,
  encodeIntInto, encodePollReventsInto,
  IIO_BUFFER_BLOCK_ALLOC_IOCTL, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, IIO_BUFFER_BLOCK_FLAG_CYCLIC,
  IIO_BUFFER_BLOCK_FREE_IOCTL, IIO_BUFFER_BLOCK_QUERY_IOCTL, decodeBlockAllocReq, decodeBufferBlock, encodeBlockAllocReq, encodeBufferBlockInto,
} from '../../src/uapi';

/** One block of ADI's mmap block API: kernel memory at `offset` of the buffer fd. */
export interface FakeMmapBlock {
  id: number;
  offset: number;
  size: number;
  data: Buffer;
  bytesUsed: number;
  flags: number;
  state: 'user' | 'queued' | 'done';
}

export interface FakeBuffer {
  index: number;
  direction: 'in' | 'out';
  /** Whether IIO_BUFFER_DMABUF_ATTACH works (a DMA buffer) or fails with EPERM (kfifo). */
  dmabuf: boolean;
  /** Bytes the device produced (input) or userspace wrote (output). */
  data: Buffer[];
  /** Output: bytes the kernel buffer still takes before write() gives EAGAIN. */
  room: number;
  fd: number | null;
  attached: Set<number>;
  /** DMABUFs enqueued, in order, with their bytes_used and flags. */
  queue: Array<{ fd: number; bytesUsed: number; flags: number }>;
  hup: boolean;
  /** Whether the buffer fd answers ADI's mmap block ioctls (else ENOTTY, as a mainline one does). */
  blockApi: boolean;
  /** mmap blocks allocated (ALLOC … FREE). */
  mmapBlocks: FakeMmapBlock[];
  /** Ids of the enqueued mmap blocks, in order; then those the device finished, for DEQUEUE. */
  blockQueue: number[];
  blockDone: number[];
}

export interface FakeDevice {
  id: string;
  devPath: string;
  sysfsPath: string;
  buffers: FakeBuffer[];
  chardevFd: number | null;
  /** Whether the device has events (else IIO_GET_EVENT_FD gives ENODEV). */
  hasEvents: boolean;
  eventFd: number | null;
  events: Buffer[];
  /** Kernel before 5.11: IIO_BUFFER_GET_FD gives ENOTTY. */
  noGetFd: boolean;
  /** open(2) refuses O_RDWR with this code (e.g. EACCES: read-only permission). */
  refuseRdwr?: string;
}

type FdState =
  | { kind: 'chardev'; dev: FakeDevice; flags: number }
  | { kind: 'buffer'; dev: FakeDevice; buf: FakeBuffer }
  | { kind: 'events'; dev: FakeDevice }
  | { kind: 'eventfd'; count: bigint }
  | { kind: 'dmabuf'; data: Buffer; signalled: boolean; syncs: number[]; error?: boolean }
  | { kind: 'heap' }
  | { kind: 'memfd'; size: number };

interface Failure {
  op: string;
  code: string;
  times: number;
  when?: (arg: unknown) => boolean;
}

export interface ScanElementSpec {
  name: string;
  index: number;
  type: string;
}

export interface DeviceSpec {
  id?: string;
  name: string;
  label?: string;
  /** Extra sysfs files (relative path → text). */
  files?: Record<string, string>;
  buffers?: Array<{ direction?: 'in' | 'out'; dmabuf?: boolean; blockApi?: boolean; elements: ScanElementSpec[]; watermark?: boolean }>;
  triggerable?: boolean;
  hasEvents?: boolean;
}

const errnoError = (code: string, syscall: string, file?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${syscall} ${file ?? ''}`), { code, errno: -errnoFromCode(code), syscall, path: file });

export class FakeBackend implements Backend {
  readonly name = 'fake';
  readonly root = '/sys/bus/iio/devices';
  readonly files = new Map<string, string | Buffer>();
  readonly dirs = new Set<string>(['/']);
  readonly devices = new Map<string, FakeDevice>();
  readonly fds = new Map<number, FdState>();
  /** Every sysfs write, in order: `path=text`. */
  readonly writes: string[] = [];
  /** Every ioctl by request name, in order. */
  readonly ioctls: string[] = [];
  /** Called after a sysfs file is written (a device reacting to its attributes). */
  onWrite: ((file: string, text: string) => void) | null = null;
  /** Open in which dmabuf heap and udmabuf are present. */
  heap = true;
  private failures: Failure[] = [];
  private nextFd = 10;
  private waiters: Array<() => boolean> = [];
  /** Mappings made and not yet unmapped. */
  mapped = 0;

  // ---------------------------------------------------------------- the tree

  mkdirp(dir: string): void {
    for (let d = dir; !this.dirs.has(d); d = path.dirname(d)) this.dirs.add(d);
  }

  setFile(file: string, text: string | Buffer): void {
    this.mkdirp(path.dirname(file));
    this.files.set(file, text);
  }

  text(file: string): string {
    const t = this.files.get(file);
    if (t === undefined) throw new Error(`fake: no file ${file}`);
    return t.toString().trim();
  }

  /** Adds an IIO device with sysfs files and a chardev. */
  addDevice(spec: DeviceSpec): FakeDevice {
    const id = spec.id ?? `iio:device${this.devices.size}`;
    const sysfsPath = path.join(this.root, id);
    const files: Record<string, string> = { name: spec.name, ...(spec.label ? { label: spec.label } : {}), ...spec.files };
    if (spec.triggerable) files['trigger/current_trigger'] = '';
    const buffers: FakeBuffer[] = [];
    (spec.buffers ?? []).forEach((b, index) => {
      const dir = `buffer${index}`;
      files[`${dir}/enable`] = '0';
      files[`${dir}/length`] = '0';
      if (b.watermark !== false) files[`${dir}/watermark`] = '1';
      files[`${dir}/data_available`] = '0';
      if (b.direction === 'out') files[`${dir}/direction`] = 'out';
      for (const el of b.elements) {
        const dirn = b.direction === 'out' ? 'out' : 'in';
        files[`${dir}/${dirn}_${el.name}_en`] = '0';
        files[`${dir}/${dirn}_${el.name}_index`] = String(el.index);
        files[`${dir}/${dirn}_${el.name}_type`] = el.type;
        if (el.name !== 'timestamp') files[`${dirn}_${el.name}_raw`] ??= '0';
      }
      buffers.push({ index, direction: b.direction ?? 'in', dmabuf: b.dmabuf ?? false, data: [], room: 1 << 20, fd: null, attached: new Set(), queue: [], hup: false, blockApi: b.blockApi ?? false, mmapBlocks: [], blockQueue: [], blockDone: [] });
    });
    for (const [rel, text] of Object.entries(files)) this.setFile(path.join(sysfsPath, rel), `${text}\n`);
    this.mkdirp(sysfsPath);
    const dev: FakeDevice = { id, devPath: `/dev/${id}`, sysfsPath, buffers, chardevFd: null, hasEvents: spec.hasEvents ?? false, eventFd: null, events: [], noGetFd: false };
    this.devices.set(dev.devPath, dev);
    return dev;
  }

  /**
   * The kernel side of triggers: writing N to iio_sysfs_trigger/add_trigger, or mkdir in configfs's
   * hrtimer directory, registers a trigger (a triggerN directory); remove_trigger and rmdir drop it.
   */
  addTriggerSupport(): void {
    this.setFile(`${this.root}/iio_sysfs_trigger/add_trigger`, '');
    this.setFile(`${this.root}/iio_sysfs_trigger/remove_trigger`, '');
    this.mkdirp('/sys/kernel/config/iio/triggers/hrtimer');
    let n = 0;
    const add = (name: string) => {
      const dir = `${this.root}/trigger${n++}`;
      this.setFile(`${dir}/name`, `${name}\n`);
      this.setFile(`${dir}/sampling_frequency`, '100\n');
      this.setFile(`${dir}/trigger_now`, '');
    };
    const remove = (name: string) => {
      for (const d of [...this.dirs]) {
        if (!/\/trigger\d+$/.test(d) || this.files.get(`${d}/name`)?.toString().trim() !== name) continue;
        for (const f of [...this.files.keys()]) if (f.startsWith(`${d}/`)) this.files.delete(f);
        this.dirs.delete(d);
      }
    };
    const previous = this.onWrite;
    this.onWrite = (file, text) => {
      previous?.(file, text);
      if (file.endsWith('/add_trigger')) add(`sysfstrig${text}`);
      if (file.endsWith('/remove_trigger')) remove(`sysfstrig${text}`);
      if (file.startsWith('/sys/kernel/config/') && text === 'mkdir') add(path.basename(file));
      if (file.startsWith('/sys/kernel/config/') && text === 'rmdir') remove(path.basename(file));
    };
  }

  /** Removes a device: its sysfs directory vanishes and its open fds hang up. */
  removeDevice(dev: FakeDevice): void {
    for (const f of [...this.files.keys()]) if (f.startsWith(`${dev.sysfsPath}/`)) this.files.delete(f);
    for (const d of [...this.dirs]) if (d === dev.sysfsPath || d.startsWith(`${dev.sysfsPath}/`)) this.dirs.delete(d);
    this.devices.delete(dev.devPath);
    for (const b of dev.buffers) b.hup = true;
    this.hangUpEvents = this.hangUpEvents.concat(dev.eventFd ?? []);
    this.notify();
  }

  private hangUpEvents: number[] = [];

  // ---------------------------------------------------------------- the device side

  enabled(dev: FakeDevice, index = 0): boolean {
    return this.text(path.join(dev.sysfsPath, `buffer${index}/enable`)) === '1';
  }

  /** The device produces `bytes` into buffer `index` (dropped unless enabled, as a disabled buffer does). */
  produce(dev: FakeDevice, bytes: Buffer, index = 0): void {
    const b = dev.buffers[index];
    if (!this.enabled(dev, index)) return;
    b.data.push(Buffer.from(bytes));
    this.notify();
  }

  /** Raises an event on the device's event fd. */
  raiseEvent(dev: FakeDevice, id: bigint, timestamp: bigint): void {
    const rec = Buffer.alloc(IIO_EVENT_DATA_SIZE);
    encodeEventDataInto(rec, { id, timestamp });
    dev.events.push(rec);
    this.notify();
  }

  /**
   * The device fills the first enqueued DMABUF of buffer `index` with `fill` (the rest keeps what
   * it had) and signals its fence. With `cancel`, signals it without writing (a cancelled block).
   */
  completeBlock(dev: FakeDevice, index = 0, fill?: Buffer, cancel = false): number {
    const b = dev.buffers[index];
    const q = b.queue.shift();
    if (!q) throw new Error('fake: no DMABUF enqueued');
    const st = this.fds.get(q.fd);
    if (st?.kind !== 'dmabuf') throw new Error('fake: enqueued fd is not a DMABUF');
    if (!cancel) {
      if (fill) fill.copy(st.data, 0, 0, Math.min(fill.length, q.bytesUsed));
      else st.data.fill(0xa5, 0, q.bytesUsed);
    }
    st.signalled = true;
    this.notify();
    return q.fd;
  }

  /**
   * The device finishes the first enqueued mmap block of buffer `index`: input, fills it with
   * `fill` (default 0xa5) and sets bytes_used to that length (a `fill` shorter than the block is a
   * block cut short, as a disable leaves it; an empty one a cancelled block); output, takes its
   * bytes_used bytes into `data`. The fd polls ready until DEQUEUE takes it. Returns its id.
   */
  finishMmapBlock(dev: FakeDevice, index = 0, fill?: Buffer): number {
    const b = dev.buffers[index];
    const id = b.blockQueue.shift();
    if (id === undefined) throw new Error('fake: no mmap block enqueued');
    const blk = b.mmapBlocks[id];
    if (b.direction === 'in') {
      const bytes = fill ?? Buffer.alloc(blk.size, 0xa5);
      bytes.copy(blk.data, 0, 0, Math.min(bytes.length, blk.size));
      blk.bytesUsed = Math.min(bytes.length, blk.size);
    } else {
      b.data.push(Buffer.from(blk.data.subarray(0, blk.bytesUsed)));
    }
    blk.state = 'done';
    b.blockDone.push(id);
    this.notify();
    return id;
  }

  /** The fence of DMABUF `fd` fails: poll reports POLLERR on it. */
  failFence(fd: number): void {
    const st = this.fds.get(fd);
    if (st?.kind !== 'dmabuf') throw new Error('fake: not a DMABUF');
    st.error = true;
    this.notify();
  }

  /** Injects a failure: the next `times` calls of `op` (a method name) fail with `code`. */
  fail(op: keyof Backend, code: string, times = 1, when?: (arg: unknown) => boolean): void {
    this.failures.push({ op, code, times, when });
  }

  private injected(op: string, arg?: unknown): string | null {
    const f = this.failures.find((x) => x.op === op && (!x.when || x.when(arg)));
    if (!f) return null;
    if (--f.times <= 0) this.failures.splice(this.failures.indexOf(f), 1);
    return f.code;
  }

  /** An injected EAGAIN is not an error: read()/write() answer null, as the contract says. */
  private eagain(op: string, fd: number): boolean {
    const f = this.failures.find((x) => x.op === op && x.code === 'EAGAIN' && (!x.when || x.when(fd)));
    if (!f) return false;
    this.injected(op, fd);
    return true;
  }

  private fdFail(op: string, syscall: string, arg: unknown, site?: CallSite): void {
    const code = this.injected(op, arg);
    if (code) throw this.sysError(code, syscall, site);
  }

  private sysError(code: string, syscall: string, site: CallSite = {}): IioError {
    return new IioError({ errno: errnoFromCode(code), code, syscall: site.what ? `${syscall} ${site.what}` : syscall, path: site.path, device: site.device });
  }

  /** Open fds, by kind (for leak checks). */
  openFds(kind?: FdState['kind']): number {
    return [...this.fds.values()].filter((s) => !kind || s.kind === kind).length;
  }

  // ---------------------------------------------------------------- files

  readText(file: string): string {
    const code = this.injected('readText', file);
    if (code) throw errnoError(code, 'open', file);
    const t = this.files.get(file);
    if (t === undefined) throw errnoError(this.dirs.has(file) ? 'EISDIR' : 'ENOENT', this.dirs.has(file) ? 'read' : 'open', file);
    return t.toString();
  }
  async readTextAsync(file: string): Promise<string> {
    return this.readText(file);
  }
  readBytes(file: string): Buffer {
    const t = this.files.get(file);
    if (t === undefined) throw errnoError('ENOENT', 'open', file);
    return Buffer.from(t);
  }
  writeText(file: string, text: string): void {
    const code = this.injected('writeText', file);
    if (code) throw errnoError(code, 'write', file);
    if (!this.files.has(file)) throw errnoError('ENOENT', 'open', file);
    this.writes.push(`${file}=${text}`);
    this.files.set(file, text);
    this.onWrite?.(file, text);
  }
  async writeTextAsync(file: string, text: string): Promise<void> {
    this.writeText(file, text);
  }
  exists(file: string): boolean {
    return this.files.has(file) || this.dirs.has(file);
  }
  async existsAsync(file: string): Promise<boolean> {
    return this.exists(file);
  }
  list(dir: string): DirEntry[] {
    if (!this.dirs.has(dir)) throw errnoError('ENOENT', 'scandir', dir);
    const names = new Map<string, DirEntry['kind']>();
    const prefix = dir === '/' ? '/' : `${dir}/`;
    for (const f of this.files.keys()) if (f.startsWith(prefix) && !f.slice(prefix.length).includes('/')) names.set(f.slice(prefix.length), 'file');
    for (const d of this.dirs) if (d.startsWith(prefix) && d !== dir && !d.slice(prefix.length).includes('/')) names.set(d.slice(prefix.length), 'dir');
    return [...names].map(([name, kind]) => ({ name, kind }));
  }
  realpath(file: string): string {
    if (!this.exists(file)) throw errnoError('ENOENT', 'realpath', file);
    return file;
  }
  mkdir(dir: string): void {
    const code = this.injected('mkdir', dir);
    if (code) throw errnoError(code, 'mkdir', dir);
    if (!this.dirs.has(path.dirname(dir))) throw errnoError('ENOENT', 'mkdir', dir);
    if (this.exists(dir)) throw errnoError('EEXIST', 'mkdir', dir);
    this.dirs.add(dir);
    this.onWrite?.(dir, 'mkdir');
  }
  rmdir(dir: string): void {
    if (!this.dirs.has(dir)) throw errnoError('ENOENT', 'rmdir', dir);
    this.dirs.delete(dir);
    this.onWrite?.(dir, 'rmdir');
  }

  // ---------------------------------------------------------------- fds

  private newFd(state: FdState): number {
    const fd = this.nextFd++;
    this.fds.set(fd, state);
    return fd;
  }

  private state(fd: number, syscall: string, site?: CallSite): FdState {
    const s = this.fds.get(fd);
    if (!s) throw this.sysError('EBADF', syscall, site);
    return s;
  }

  open(file: string, flags: number, site: CallSite = {}): number {
    this.fdFail('open', 'open', file, { ...site, path: file });
    const dev = this.devices.get(file);
    if (dev) {
      if (dev.refuseRdwr && (flags & 3) === 2) throw this.sysError(dev.refuseRdwr, 'open', { ...site, path: file });
      if (dev.chardevFd !== null) throw this.sysError('EBUSY', 'open', { ...site, path: file });
      dev.chardevFd = this.newFd({ kind: 'chardev', dev, flags });
      return dev.chardevFd;
    }
    if ((file === '/dev/dma_heap/system' || file === '/dev/udmabuf') && this.heap) return this.newFd({ kind: 'heap' });
    throw this.sysError('ENOENT', 'open', { ...site, path: file });
  }

  close(fd: number, site?: CallSite): void {
    const s = this.state(fd, 'close', site);
    this.fds.delete(fd);
    if (s.kind === 'chardev') s.dev.chardevFd = null;
    if (s.kind === 'buffer') {
      s.buf.fd = null;
      s.buf.attached.clear();
      s.buf.queue = [];
      // Closing the buffer fd frees its mmap blocks too (mappings keep their memory).
      s.buf.mmapBlocks = [];
      s.buf.blockQueue = [];
      s.buf.blockDone = [];
    }
    if (s.kind === 'events') s.dev.eventFd = null;
    this.notify();
  }

  setNonBlocking(fd: number, site?: CallSite): void {
    this.fdFail('setNonBlocking', 'fcntl', fd, site);
    this.state(fd, 'fcntl', site);
    void O_NONBLOCK;
  }

  ioctl(fd: number, request: number, arg: Buffer, site?: CallSite): number {
    const s = this.state(fd, 'ioctl', site);
    const name = ioctlName(request);
    this.ioctls.push(name);
    this.fdFail('ioctl', 'ioctl', name, site);
    const fail = (code: string) => this.sysError(code, 'ioctl', site);
    if (s.kind === 'chardev') {
      if (request === IIO_BUFFER_GET_FD_IOCTL) {
        if (s.dev.noGetFd) throw fail('ENOTTY');
        const b = s.dev.buffers[decodeInt(arg)];
        if (!b) throw fail('ENODEV');
        if (b.fd !== null) throw fail('EBUSY');
        b.hup = false;
        b.fd = this.newFd({ kind: 'buffer', dev: s.dev, buf: b });
        encodeIntInto(arg, b.fd);
        return 0;
      }
      if (request === IIO_GET_EVENT_FD_IOCTL) {
        if (!s.dev.hasEvents) throw fail('ENODEV');
        if (s.dev.eventFd !== null) throw fail('EBUSY');
        s.dev.eventFd = this.newFd({ kind: 'events', dev: s.dev });
        encodeIntInto(arg, s.dev.eventFd);
        return 0;
      }
      throw fail('ENOTTY');
    }
    if (s.kind === 'buffer') {
      const b = s.buf;
      if (request === IIO_BUFFER_DMABUF_ATTACH_IOCTL) {
        if (!b.dmabuf) throw fail('EPERM');
        b.attached.add(decodeInt(arg));
        return 0;
      }
      if (request === IIO_BUFFER_DMABUF_DETACH_IOCTL) {
        if (!b.attached.delete(decodeInt(arg))) throw fail('ENOENT');
        b.queue = b.queue.filter((q) => q.fd !== decodeInt(arg));
        return 0;
      }
      if (b.blockApi && BLOCK_IOCTLS.has(request)) return this.blockIoctl(s.dev, b, request, arg, fail);
      if (request === IIO_BUFFER_DMABUF_ENQUEUE_IOCTL) {
        const d = decodeDmabuf(arg);
        const st = this.fds.get(d.fd);
        if (!b.attached.has(d.fd) || st?.kind !== 'dmabuf') throw fail('EINVAL');
        if (d.bytesUsed < 1 || d.bytesUsed > st.data.length) throw fail('EINVAL');
        st.signalled = false;
        b.queue.push({ fd: d.fd, bytesUsed: d.bytesUsed, flags: d.flags });
        if (b.direction === 'out') b.data.push(Buffer.from(st.data.subarray(0, d.bytesUsed)));
        return 0;
      }
      throw fail('ENOTTY');
    }
    if (s.kind === 'heap' && request === DMA_HEAP_IOCTL_ALLOC) {
      const fd = this.newFd({ kind: 'dmabuf', data: Buffer.alloc(decodeDmaHeapAllocLen(arg)), signalled: true, syncs: [] });
      encodeDmaHeapAllocFdInto(arg, fd);
      return 0;
    }
    if (s.kind === 'dmabuf' && request === DMA_BUF_IOCTL_SYNC) {
      s.syncs.push(decodeDmaBufSync(arg));
      return 0;
    }
    throw fail('ENOTTY');
  }

  /** ADI's mmap block API on a buffer fd: ALLOC appends, FREE drops all, ENQUEUE/DEQUEUE move ownership. */
  private blockIoctl(dev: FakeDevice, b: FakeBuffer, request: number, arg: Buffer, fail: (code: string) => IioError): number {
    if (request === IIO_BUFFER_BLOCK_FREE_IOCTL) {
      b.mmapBlocks = [];
      b.blockQueue = [];
      b.blockDone = [];
      return 0;
    }
    if (request === IIO_BUFFER_BLOCK_ALLOC_IOCTL) {
      if (this.enabled(dev, b.index)) throw fail('EBUSY');
      const req = decodeBlockAllocReq(arg);
      if (req.size < 1 || req.count < 1) throw fail('EINVAL');
      const first = b.mmapBlocks.length;
      for (let i = 0; i < req.count; i++) {
        const last = b.mmapBlocks[b.mmapBlocks.length - 1];
        const offset = last ? last.offset + Math.ceil(last.size / 4096) * 4096 : 0;
        b.mmapBlocks.push({ id: first + i, offset, size: req.size, data: Buffer.alloc(Math.ceil(req.size / 4096) * 4096), bytesUsed: 0, flags: 0, state: 'user' });
      }
      encodeBlockAllocReq({ ...req, id: first }).copy(arg);
      return 0;
    }
    const d = decodeBufferBlock(arg);
    if (request === IIO_BUFFER_BLOCK_DEQUEUE_IOCTL) {
      const id = b.blockDone.shift();
      if (id === undefined) throw fail('EAGAIN');
      const blk = b.mmapBlocks[id];
      blk.state = 'user';
      encodeBufferBlockInto(arg, { id, size: blk.size, bytesUsed: blk.bytesUsed, flags: blk.flags, offset: blk.offset });
      return 0;
    }
    const blk = b.mmapBlocks[d.id];
    if (!blk) throw fail('EINVAL');
    if (request === IIO_BUFFER_BLOCK_QUERY_IOCTL) {
      encodeBufferBlockInto(arg, { id: blk.id, size: blk.size, bytesUsed: blk.bytesUsed, flags: blk.flags, offset: blk.offset });
      return 0;
    }
    // ENQUEUE
    if (blk.state !== 'user') throw fail('EBUSY');
    if (b.direction === 'in' && d.flags & IIO_BUFFER_BLOCK_FLAG_CYCLIC) throw fail('EINVAL');
    if (b.direction === 'out' && (d.bytesUsed < 1 || d.bytesUsed > blk.size)) throw fail('EINVAL');
    blk.bytesUsed = b.direction === 'out' ? d.bytesUsed : 0;
    blk.flags = d.flags;
    blk.state = 'queued';
    b.blockQueue.push(blk.id);
    return 0;
  }

  read(fd: number, buf: Buffer, length: number, site?: CallSite): number | null {
    const s = this.state(fd, 'read', site);
    if (this.eagain('read', fd)) return null;
    this.fdFail('read', 'read', fd, site);
    let queue: Buffer[];
    if (s.kind === 'eventfd') {
      if (s.count === 0n) return null;
      buf.writeBigUInt64LE(s.count, 0);
      s.count = 0n;
      return 8;
    } else if (s.kind === 'buffer') {
      if (s.buf.hup && s.buf.data.length === 0) throw this.sysError('ENODEV', 'read', site);
      queue = s.buf.data;
    } else if (s.kind === 'events') {
      queue = s.dev.events;
    } else throw this.sysError('EINVAL', 'read', site);
    let n = 0;
    while (queue.length > 0 && n < length) {
      const head = queue[0];
      const take = Math.min(head.length, length - n);
      head.copy(buf, n, 0, take);
      n += take;
      if (take === head.length) queue.shift();
      else queue[0] = head.subarray(take);
    }
    return n === 0 ? null : n;
  }

  readv(fd: number, bufs: Buffer[], site?: CallSite): number | null {
    let total = 0;
    for (const b of bufs) {
      const n = this.read(fd, b, b.length, site);
      if (n === null) return total === 0 ? null : total;
      total += n;
      if (n < b.length) break;
    }
    return total;
  }

  write(fd: number, buf: Buffer, length: number, site?: CallSite): number | null {
    const s = this.state(fd, 'write', site);
    if (this.eagain('write', fd)) return null;
    this.fdFail('write', 'write', fd, site);
    if (s.kind === 'eventfd') {
      s.count += 1n;
      this.notify();
      return 8;
    }
    if (s.kind !== 'buffer') throw this.sysError('EINVAL', 'write', site);
    if (s.buf.hup) throw this.sysError('ENODEV', 'write', site);
    const n = Math.min(length, s.buf.room);
    if (n === 0) return null;
    s.buf.room -= n;
    s.buf.data.push(Buffer.from(buf.subarray(0, n)));
    return n;
  }

  eventFd(): number {
    const code = this.injected('eventFd');
    if (code) throw this.sysError(code, 'eventfd');
    return this.newFd({ kind: 'eventfd', count: 0n });
  }

  /** Readiness of one fd, as poll(2) reports it before masking. */
  private ready(fd: number): number {
    const s = this.fds.get(fd);
    if (!s) return POLLNVAL;
    switch (s.kind) {
      case 'eventfd':
        return POLLOUT | (s.count > 0n ? POLLIN : 0);
      case 'buffer':
        if (s.buf.hup) return POLLHUP | POLLERR | (s.buf.data.length > 0 ? POLLIN : 0);
        if (s.buf.mmapBlocks.length > 0) return s.buf.blockDone.length === 0 ? 0 : s.buf.direction === 'in' ? POLLIN : POLLOUT;
        return s.buf.direction === 'in' ? (s.buf.data.length > 0 ? POLLIN : 0) : s.buf.room > 0 ? POLLOUT : 0;
      case 'events':
        return this.hangUpEvents.includes(fd) ? POLLHUP : s.dev.events.length > 0 ? POLLIN : 0;
      case 'dmabuf':
        return s.error ? POLLERR : s.signalled ? POLLOUT | POLLIN : 0;
      default:
        return 0;
    }
  }

  private evaluate(fds: Buffer, count: number): number {
    let n = 0;
    for (let i = 0; i < count; i++) {
      const { fd, events } = decodePollfd(fds, i);
      const revents = fd < 0 ? 0 : this.ready(fd) & (events | POLLERR | POLLHUP | POLLNVAL);
      encodePollReventsInto(fds, i, revents);
      if (revents) n++;
    }
    return n;
  }

  /**
   * From now on, notes any close(2) (of `fd`, or of any fd) made while a poll is in flight: the
   * reactor must let the poll return first. Returns the check.
   */
  spyCloseDuringPoll(fd?: number): () => boolean {
    let seen = false;
    const close = this.close.bind(this);
    this.close = (f, site) => {
      if ((fd === undefined || f === fd) && this.pollsWaiting > 0) seen = true;
      close(f, site);
    };
    return () => seen;
  }

  /** Polls in flight (for tests of the reactor). */
  get pollsWaiting(): number {
    return this.waiters.length;
  }

  poll(fds: Buffer, count: number, timeoutMs: number): Promise<number> {
    const code = this.injected('poll');
    if (code) return Promise.reject(this.sysError(code, 'poll'));
    return new Promise((resolve) => {
      // Like the thread-pool poll, never answer on the caller's own tick.
      setImmediate(() => {
        const n = this.evaluate(fds, count);
        if (n > 0 || timeoutMs === 0) return resolve(n);
        let timer: NodeJS.Timeout | null = null;
        const waiter = () => {
          const m = this.evaluate(fds, count);
          if (m === 0) return false;
          if (timer) clearTimeout(timer);
          resolve(m);
          return true;
        };
        this.waiters.push(waiter);
        if (timeoutMs > 0) {
          timer = setTimeout(() => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            resolve(0);
          }, timeoutMs);
        }
      });
    });
  }

  pollNow(fds: Buffer, count: number): number {
    const code = this.injected('pollNow');
    if (code) throw this.sysError(code, 'poll');
    return this.evaluate(fds, count);
  }

  /** Re-checks the polls in flight after a change of state. */
  notify(): void {
    // A real poll wakes on another thread and answers on a later tick: changes made together land together.
    if (this.notifying) return;
    this.notifying = true;
    setImmediate(() => {
      this.notifying = false;
      this.waiters = this.waiters.filter((w) => !w());
    });
  }
  private notifying = false;

  // ---------------------------------------------------------------- memory

  mmap(fd: number, length: number, _prot: number, site?: CallSite, offset = 0): MappedRegion {
    const s = this.state(fd, 'mmap', site);
    this.fdFail('mmap', 'mmap', fd, site);
    if (!Number.isInteger(offset) || offset < 0 || offset % 4096 !== 0) throw this.sysError('EINVAL', 'mmap', site);
    // A buffer fd maps the mmap block at that offset (whole, or its first pages), a DMABUF itself from 0.
    const data = s.kind === 'dmabuf' && offset === 0 ? s.data : s.kind === 'buffer' ? s.buf.mmapBlocks.find((b) => b.offset === offset)?.data : undefined;
    if (!data || length > data.length) throw this.sysError('EINVAL', 'mmap', site);
    this.mapped++;
    return { length, view: data.subarray(0, length) };
  }
  munmap(_region: MappedRegion): void {
    this.mapped--;
  }
  detachToAnonymous(region: MappedRegion): void {
    region.view.fill(0);
  }
  sealedMemfd(_name: string, size: number): number {
    if (!this.heap) throw this.sysError('ENOSYS', 'memfd_create');
    return this.newFd({ kind: 'memfd', size });
  }
}

const IOCTL_NAMES = new Map<number, string>([
  [IIO_BUFFER_GET_FD_IOCTL, 'IIO_BUFFER_GET_FD_IOCTL'],
  [IIO_GET_EVENT_FD_IOCTL, 'IIO_GET_EVENT_FD_IOCTL'],
  [IIO_BUFFER_DMABUF_ATTACH_IOCTL, 'ATTACH'],
  [IIO_BUFFER_DMABUF_DETACH_IOCTL, 'DETACH'],
  [IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, 'ENQUEUE'],
  [DMA_HEAP_IOCTL_ALLOC, 'DMA_HEAP_IOCTL_ALLOC'],
  [DMA_BUF_IOCTL_SYNC, 'DMA_BUF_IOCTL_SYNC'],
  [IIO_BUFFER_BLOCK_ALLOC_IOCTL, 'BLOCK_ALLOC'],
  [IIO_BUFFER_BLOCK_FREE_IOCTL, 'BLOCK_FREE'],
  [IIO_BUFFER_BLOCK_QUERY_IOCTL, 'BLOCK_QUERY'],
  [IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, 'BLOCK_ENQUEUE'],
  [IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, 'BLOCK_DEQUEUE'],
]);

const BLOCK_IOCTLS = new Set([IIO_BUFFER_BLOCK_ALLOC_IOCTL, IIO_BUFFER_BLOCK_FREE_IOCTL, IIO_BUFFER_BLOCK_QUERY_IOCTL, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL]);

function ioctlName(request: number): string {
  return IOCTL_NAMES.get(request) ?? `0x${request.toString(16)}`;
}

/**
 * Installs a fresh FakeBackend as the core's backend around each test of the calling suite, and
 * checks afterwards that nothing was left watched or open.
 */
export function useFakeKernel(): { fake: FakeBackend } {
  const ctx = {} as { fake: FakeBackend };
  let restore: (() => void) | null = null;
  beforeEach(() => {
    ctx.fake = new FakeBackend();
    restore = useBackend(ctx.fake);
  });
  afterEach(async function () {
    const leftWatched = reactor.size;
    const leftHandles = DeviceHandle.openCount();
    if (leftWatched === 0) await reactor.whenIdle();
    restore?.();
    if (this.currentTest?.state === 'passed') {
      if (leftWatched !== 0) throw new Error(`the test left ${leftWatched} fd(s) watched by the reactor`);
      if (leftHandles !== 0) throw new Error(`the test left ${leftHandles} device handle(s) open`);
    }
  });
  return ctx;
}

/** A device with one input buffer of `elements` (default: voltage0 as le:u16/16>>0). */
export function adc(fake: FakeBackend, opts: Partial<DeviceSpec> & { dmabuf?: boolean; blockApi?: boolean; elements?: ScanElementSpec[] } = {}): FakeDevice {
  return fake.addDevice({
    id: opts.id,
    name: opts.name ?? 'fake-adc',
    label: opts.label,
    triggerable: opts.triggerable,
    hasEvents: opts.hasEvents,
    files: opts.files,
    buffers: opts.buffers ?? [{ dmabuf: opts.dmabuf, blockApi: opts.blockApi, elements: opts.elements ?? [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }],
  });
}

/** The core's description of a fake device (through IioContext, as a program would get it). */
export function deviceInfo(fake: FakeBackend, dev: FakeDevice): Device {
  return contextOf(fake).findDevice({ id: dev.id });
}

const contexts = new WeakMap<FakeBackend, IioContext>();
/** One context per fake kernel, as a program has one: its devices share their chardevs. */
export function contextOf(fake: FakeBackend): IioContext {
  let ctx = contexts.get(fake);
  if (!ctx) contexts.set(fake, (ctx = new IioContext(fake.root)));
  return ctx;
}

/** Waits until `check` holds, letting the reactor and timers run; fails naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Little-endian u16 scans. */
export function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v, i * 2));
  return b;
}
