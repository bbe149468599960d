// The few libc calls the core needs: plain read()/write() through Node's fs, the rest through
// ffi-rs. ffi-rs aborts the whole process on an argument of the wrong type, so every wrapper
// validates its arguments before the call, and every failure becomes an IioError naming the
// syscall, the path or device, and the errno code.
import * as fs from 'fs';
import { open as ffiOpen, load, DataType, createPointer, createExternalBuffer, unwrapPointer, freePointer, PointerType, JsExternal } from 'ffi-rs';
import { IioError, describeValue, invalid } from './errors';
import { POLLFD_SIZE, C_ABI, O_CLOEXEC, O_NONBLOCK, PROT_READ, PROT_WRITE, MFD_CLOEXEC, MFD_ALLOW_SEALING, F_ADD_SEALS, F_SEAL_SHRINK } from './uapi';
import type { CallSite } from './backend';

const LIB = 'libc';
let opened = false;
function lib(): string {
  if (!opened) {
    if (process.platform !== 'linux') {
      throw new IioError({ code: 'ENOSYS', detail: `Linux IIO is not available on ${process.platform}` });
    }
    ffiOpen({ library: LIB, path: '' }); // dlopen(NULL): the process's own libc
    opened = true;
  }
  return LIB;
}

const is64 = C_ABI.wordBits === 64;
/** C `long`/`ssize_t` and `unsigned long`/`size_t`: their width follows the architecture. */
const SSIZE = is64 ? DataType.I64 : DataType.I32;
const USIZE = is64 ? DataType.U64 : DataType.U32;

export { O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK, O_CLOEXEC, POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, PROT_READ, PROT_WRITE } from './uapi';
const EFD_NONBLOCK = O_NONBLOCK;
const EFD_CLOEXEC = O_CLOEXEC;
const EAGAIN = 11;
const EINTR = 4;

export type { CallSite };

interface Result {
  value: number;
  errnoCode: number;
}

/** The IioError of a failed syscall: names the syscall (and `site.what`), the path, the device and the errno. */
export function fail(syscall: string, errno: number, site: CallSite = {}): IioError {
  return new IioError({
    errno,
    syscall: site.what ? `${syscall} ${site.what}` : syscall,
    path: site.path,
    device: site.device,
  });
}

function checkFd(fd: unknown): asserts fd is number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw invalid(`bad file descriptor ${String(fd)}`);
  }
}

function checkBuffer(buf: unknown, length: unknown): asserts buf is Buffer {
  if (!Buffer.isBuffer(buf)) throw invalid('expected a Buffer');
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > buf.length) {
    throw invalid(`length ${String(length)} for a Buffer of ${buf.length} bytes`);
  }
}

