/**
 * The kernel UAPI this project speaks, in one place: ioctl request numbers
 * (computed from the _IOC encoding of the running architecture), flags, the
 * binary layouts of the structs passed to ioctl/read, and the IIO event code.
 * Sources: include/uapi/asm-generic/ioctl.h, include/uapi/linux/iio/{events,
 * types,buffer}.h, dma-buf.h, dma-heap.h, udmabuf.h, memfd.h, fcntl.h.
 */
import * as os from 'node:os';
import { invalid } from './errors';

// ---------------------------------------------------------------------------
// _IOC encoding

/** Bit layout of an ioctl request number on one architecture family. */
export interface IocEncoding {
  readonly dirShift: number;
  readonly sizeBits: number;
  readonly none: number;
  readonly read: number;
  readonly write: number;
}

const IOC_NRSHIFT = 0;
const IOC_TYPESHIFT = 8;
const IOC_SIZESHIFT = 16;

/** asm-generic: x86, arm, arm64, riscv, loongarch, s390. */
export const IOC_GENERIC: IocEncoding = { dirShift: 30, sizeBits: 14, none: 0, write: 1, read: 2 };
/** powerpc, mips, sparc (and alpha): 3 direction bits, 13 size bits. */
export const IOC_PPC_MIPS_SPARC: IocEncoding = { dirShift: 29, sizeBits: 13, none: 1, read: 2, write: 4 };

/** The encoding used by `arch` (a `process.arch` value). */
export function iocEncodingFor(arch: string): IocEncoding {
  return /^(ppc|mips|sparc|alpha)/.test(arch) ? IOC_PPC_MIPS_SPARC : IOC_GENERIC;
}

/** The encoding of the running process. */
export const IOC_NATIVE: IocEncoding = iocEncodingFor(process.arch);

function iocType(type: string | number): number {
  const t = typeof type === 'string' ? type.charCodeAt(0) : type;
  if (!Number.isInteger(t) || t < 0 || t > 0xff || (typeof type === 'string' && type.length !== 1)) {
    throw invalid(`ioctl type ${String(type)}`);
  }
  return t;
}

/** Generic request number; `dir` is a combination of enc.none/read/write. Unsigned result. */
export function _IOC(dir: number, type: string | number, nr: number, size: number, enc: IocEncoding = IOC_NATIVE): number {
  if (!Number.isInteger(nr) || nr < 0 || nr > 0xff) throw invalid(`ioctl nr ${nr}`);
  if (!Number.isInteger(size) || size < 0 || size >= 1 << enc.sizeBits) throw invalid(`ioctl size ${size}`);
  return ((dir << enc.dirShift) | (size << IOC_SIZESHIFT) | (iocType(type) << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT)) >>> 0;
}

/** Request with no argument. */
export function _IO(type: string | number, nr: number, enc: IocEncoding = IOC_NATIVE): number {
  return _IOC(enc.none, type, nr, 0, enc);
}

/** Request where the kernel writes `size` bytes back to user space. */
export function _IOR(type: string | number, nr: number, size: number, enc: IocEncoding = IOC_NATIVE): number {
  return _IOC(enc.read, type, nr, size, enc);
}

/** Request where user space passes `size` bytes to the kernel. */
export function _IOW(type: string | number, nr: number, size: number, enc: IocEncoding = IOC_NATIVE): number {
  return _IOC(enc.write, type, nr, size, enc);
}

/** Request that passes `size` bytes both ways. */
export function _IOWR(type: string | number, nr: number, size: number, enc: IocEncoding = IOC_NATIVE): number {
  return _IOC(enc.read | enc.write, type, nr, size, enc);
}

// ---------------------------------------------------------------------------
// Struct sizes (all naturally aligned: identical on 32- and 64-bit ABIs)

export const INT_SIZE = 4;
/** struct iio_event_data {u64 id; s64 timestamp} */
export const IIO_EVENT_DATA_SIZE = 16;
/** struct iio_dmabuf {u32 fd; u32 flags; u64 bytes_used} */
export const IIO_DMABUF_SIZE = 16;
/** struct dma_buf_sync {u64 flags} */
export const DMA_BUF_SYNC_SIZE = 8;
/** struct dma_heap_allocation_data {u64 len; u32 fd; u32 fd_flags; u64 heap_flags} */
export const DMA_HEAP_ALLOCATION_DATA_SIZE = 24;
/** struct udmabuf_create {u32 memfd; u32 flags; u64 offset; u64 size} */
export const UDMABUF_CREATE_SIZE = 24;

// ---------------------------------------------------------------------------
// Request numbers

