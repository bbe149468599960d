// The few libc calls the core needs, through ffi-rs. ffi-rs aborts the whole process on an
// argument of the wrong type, so every wrapper validates its arguments before the call, and every
// failure becomes an IioError naming the syscall, the path or device, and the errno code.
import { open as ffiOpen, load, DataType, createPointer, unwrapPointer, freePointer, PointerType, JsExternal } from 'ffi-rs';
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

function fail(syscall: string, errno: number, site: CallSite = {}): IioError {
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

/** read(2) into buf[0..length). Returns the byte count, or null when a non-blocking fd has nothing (EAGAIN). */
export function readInto(fd: number, buf: Buffer, length: number = buf.length, site: CallSite = {}): number | null {
  checkFd(fd);
  checkBuffer(buf, length);
  for (;;) {
    const r = call('read', SSIZE, [DataType.I32, DataType.U8Array, USIZE], [fd, buf, length]);
    if (r.value >= 0) return r.value;
    if (r.errnoCode === EAGAIN) return null;
    if (r.errnoCode !== EINTR) throw fail('read', r.errnoCode, site);
  }
}

/** write(2) of buf[0..length). Returns the byte count, or null when a non-blocking fd is full (EAGAIN). */
export function writeFrom(fd: number, buf: Buffer, length: number = buf.length, site: CallSite = {}): number | null {
  checkFd(fd);
  checkBuffer(buf, length);
  for (;;) {
    const r = call('write', SSIZE, [DataType.I32, DataType.U8Array, USIZE], [fd, buf, length]);
    if (r.value >= 0) return r.value;
    if (r.errnoCode === EAGAIN) return null;
    if (r.errnoCode !== EINTR) throw fail('write', r.errnoCode, site);
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
  for (;;) {
    const r = call('ioctl', DataType.I32, [DataType.I32, USIZE, DataType.U8Array], [fd, request, arg]);
    if (r.value >= 0) return r.value;
    if (r.errnoCode !== EINTR) throw fail('ioctl', r.errnoCode, site);
  }
}

const F_GETFL = 3;
const F_SETFL = 4;

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
  const r = (await load({
    library: lib(),
    funcName: 'poll',
    retType: DataType.I32,
    paramsType: [DataType.U8Array, USIZE, DataType.I32],
    paramsValue: [fds, count, timeoutMs],
    errno: true,
    runInNewThread: true,
  })) as unknown as Result;
  if (r.value >= 0) return r.value;
  if (r.errnoCode === EINTR) return 0;
  throw fail('poll', r.errnoCode);
}

/** poll(2) on the calling thread, for a zero timeout (a readiness check) only. */
export function pollNow(fds: Buffer, count: number): number {
  checkBuffer(fds, count * POLLFD_SIZE);
  checkInt(count, 1, 1 << 20, 'poll fd count');
  const r = call('poll', DataType.I32, [DataType.U8Array, USIZE, DataType.I32], [fds, count, 0]);
  if (r.value >= 0) return r.value;
  if (r.errnoCode === EINTR) return 0;
  throw fail('poll', r.errnoCode);
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

/** mmap(2) of `length` bytes of `fd`, shared, with `prot`. */
export function mapShared(fd: number, length: number, prot: number, site: CallSite = {}): Mapping {
  checkFd(fd);
  checkInt(length, 1, Number.MAX_SAFE_INTEGER, 'mapping length');
  checkInt(prot, 0, 7, 'protection');
  const r = call(MMAP, USIZE, [USIZE, USIZE, DataType.I32, DataType.I32, DataType.I32, OFF_T], [0, length, prot, MAP_SHARED, fd, 0]);
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