function checkInt(v: unknown, min: number, max: number, what: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${what} ${String(v)}`);
  }
}

function call(funcName: string, retType: DataType, paramsType: DataType[], paramsValue: unknown[]): Result {
  return load({ library: lib(), funcName, retType, paramsType, paramsValue, errno: true }) as unknown as Result;
}

/**
 * For the per-block calls (ioctl, poll), whose failure shows as a negative result and which are
 * safe to repeat: called without errno, and only a failure is repeated with it. An `errno: true`
 * call builds a result object and costs 1.5-3x a plain one under QEMU emulation. A repeat that
 * succeeds (the cause was transient) counts as the success it is.
 */
function callRepeatable(funcName: string, retType: DataType, paramsType: DataType[], paramsValue: unknown[], before?: () => void): Result {
  before?.();
  const value = load({ library: lib(), funcName, retType, paramsType, paramsValue }) as unknown as number;
  if (value >= 0) return { value, errnoCode: 0 };
  before?.();
  return call(funcName, retType, paramsType, paramsValue);
}

/** open(2). Returns the fd. */
export function openFile(path: string, flags: number, site: CallSite = {}): number {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw invalid(`path ${describeValue(path)}`);
  checkInt(flags, 0, 0x7fffffff, 'open flags');
  const r = call('open', DataType.I32, [DataType.String, DataType.I32], [path, flags]);
  if (r.value < 0) throw fail('open', r.errnoCode, { ...site, path });
  return r.value;
}

/** close(2). */
export function closeFd(fd: number, site: CallSite = {}): void {
  checkFd(fd);
  const r = call('close', DataType.I32, [DataType.I32], [fd]);
  // Linux releases the fd even when close reports EINTR; retrying could close a reused number.
  if (r.value < 0 && r.errnoCode !== EINTR) throw fail('close', r.errnoCode, site);
}

/** errno of a failed fs call (Node reports it negative), or EIO when it has none. */
function errnoOf(err: unknown): number {
  const n = (err as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' && n !== 0 ? Math.abs(n) : 5;
}

// Plain read()/write() go through Node's fs, not ffi-rs: a synchronous fs call costs a fraction
// of an ffi-rs call (which re-describes its arguments on every call). A thrown EAGAIN costs an
// Error with a stack, so callers avoid reading a fd they know is empty.

/** read(2) into buf[0..length). Returns the byte count, or null when a non-blocking fd has nothing (EAGAIN). */
export function readInto(fd: number, buf: Buffer, length: number = buf.length, site: CallSite = {}): number | null {
  checkFd(fd);
  checkBuffer(buf, length);
  for (;;) {
    try {
      return fs.readSync(fd, buf, 0, length, null);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === EAGAIN) return null;
      if (errno !== EINTR) throw fail('read', errno, site);
    }
  }
}

/**
 * readv(2) into `bufs` in order: one syscall fills several blocks in place (no staging copy).
 * Returns the byte count, or null when a non-blocking fd has nothing (EAGAIN).
 */
export function readvInto(fd: number, bufs: Buffer[], site: CallSite = {}): number | null {
  checkFd(fd);
  if (!Array.isArray(bufs) || bufs.length === 0 || bufs.length > IOV_MAX || !bufs.every((b) => Buffer.isBuffer(b))) throw invalid('expected 1 to 1024 Buffers');
  for (;;) {
    try {
      return fs.readvSync(fd, bufs, null as unknown as number);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === EAGAIN) return null;
      if (errno !== EINTR) throw fail('read', errno, site);
    }
  }
}
/** Most iovecs one readv(2) takes (UIO_MAXIOV). */
export const IOV_MAX = 1024;

/** write(2) of buf[0..length). Returns the byte count, or null when a non-blocking fd is full (EAGAIN). */
export function writeFrom(fd: number, buf: Buffer, length: number = buf.length, site: CallSite = {}): number | null {
  checkFd(fd);
  checkBuffer(buf, length);
  for (;;) {
    try {
      return fs.writeSync(fd, buf, 0, length, null);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === EAGAIN) return null;
      if (errno !== EINTR) throw fail('write', errno, site);
    }
  }
}

/**
 * ioctl(2) whose third argument points at `arg` (every ioctl the core uses takes a pointer). The
 * kernel reads and writes `arg` in place. Returns the ioctl's non-negative result.
 */
export function ioctl(fd: number, request: number, arg: Buffer, site: CallSite = {}): number {
  checkFd(fd);
  checkInt(request, 0, 0xffffffff, 'ioctl request');
  checkBuffer(arg, arg.length);
  if (arg.length === 0) throw invalid('empty ioctl argument');
  const s = syncScratch(arg.length);
  for (;;) {
    let r: Result;
    if (s) {
      // By address: the argument is copied to native memory and back (bytes, not a call).
      r = callRepeatable('ioctl', DataType.I32, [DataType.I32, USIZE, USIZE], [fd, request, s.address], () => arg.copy(s.view, 0));
      s.view.copy(arg, 0, 0, arg.length);
    } else {
      r = call('ioctl', DataType.I32, [DataType.I32, USIZE, DataType.U8Array], [fd, request, arg]);
    }
    if (r.value >= 0) return r.value;
    if (r.errnoCode !== EINTR) throw fail('ioctl', r.errnoCode, site);
  }
}

const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;

/** A close-on-exec duplicate of `fd` (fcntl F_DUPFD_CLOEXEC): the same open file under a second number. */
export function dupFd(fd: number, site: CallSite = {}): number {
  checkFd(fd);
  const r = call('fcntl', DataType.I32, [DataType.I32, DataType.I32, DataType.I32], [fd, F_DUPFD_CLOEXEC, 0]);
  if (r.value < 0) throw fail('fcntl F_DUPFD_CLOEXEC', r.errnoCode, site);
  return r.value;
}

/** Makes `fd` non-blocking (fcntl F_SETFL). The kernel hands out IIO buffer and event fds blocking. */
export function setNonBlocking(fd: number, site: CallSite = {}): void {
  checkFd(fd);
  const get = call('fcntl', DataType.I32, [DataType.I32, DataType.I32, DataType.I32], [fd, F_GETFL, 0]);
  if (get.value < 0) throw fail('fcntl', get.errnoCode, site);
  const set = call('fcntl', DataType.I32, [DataType.I32, DataType.I32, DataType.I32], [fd, F_SETFL, get.value | O_NONBLOCK]);
  if (set.value < 0) throw fail('fcntl', set.errnoCode, site);
}

/** eventfd(2), non-blocking and close-on-exec. */
export function eventFd(): number {
  const r = call('eventfd', DataType.I32, [DataType.U32, DataType.I32], [0, EFD_NONBLOCK | EFD_CLOEXEC]);
  if (r.value < 0) throw fail('eventfd', r.errnoCode);
  return r.value;
}

/**
 * poll(2) on libuv's thread pool: the event loop keeps running while it waits. `fds` holds `count`
 * struct pollfd records and must not be touched until the promise settles. Resolves to the number
 * of ready fds (0 on timeout; EINTR counts as 0).
 */
export async function pollAsync(fds: Buffer, count: number, timeoutMs: number): Promise<number> {
  checkBuffer(fds, count * POLLFD_SIZE);
  checkInt(count, 1, 1 << 20, 'poll fd count');
  checkInt(timeoutMs, -1, 0x7fffffff, 'poll timeout');
  const bytes = count * POLLFD_SIZE;
  const s = asyncScratch(bytes);
  let r: Result;
  if (s) {
    // The set goes by address (see Scratch); this region is this poll's alone until it returns.
    s.busy = true;
    try {
      fds.copy(s.view, 0, 0, bytes);
      // Without errno (see callRepeatable); a failure is asked again, with it, at once.
      const value = (await load({
        library: lib(), funcName: 'poll', retType: DataType.I32, paramsType: [USIZE, USIZE, DataType.I32],
        paramsValue: [s.address, count, timeoutMs], runInNewThread: true,
      })) as unknown as number;
      if (value < 0) fds.copy(s.view, 0, 0, bytes);
      r = value >= 0 ? { value, errnoCode: 0 } : call('poll', DataType.I32, [USIZE, USIZE, DataType.I32], [s.address, count, 0]);
      s.view.copy(fds, 0, 0, bytes);
    } finally {
      s.busy = false;
    }
  } else {
    r = (await load({
      library: lib(), funcName: 'poll', retType: DataType.I32, paramsType: [DataType.U8Array, USIZE, DataType.I32],
      paramsValue: [fds, count, timeoutMs], errno: true, runInNewThread: true,
    })) as unknown as Result;
  }
  if (r.value >= 0) return r.value;
  if (r.errnoCode === EINTR) return 0;
  throw fail('poll', r.errnoCode);
}

/** poll(2) on the calling thread, for a zero timeout (a readiness check) only. */
export function pollNow(fds: Buffer, count: number): number {
  checkBuffer(fds, count * POLLFD_SIZE);
  checkInt(count, 1, 1 << 20, 'poll fd count');
  const bytes = count * POLLFD_SIZE;
  const s = syncScratch(bytes);
  let r: Result;
  if (s) {
    r = callRepeatable('poll', DataType.I32, [USIZE, USIZE, DataType.I32], [s.address, count, 0], () => fds.copy(s.view, 0, 0, bytes));
    s.view.copy(fds, 0, 0, bytes);
  } else {
    r = call('poll', DataType.I32, [DataType.U8Array, USIZE, DataType.I32], [fds, count, 0]);
  }
  if (r.value >= 0) return r.value;
  if (r.errnoCode === EINTR) return 0;
  throw fail('poll', r.errnoCode);
}

/**
 * Native memory for call arguments. ffi-rs takes a plain integer at half the cost of a Buffer
 * argument (a U8Array is re-described on every call), so the small arguments of the per-block
 * calls (ioctl structs, poll sets) are copied into anonymous memory and passed by address. Mapped
 * once and never unmapped while anything may use it; no view of it ever leaves this module.
 */
interface Scratch {
  address: number;
  view: Buffer;
  busy: boolean;
}
const SCRATCH_PAGE = 4096;
/** Calls on this thread take turns: one region serves them all. */
let syncRegion: Scratch | null = null;
/** The thread-pool poll reads its set while JS runs on: a region of its own. */
let asyncRegion: Scratch | null = null;
/** Mapping scratch failed (ENOMEM…): Buffers are passed as before. */
let noScratch = false;

function mapScratch(bytes: number): Scratch | null {
  if (noScratch) return null;
  const length = Math.ceil(bytes / SCRATCH_PAGE) * SCRATCH_PAGE;
  const r = call(MMAP, USIZE, [USIZE, USIZE, DataType.I32, DataType.I32, DataType.I32, OFF_T], [0, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
  if (mapFailed(r.value)) {
    noScratch = true;
    return null;
  }
  return { address: r.value, view: createExternalBuffer(pointerTo(r.value), length), busy: false };
}

function syncScratch(bytes: number): Scratch | null {
  if (bytes > SCRATCH_PAGE) return null;
  syncRegion ??= mapScratch(SCRATCH_PAGE);
  return syncRegion;
}

function asyncScratch(bytes: number): Scratch | null {
  if (asyncRegion?.busy) return null; // a second poll at once: it passes its Buffer
  if (!asyncRegion || asyncRegion.view.length < bytes) {
    // Too small: a region twice as large replaces it. The old one stays mapped (its view may
    // never point at unmapped memory), so all of them together stay under twice the largest set.
    asyncRegion = mapScratch(Math.max(bytes, 2 * (asyncRegion?.view.length ?? 0)));
  }
  return asyncRegion;
}

const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = C_ABI.MAP_ANONYMOUS;
/** (void *)-1 as the lossy JS number a 64-bit return becomes. */
const MAP_FAILED_64 = 2 ** 64 - 1;

/** A mapping: its address (exact: user addresses fit in 53 bits) and the pointer ffi-rs hands around. */
export interface Mapping {
  address: number;
  length: number;
  pointer: JsExternal;
}

function mapFailed(address: number): boolean {
  // ffi-rs hands MAP_FAILED back as -1 (seen on x64 for an mmap the driver refused).
  if (address < 0) return true;
  return is64 ? address >= MAP_FAILED_64 : address === 0xffffffff;
}

/** The address as an ffi-rs pointer value (for createExternalBuffer and later calls). */
function pointerTo(address: number): JsExternal {
  const holder = createPointer({ paramsType: [USIZE], paramsValue: [address] });
  const pointer = unwrapPointer(holder)[0];
  freePointer({ paramsType: [USIZE], paramsValue: holder, pointerType: PointerType.RsPointer });
  return pointer;
}

const MMAP = C_ABI.mmap;
const OFF_T = DataType.I64;

/**
 * mmap(2) of `length` bytes of `fd` from `offset` (a multiple of 4096: ADI's block API maps one
 * block per offset), shared, with `prot`.
 */
export function mapShared(fd: number, length: number, prot: number, site: CallSite = {}, offset = 0): Mapping {
  checkFd(fd);
  checkInt(length, 1, Number.MAX_SAFE_INTEGER, 'mapping length');
  checkInt(prot, 0, 7, 'protection');
  checkInt(offset, 0, Number.MAX_SAFE_INTEGER, 'mapping offset');
  if (offset % 4096 !== 0) throw invalid(`mapping offset ${offset} is not page-aligned`);
  const r = call(MMAP, USIZE, [USIZE, USIZE, DataType.I32, DataType.I32, DataType.I32, OFF_T], [0, length, prot, MAP_SHARED, fd, offset]);
  if (mapFailed(r.value)) throw fail('mmap', r.errnoCode, site);
  return { address: r.value, length, pointer: pointerTo(r.value) };
}

/** munmap(2). */
export function unmap(m: Mapping): void {
  const r = call('munmap', DataType.I32, [USIZE, USIZE], [m.address, m.length]);
  if (r.value < 0) throw fail('munmap', r.errnoCode);
}

/**
 * Replaces a mapping in place with private anonymous memory (MAP_FIXED): the file behind it is
 * released, while any view still pointing there reads zeros instead of faulting.
 */
export function replaceWithAnonymous(m: Mapping): void {
  const r = call(MMAP, USIZE, [USIZE, USIZE, DataType.I32, DataType.I32, DataType.I32, OFF_T], [m.address, m.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0]);
  if (mapFailed(r.value)) throw fail('mmap', r.errnoCode);
}


/** A sealed memfd of `size` bytes (for /dev/udmabuf, which wants it unable to shrink). */
export function sealedMemfd(name: string, size: number): number {
  checkInt(size, 1, Number.MAX_SAFE_INTEGER, 'memfd size');
  if (!/^[\w.-]{1,200}$/.test(name)) throw invalid(`memfd name ${JSON.stringify(name)}`);
  const r = call('memfd_create', DataType.I32, [DataType.String, DataType.U32], [name, MFD_CLOEXEC | MFD_ALLOW_SEALING]);
  if (r.value < 0) throw fail('memfd_create', r.errnoCode);
  const fd = r.value;
  try {
    const t = call(C_ABI.ftruncate, DataType.I32, [DataType.I32, OFF_T], [fd, size]);
    if (t.value < 0) throw fail('ftruncate', t.errnoCode);
    const s = call('fcntl', DataType.I32, [DataType.I32, DataType.I32, DataType.I32], [fd, F_ADD_SEALS, F_SEAL_SHRINK]);
    if (s.value < 0) throw fail('fcntl F_ADD_SEALS', s.errnoCode);
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  return fd;
}