/** Builds the project's request numbers for one encoding (tests check other arches). */
export function ioctlNumbers(enc: IocEncoding = IOC_NATIVE) {
  return {
    IIO_GET_EVENT_FD_IOCTL: _IOR('i', 0x90, INT_SIZE, enc),
    IIO_BUFFER_GET_FD_IOCTL: _IOWR('i', 0x91, INT_SIZE, enc),
    IIO_BUFFER_DMABUF_ATTACH_IOCTL: _IOW('i', 0x92, INT_SIZE, enc),
    IIO_BUFFER_DMABUF_DETACH_IOCTL: _IOW('i', 0x93, INT_SIZE, enc),
    IIO_BUFFER_DMABUF_ENQUEUE_IOCTL: _IOW('i', 0x94, IIO_DMABUF_SIZE, enc),
    DMA_BUF_IOCTL_SYNC: _IOW('b', 0, DMA_BUF_SYNC_SIZE, enc),
    DMA_HEAP_IOCTL_ALLOC: _IOWR('H', 0, DMA_HEAP_ALLOCATION_DATA_SIZE, enc),
    UDMABUF_CREATE: _IOW('u', 0x42, UDMABUF_CREATE_SIZE, enc),
  } as const;
}

const NATIVE_IOCTLS = ioctlNumbers();
/** Gets the device's event fd (arg: int, written back). 0x80046990 on x86/arm. */
export const IIO_GET_EVENT_FD_IOCTL = NATIVE_IOCTLS.IIO_GET_EVENT_FD_IOCTL;
/** Gets buffer N's fd (arg: int in = index, out = fd). 0xC0046991 on x86/arm. */
export const IIO_BUFFER_GET_FD_IOCTL = NATIVE_IOCTLS.IIO_BUFFER_GET_FD_IOCTL;
/** Attaches a DMABUF fd to a buffer fd (arg: int). 0x40046992. */
export const IIO_BUFFER_DMABUF_ATTACH_IOCTL = NATIVE_IOCTLS.IIO_BUFFER_DMABUF_ATTACH_IOCTL;
/** Detaches a DMABUF fd (arg: int). 0x40046993. */
export const IIO_BUFFER_DMABUF_DETACH_IOCTL = NATIVE_IOCTLS.IIO_BUFFER_DMABUF_DETACH_IOCTL;
/** Queues a DMABUF (arg: struct iio_dmabuf). 0x40106994. */
export const IIO_BUFFER_DMABUF_ENQUEUE_IOCTL = NATIVE_IOCTLS.IIO_BUFFER_DMABUF_ENQUEUE_IOCTL;
/** Brackets CPU access to a DMABUF (arg: struct dma_buf_sync). 0x40086200. */
export const DMA_BUF_IOCTL_SYNC = NATIVE_IOCTLS.DMA_BUF_IOCTL_SYNC;
/** Allocates from a DMA heap (arg: struct dma_heap_allocation_data). 0xC0184800. */
export const DMA_HEAP_IOCTL_ALLOC = NATIVE_IOCTLS.DMA_HEAP_IOCTL_ALLOC;
/** Wraps a sealed memfd as a DMABUF (arg: struct udmabuf_create). 0x40187542. */
export const UDMABUF_CREATE = NATIVE_IOCTLS.UDMABUF_CREATE;

// ---------------------------------------------------------------------------
// Flags

/** iio_dmabuf.flags: repeat the block until replaced (output buffers only). */
export const IIO_BUFFER_DMABUF_CYCLIC = 1;
export const DMA_BUF_SYNC_READ = 1;
export const DMA_BUF_SYNC_WRITE = 2;
export const DMA_BUF_SYNC_RW = 3;
export const DMA_BUF_SYNC_START = 0;
export const DMA_BUF_SYNC_END = 4;

/** open(2) access modes; the same on every Linux architecture. */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
/**
 * open(2) close-on-exec: 0o2000000 on every architecture Node ships for
 * (x86, arm, arm64, ppc, s390, riscv, loongarch and mips, where it is 0x80000);
 * only sparc (0x400000) and alpha/parisc (0o10000000) differ.
 */
export const O_CLOEXEC = oCloexecFor(process.arch);
/** dma_heap_allocation_data.fd_flags for a shared, non-inherited DMABUF fd. */
export const DMA_HEAP_FD_FLAGS = O_RDWR | O_CLOEXEC;

/** O_CLOEXEC for a `process.arch` value. */
export function oCloexecFor(arch: string): number {
  if (arch.startsWith('sparc')) return 0x400000;
  if (arch.startsWith('alpha') || arch.startsWith('hppa') || arch.startsWith('parisc')) return 0o10000000;
  return 0o2000000;
}

/**
 * What the libc binding needs to know about the C ABI of one architecture (a `process.arch`
 * value). Checked against each kernel's uapi headers for x86, arm and arm64: O_NONBLOCK and
 * MAP_ANONYMOUS come from asm-generic there (arm/arm64 override only O_DIRECTORY, O_NOFOLLOW,
 * O_DIRECT and O_LARGEFILE, which the core does not use).
 */
export interface CAbi {
  /** Width of C `long`, `size_t` and pointers. */
  readonly wordBits: 32 | 64;
  /**
   * The libc entry points taking a 64-bit off_t. On 32-bit targets `mmap`/`ftruncate` take a
   * 32-bit off_t: passing a 64-bit one there shifts the arguments (arm EABI puts it in an
   * even register pair), so the *64 variants are used.
   */
  readonly mmap: 'mmap' | 'mmap64';
  readonly ftruncate: 'ftruncate' | 'ftruncate64';
  readonly O_NONBLOCK: number;
  readonly MAP_ANONYMOUS: number;
}

const ARCH_64 = ['x64', 'arm64', 'riscv64', 'ppc64', 'loong64', 's390x', 'mips64el'];

/** The C ABI facts for a `process.arch` value. */
export function cAbiFor(arch: string): CAbi {
  const is64 = ARCH_64.includes(arch);
  const mips = arch.startsWith('mips');
  return {
    wordBits: is64 ? 64 : 32,
    mmap: is64 ? 'mmap' : 'mmap64',
    ftruncate: is64 ? 'ftruncate' : 'ftruncate64',
    O_NONBLOCK: mips ? 0x80 : arch.startsWith('sparc') ? 0x4000 : 0o4000,
    MAP_ANONYMOUS: mips ? 0x800 : 0x20,
  };
}

/** The running process's C ABI. */
export const C_ABI: CAbi = cAbiFor(process.arch);
export const O_NONBLOCK = C_ABI.O_NONBLOCK;

/** poll(2) events, the same on every Linux architecture. */
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
/** mmap(2) protection. */
export const PROT_READ = 1;
export const PROT_WRITE = 2;

/** udmabuf_create.flags: make the returned fd close-on-exec. */
export const UDMABUF_FLAGS_CLOEXEC = 1;
/** memfd_create flags. */
export const MFD_CLOEXEC = 1;
export const MFD_ALLOW_SEALING = 2;
/** fcntl commands and seals (F_LINUX_SPECIFIC_BASE 1024 + n). */
export const F_ADD_SEALS = 1033;
export const F_GET_SEALS = 1034;
export const F_SEAL_SEAL = 1;
export const F_SEAL_SHRINK = 2;
export const F_SEAL_GROW = 4;
export const F_SEAL_WRITE = 8;

// ---------------------------------------------------------------------------
// Struct codecs (native byte order, as the kernel reads and writes them)

/** True when this host stores integers little-endian. */
export const NATIVE_LE = os.endianness() === 'LE';

function viewOf(buf: Uint8Array, offset: number, size: number, what: string): DataView {
  if (!(buf instanceof Uint8Array)) throw invalid(`${what}: expected a Buffer`);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > buf.byteLength) {
    throw invalid(`${what}: ${size} bytes at offset ${offset} do not fit in ${buf.byteLength}`);
  }
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function checkU32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalid(`${what} ${String(value)} is not a u32`);
  return value;
}

function toU64(value: number | bigint, what: string): bigint {
  const v = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (v < 0n || v > 0xffffffffffffffffn) throw invalid(`${what} ${String(value)} is not a u64`);
  return v;
}

/** Encodes a C int (e.g. the buffer index for IIO_BUFFER_GET_FD_IOCTL) into buf. */
export function encodeIntInto(buf: Uint8Array, value: number): Uint8Array {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw invalid(`int ${String(value)}`);
  viewOf(buf, 0, INT_SIZE, 'int').setInt32(0, value, NATIVE_LE);
  return buf;
}

/** A new 4-byte Buffer holding a C int. */
export function encodeInt(value: number): Buffer {
  return encodeIntInto(Buffer.alloc(INT_SIZE), value) as Buffer;
}

/** Reads a C int (e.g. the fd an ioctl wrote back). */
export function decodeInt(buf: Uint8Array, offset = 0): number {
  return viewOf(buf, offset, INT_SIZE, 'int').getInt32(offset, NATIVE_LE);
}

/** struct pollfd {int fd; short events; short revents} */
export const POLLFD_SIZE = 8;

function checkPollIndex(buf: Buffer, index: number): number {
  if (!Buffer.isBuffer(buf) || !Number.isInteger(index) || index < 0 || (index + 1) * POLLFD_SIZE > buf.length) {
    throw invalid(`pollfd ${String(index)} outside a poll set of ${Buffer.isBuffer(buf) ? buf.length : 0} bytes`);
  }
  return index * POLLFD_SIZE;
}

/** Writes record `index` of a poll set: `fd` (−1: poll skips it) and `events`; clears revents. */
export function encodePollfdInto(buf: Buffer, index: number, fd: number, events: number): void {
  const off = checkPollIndex(buf, index);
  if (!Number.isInteger(fd) || fd < -1 || fd > 0x7fffffff) throw invalid(`pollfd.fd ${String(fd)}`);
  if (!Number.isInteger(events) || events < 0 || events > 0xffff) throw invalid(`pollfd.events ${String(events)}`);
  if (NATIVE_LE) {
    buf.writeInt32LE(fd, off);
    buf.writeUInt16LE(events, off + 4);
    buf.writeUInt16LE(0, off + 6);
  } else {
    buf.writeInt32BE(fd, off);
    buf.writeUInt16BE(events, off + 4);
    buf.writeUInt16BE(0, off + 6);
  }
}

/** The revents poll(2) left in record `index`. */
export function decodePollRevents(buf: Buffer, index: number): number {
  const off = checkPollIndex(buf, index) + 6;
  return NATIVE_LE ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
}

/** Record `index` of a poll set as poll(2) reads it (for backends that answer polls themselves). */
export function decodePollfd(buf: Buffer, index: number): { fd: number; events: number } {
  const off = checkPollIndex(buf, index);
  return NATIVE_LE ? { fd: buf.readInt32LE(off), events: buf.readUInt16LE(off + 4) } : { fd: buf.readInt32BE(off), events: buf.readUInt16BE(off + 4) };
}

/** Sets record `index`'s revents, as poll(2) does. */
export function encodePollReventsInto(buf: Buffer, index: number, revents: number): void {
  const off = checkPollIndex(buf, index) + 6;
  if (NATIVE_LE) buf.writeUInt16LE(revents, off);
  else buf.writeUInt16BE(revents, off);
}

/** Clears every record's revents, so a set can be polled again without rebuilding it. */
export function clearPollRevents(buf: Buffer): void {
  // revents is zero in either byte order.
  for (let off = 6; off + 2 <= buf.length; off += POLLFD_SIZE) buf.writeUInt16LE(0, off);
}

/** A new 8-byte Buffer holding a u64 (e.g. the count written to an eventfd). */
export function encodeU64(value: number | bigint): Buffer {
  const buf = Buffer.alloc(8);
  viewOf(buf, 0, 8, 'u64').setBigUint64(0, toU64(value, 'u64'), NATIVE_LE);
  return buf;
}

/** One record read from an event fd. */
export interface IioEventData {
  /** The event code; decode with decodeEventCode. */
  id: bigint;
  /** Nanoseconds on the device's clock (current_timestamp_clock). */
  timestamp: bigint;
}

/** Decodes one struct iio_event_data at `offset`. */
export function decodeEventData(buf: Uint8Array, offset = 0): IioEventData {
  const view = viewOf(buf, offset, IIO_EVENT_DATA_SIZE, 'iio_event_data');
  return { id: view.getBigUint64(offset, NATIVE_LE), timestamp: view.getBigInt64(offset + 8, NATIVE_LE) };
}

/** Decodes every whole record in buf[0, length); a partial trailing record is ignored. */
export function decodeEventBatch(buf: Uint8Array, length = buf.byteLength): IioEventData[] {
  const count = Math.floor(Math.min(length, buf.byteLength) / IIO_EVENT_DATA_SIZE);
  const events = new Array<IioEventData>(count);
  if (count === 0) return events;
  const view = new DataView(buf.buffer, buf.byteOffset, count * IIO_EVENT_DATA_SIZE);
  for (let i = 0, off = 0; i < count; i++, off += IIO_EVENT_DATA_SIZE) {
    events[i] = { id: view.getBigUint64(off, NATIVE_LE), timestamp: view.getBigInt64(off + 8, NATIVE_LE) };
  }
  return events;
}

/** Encodes a struct iio_event_data (for tests and emulation). */
export function encodeEventDataInto(buf: Uint8Array, event: IioEventData, offset = 0): Uint8Array {
  const view = viewOf(buf, offset, IIO_EVENT_DATA_SIZE, 'iio_event_data');
  view.setBigUint64(offset, BigInt.asUintN(64, event.id), NATIVE_LE);
  view.setBigInt64(offset + 8, BigInt.asIntN(64, event.timestamp), NATIVE_LE);
  return buf;
}

/** Fields of struct iio_dmabuf. */
export interface IioDmabuf {
  fd: number;
  flags?: number;
  bytesUsed: number | bigint;
}

/** Encodes struct iio_dmabuf into a caller-owned 16-byte buffer (reuse it per enqueue). */
export function encodeDmabufInto(buf: Uint8Array, d: IioDmabuf): Uint8Array {
  const view = viewOf(buf, 0, IIO_DMABUF_SIZE, 'iio_dmabuf');
  view.setUint32(0, checkU32(d.fd, 'iio_dmabuf.fd'), NATIVE_LE);
  view.setUint32(4, checkU32(d.flags ?? 0, 'iio_dmabuf.flags'), NATIVE_LE);
  view.setBigUint64(8, toU64(d.bytesUsed, 'iio_dmabuf.bytes_used'), NATIVE_LE);
  return buf;
}

/** A new Buffer holding struct iio_dmabuf. */
export function encodeDmabuf(d: IioDmabuf): Buffer {
  return encodeDmabufInto(Buffer.alloc(IIO_DMABUF_SIZE), d) as Buffer;
}

/** Encodes struct dma_buf_sync (u64 flags) into a caller-owned 8-byte buffer. */
export function encodeDmaBufSyncInto(buf: Uint8Array, flags: number): Uint8Array {
  if ((flags & ~(DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END)) !== 0 || (flags & DMA_BUF_SYNC_RW) === 0) {
    throw invalid(`dma_buf_sync flags ${flags}: need READ, WRITE or RW, optionally | END`);
  }
  viewOf(buf, 0, DMA_BUF_SYNC_SIZE, 'dma_buf_sync').setBigUint64(0, BigInt(flags), NATIVE_LE);
  return buf;
}

/** struct iio_dmabuf as the kernel reads it (for backends that answer ioctls themselves). */
export function decodeDmabuf(buf: Uint8Array): { fd: number; flags: number; bytesUsed: number } {
  const view = viewOf(buf, 0, IIO_DMABUF_SIZE, 'iio_dmabuf');
  return { fd: view.getUint32(0, NATIVE_LE), flags: view.getUint32(4, NATIVE_LE), bytesUsed: Number(view.getBigUint64(8, NATIVE_LE)) };
}

/** struct dma_buf_sync's flags as the kernel reads them. */
export function decodeDmaBufSync(buf: Uint8Array): number {
  return Number(viewOf(buf, 0, DMA_BUF_SYNC_SIZE, 'dma_buf_sync').getBigUint64(0, NATIVE_LE));
}

/** A new Buffer holding struct dma_buf_sync. */
export function encodeDmaBufSync(flags: number): Buffer {
  return encodeDmaBufSyncInto(Buffer.alloc(DMA_BUF_SYNC_SIZE), flags) as Buffer;
}

/** Encodes struct dma_heap_allocation_data (fd 0, to be filled by the kernel). */
export function encodeDmaHeapAllocInto(buf: Uint8Array, len: number | bigint, fdFlags = DMA_HEAP_FD_FLAGS, heapFlags: number | bigint = 0): Uint8Array {
  const length = toU64(len, 'dma_heap_allocation_data.len');
  if (length === 0n) throw invalid('dma_heap_allocation_data.len must be > 0');
  const view = viewOf(buf, 0, DMA_HEAP_ALLOCATION_DATA_SIZE, 'dma_heap_allocation_data');
  view.setBigUint64(0, length, NATIVE_LE);
  view.setUint32(8, 0, NATIVE_LE);
  view.setUint32(12, checkU32(fdFlags, 'dma_heap_allocation_data.fd_flags'), NATIVE_LE);
  view.setBigUint64(16, toU64(heapFlags, 'dma_heap_allocation_data.heap_flags'), NATIVE_LE);
  return buf;
}

/** A new Buffer holding struct dma_heap_allocation_data. */
export function encodeDmaHeapAlloc(len: number | bigint, fdFlags = DMA_HEAP_FD_FLAGS, heapFlags: number | bigint = 0): Buffer {
  return encodeDmaHeapAllocInto(Buffer.alloc(DMA_HEAP_ALLOCATION_DATA_SIZE), len, fdFlags, heapFlags) as Buffer;
}

/** The DMABUF fd the kernel wrote into struct dma_heap_allocation_data. */
export function decodeDmaHeapAllocFd(buf: Uint8Array): number {
  return viewOf(buf, 0, DMA_HEAP_ALLOCATION_DATA_SIZE, 'dma_heap_allocation_data').getUint32(8, NATIVE_LE);
}

/** The length asked for in struct dma_heap_allocation_data, and the kernel's answer (the fd) written back. */
export function decodeDmaHeapAllocLen(buf: Uint8Array): number {
  return Number(viewOf(buf, 0, DMA_HEAP_ALLOCATION_DATA_SIZE, 'dma_heap_allocation_data').getBigUint64(0, NATIVE_LE));
}
export function encodeDmaHeapAllocFdInto(buf: Uint8Array, fd: number): void {
  viewOf(buf, 0, DMA_HEAP_ALLOCATION_DATA_SIZE, 'dma_heap_allocation_data').setUint32(8, checkU32(fd, 'dma_heap_allocation_data.fd'), NATIVE_LE);
}

/** Fields of struct udmabuf_create. */
export interface UdmabufCreate {
  memfd: number;
  flags?: number;
  offset?: number | bigint;
  size: number | bigint;
}

/** Encodes struct udmabuf_create (offset and size must be page multiples; the kernel checks). */
export function encodeUdmabufCreateInto(buf: Uint8Array, c: UdmabufCreate): Uint8Array {
  const view = viewOf(buf, 0, UDMABUF_CREATE_SIZE, 'udmabuf_create');
  view.setUint32(0, checkU32(c.memfd, 'udmabuf_create.memfd'), NATIVE_LE);
  view.setUint32(4, checkU32(c.flags ?? 0, 'udmabuf_create.flags'), NATIVE_LE);
  view.setBigUint64(8, toU64(c.offset ?? 0, 'udmabuf_create.offset'), NATIVE_LE);
  view.setBigUint64(16, toU64(c.size, 'udmabuf_create.size'), NATIVE_LE);
  return buf;
}

/** A new Buffer holding struct udmabuf_create. */
export function encodeUdmabufCreate(c: UdmabufCreate): Buffer {
  return encodeUdmabufCreateInto(Buffer.alloc(UDMABUF_CREATE_SIZE), c) as Buffer;
}

// ---------------------------------------------------------------------------
// Name tables (value = array index), as the kernel prints them in sysfs

/**
 * enum iio_chan_info_enum (6.12) → info postfix of channel attributes (iio_chan_info_postfix in
 * industrialio-core.c), plus the core's own `label`. Used to tell an extend name from the info.
 */
export const CHAN_INFO_NAMES: readonly string[] = [
  'raw', 'input', 'scale', 'offset', 'calibscale', 'calibbias', 'peak_raw', 'peak_scale',
  'quadrature_correction_raw', 'mean_raw', 'filter_low_pass_3db_frequency', 'filter_high_pass_3db_frequency',
  'sampling_frequency', 'frequency', 'phase', 'hardwaregain', 'hysteresis', 'hysteresis_relative',
  'integration_time', 'en', 'calibheight', 'calibweight', 'debounce_count', 'debounce_time', 'calibemissivity',
  'oversampling_ratio', 'thermocouple_type', 'calibambient', 'zeropoint', 'trough_raw', 'label',
];

/** enum iio_event_info → info postfix of event attributes (iio_ev_info_text in industrialio-event.c). */
export const EVENT_INFO_NAMES: readonly string[] = [
  'en', 'value', 'hysteresis', 'period', 'high_pass_filter_3db', 'low_pass_filter_3db', 'timeout', 'reset_timeout',
  'tap2_min_delay', 'runningperiod', 'runningcount',
];

/** enum iio_event_type → name in event attributes (industrialio-event.c). */
export const EVENT_TYPE_NAMES: readonly string[] = [
  'thresh', 'mag', 'roc', 'thresh_adaptive', 'mag_adaptive', 'change', 'mag_referenced', 'gesture',
];

/**
 * enum iio_event_direction → name. The kernel has no sysfs text for NONE
 * (such attributes omit the direction); 'none' is what iio_event_monitor prints.
 */
export const EVENT_DIRECTION_NAMES: readonly string[] = ['either', 'rising', 'falling', 'none', 'singletap', 'doubletap'];

/**
 * enum iio_chan_type (6.12) → name in sysfs (iio_chan_type_name_spec).
 * Note IIO_LIGHT is "illuminance" and the deltas have no underscore.
 */
export const CHANNEL_TYPE_NAMES: readonly string[] = [
  'voltage', 'current', 'power', 'accel', 'anglvel', 'magn', 'illuminance', 'intensity', 'proximity', 'temp',
  'incli', 'rot', 'angl', 'timestamp', 'capacitance', 'altvoltage', 'cct', 'pressure', 'humidityrelative',
  'activity', 'steps', 'energy', 'distance', 'velocity', 'concentration', 'resistance', 'ph', 'uvindex',
  'electricalconductivity', 'count', 'index', 'gravity', 'positionrelative', 'phase', 'massconcentration',
  'deltaangl', 'deltavelocity', 'colortemp', 'chromaticity',
];

/** enum iio_modifier (6.12) → name in sysfs (iio_modifier_names); '' for IIO_NO_MOD. */
export const MODIFIER_NAMES: readonly string[] = [
  '', 'x', 'y', 'z', 'x&y', 'x&z', 'y&z', 'x&y&z', 'x|y', 'x|z', 'y|z', 'x|y|z',
  'both', 'ir', 'sqrt(x^2+y^2)', 'x^2+y^2+z^2', 'clear', 'red', 'green', 'blue', 'quaternion',
  'ambient', 'object', 'from_north_magnetic', 'from_north_true', 'from_north_magnetic_tilt_comp',
  'from_north_true_tilt_comp', 'running', 'jogging', 'walking', 'still', 'sqrt(x^2+y^2+z^2)', 'i', 'q',
  'co2', 'voc', 'uv', 'duv', 'pm1', 'pm2p5', 'pm4', 'pm10', 'ethanol', 'h2', 'o2',
  'linear_x', 'linear_y', 'linear_z', 'pitch', 'yaw', 'roll', 'uva', 'uvb',
];

/** enum iio_event_type values. */
export const IIO_EV_TYPE = {
  THRESH: 0, MAG: 1, ROC: 2, THRESH_ADAPTIVE: 3, MAG_ADAPTIVE: 4, CHANGE: 5, MAG_REFERENCED: 6, GESTURE: 7,
} as const;

/** enum iio_event_direction values. */
export const IIO_EV_DIR = { EITHER: 0, RISING: 1, FALLING: 2, NONE: 3, SINGLETAP: 4, DOUBLETAP: 5 } as const;

/** enum iio_chan_type values (the ones this project names in code; see CHANNEL_TYPE_NAMES for all). */
export const IIO_CHAN_TYPE = {
  VOLTAGE: 0, CURRENT: 1, POWER: 2, ACCEL: 3, ANGL_VEL: 4, MAGN: 5, LIGHT: 6, INTENSITY: 7, PROXIMITY: 8,
  TEMP: 9, INCLI: 10, ROT: 11, ANGL: 12, TIMESTAMP: 13, CAPACITANCE: 14, ALTVOLTAGE: 15, CCT: 16,
  PRESSURE: 17, HUMIDITYRELATIVE: 18, ACTIVITY: 19, STEPS: 20, ENERGY: 21, DISTANCE: 22, VELOCITY: 23,
  CONCENTRATION: 24, RESISTANCE: 25, PH: 26, UVINDEX: 27, ELECTRICALCONDUCTIVITY: 28, COUNT: 29, INDEX: 30,
  GRAVITY: 31, POSITIONRELATIVE: 32, PHASE: 33, MASSCONCENTRATION: 34, DELTA_ANGL: 35, DELTA_VELOCITY: 36,
  COLORTEMP: 37, CHROMATICITY: 38,
} as const;

/** enum iio_modifier values. */
export const IIO_MOD = {
  NO_MOD: 0, X: 1, Y: 2, Z: 3, X_AND_Y: 4, X_AND_Z: 5, Y_AND_Z: 6, X_AND_Y_AND_Z: 7, X_OR_Y: 8, X_OR_Z: 9,
  Y_OR_Z: 10, X_OR_Y_OR_Z: 11, LIGHT_BOTH: 12, LIGHT_IR: 13, ROOT_SUM_SQUARED_X_Y: 14, SUM_SQUARED_X_Y_Z: 15,
  LIGHT_CLEAR: 16, LIGHT_RED: 17, LIGHT_GREEN: 18, LIGHT_BLUE: 19, QUATERNION: 20, TEMP_AMBIENT: 21,
  TEMP_OBJECT: 22, NORTH_MAGN: 23, NORTH_TRUE: 24, NORTH_MAGN_TILT_COMP: 25, NORTH_TRUE_TILT_COMP: 26,
  RUNNING: 27, JOGGING: 28, WALKING: 29, STILL: 30, ROOT_SUM_SQUARED_X_Y_Z: 31, I: 32, Q: 33, CO2: 34,
  VOC: 35, LIGHT_UV: 36, LIGHT_DUV: 37, PM1: 38, PM2P5: 39, PM4: 40, PM10: 41, ETHANOL: 42, H2: 43, O2: 44,
  LINEAR_X: 45, LINEAR_Y: 46, LINEAR_Z: 47, PITCH: 48, YAW: 49, ROLL: 50, LIGHT_UVA: 51, LIGHT_UVB: 52,
} as const;

function indexOfName(table: readonly string[]): ReadonlyMap<string, number> {
  return new Map(table.map((name, value) => [name, value] as [string, number]).filter(([name]) => name !== ''));
}

const eventTypeByName = indexOfName(EVENT_TYPE_NAMES);
const eventDirectionByName = indexOfName(EVENT_DIRECTION_NAMES);
const channelTypeByName = indexOfName(CHANNEL_TYPE_NAMES);
const modifierByName = indexOfName(MODIFIER_NAMES);

/** enum iio_event_type value for a sysfs name, undefined when unknown. */
export function eventTypeFromName(name: string): number | undefined {
  return eventTypeByName.get(name);
}
/** enum iio_event_direction value for a name, undefined when unknown. */
export function eventDirectionFromName(name: string): number | undefined {
  return eventDirectionByName.get(name);
}
/** enum iio_chan_type value for a sysfs name ('accel' → 3), undefined when unknown. */
export function channelTypeFromName(name: string): number | undefined {
  return channelTypeByName.get(name);
}
/** enum iio_modifier value for a sysfs name ('x' → 1), undefined when unknown. */
export function modifierFromName(name: string): number | undefined {
  return modifierByName.get(name);
}

function nameIn(table: readonly string[], value: number): string {
  return table[value] ?? `unknown(${value})`;
}
/** Sysfs name of an event type; 'unknown(N)' for values newer than this table. */
export function eventTypeName(value: number): string {
  return nameIn(EVENT_TYPE_NAMES, value);
}
/** Name of an event direction; 'unknown(N)' when unknown. */
export function eventDirectionName(value: number): string {
  return nameIn(EVENT_DIRECTION_NAMES, value);
}
/** Sysfs name of a channel type; 'unknown(N)' when unknown. */
export function channelTypeName(value: number): string {
  return nameIn(CHANNEL_TYPE_NAMES, value);
}
/** Sysfs name of a modifier; '' for none, 'unknown(N)' when unknown. */
export function modifierName(value: number): string {
  return nameIn(MODIFIER_NAMES, value);
}

/** All channel type names (for parsing sysfs file names). */
export function channelTypeNames(): readonly string[] {
  return CHANNEL_TYPE_NAMES;
}
/** All modifier names except the empty IIO_NO_MOD (for parsing sysfs file names). */
export function modifierNames(): readonly string[] {
  return MODIFIER_NAMES.slice(1);
}

// ---------------------------------------------------------------------------
// Event code: type<<56 | diff<<55 | dir<<48 | modifier<<40 | chan_type<<32 | (u16)chan2<<16 | (u16)chan

/** A decoded IIO event id. */
export interface IioEventCode {
  type: number;
  typeName: string;
  direction: number;
  directionName: string;
  channelType: number;
  channelTypeName: string;
  /** Channel index (signed 16-bit; -1 when the event has no channel number). */
  channel: number;
  /** Second channel of a differential event, else 0 (signed 16-bit). */
  channel2: number;
  modifier: number;
  modifierName: string;
  differential: boolean;
}

/** Fields needed to build an event id. */
export interface IioEventCodeFields {
  type: number;
  direction: number;
  channelType: number;
  channel: number;
  channel2?: number;
  modifier?: number;
  differential?: boolean;
}

function s16(value: number): number {
  return (value << 16) >> 16;
}

/** Splits an event id into its fields, exactly as the IIO_EVENT_CODE_EXTRACT_* macros do. */
export function decodeEventCode(id: bigint): IioEventCode {
  const code = BigInt.asUintN(64, id);
  const hi = Number(code >> 32n);
  const lo = Number(code & 0xffffffffn);
  const type = (hi >>> 24) & 0xff;
  const direction = (hi >>> 16) & 0x7f;
  const modifier = (hi >>> 8) & 0xff;
  const channelType = hi & 0xff;
  return {
    type,
    typeName: eventTypeName(type),
    direction,
    directionName: eventDirectionName(direction),
    channelType,
    channelTypeName: channelTypeName(channelType),
    channel: s16(lo & 0xffff),
    channel2: s16(lo >>> 16),
    modifier,
    modifierName: modifierName(modifier),
    differential: ((hi >>> 23) & 1) === 1,
  };
}

function checkField(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw invalid(`event code ${what} ${String(value)} out of range 0..${max}`);
  return value;
}

function checkS16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff) throw invalid(`event code ${what} ${String(value)} is not a signed 16-bit number`);
  return value & 0xffff;
}

/** Builds an event id (the kernel's IIO_EVENT_CODE). */
export function encodeEventCode(f: IioEventCodeFields): bigint {
  const hi =
    ((checkField(f.type, 0xff, 'type') << 24) |
      ((f.differential ? 1 : 0) << 23) |
      (checkField(f.direction, 0x7f, 'direction') << 16) |
      (checkField(f.modifier ?? 0, 0xff, 'modifier') << 8) |
      checkField(f.channelType, 0xff, 'channel type')) >>>
    0;
  const lo = ((checkS16(f.channel2 ?? 0, 'channel2') << 16) | checkS16(f.channel, 'channel')) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
