// The contract between the core and the kernel: every sysfs file, chardev, ioctl, poll and mmap the
// core touches goes through one Backend. Types only. The local kernel backend (local-backend.ts)
// implements it over libc and Node's fs; a fake one (test/lib/fake-backend.ts) drives host tests,
// and a remote one (iiod) would implement it over the network.
//
// Rules every implementation keeps:
// - Arguments are validated before anything irreversible happens; a bad argument is an IioError
//   EINVAL, never a crash.
// - File methods fail like Node's fs does: an Error with `code` (errno name), `errno`, `syscall`
//   and `path`, so that the caller can add the device and attribute it concerns.
// - Descriptor methods fail with an IioError naming the syscall (plus `site.what` for ioctls), the
//   site's path and device, and the errno.
// - Nothing blocks the event loop except `poll` (which must not: it runs off the main thread) and
//   the sysfs file methods (which the kernel answers at once).

/** What a failure message names besides the syscall. */
export interface CallSite {
  path?: string;
  device?: string;
  /** For ioctl: the request's name, e.g. IIO_BUFFER_GET_FD_IOCTL. */
  what?: string;
}

export type EntryKind = 'file' | 'dir' | 'link' | 'other';

/** One directory entry; `kind` is that of the entry itself (a symlink is `link`). */
export interface DirEntry {
  name: string;
  kind: EntryKind;
}

/** A shared mapping of a file (a DMABUF, an mmap block) and the one Buffer over it. */
export interface MappedRegion {
  readonly length: number;
  /**
   * Zero-copy view of the mapping; take it once, right after `mmap`, and keep it. The region does
   * not keep the view alive (a FinalizationRegistry keyed on the view may hold the region to unmap
   * it once every view is gone). Touching it after `munmap` is a crash: never let it escape unguarded.
   */
  readonly view: Buffer;
}

/** The files of sysfs, configfs and /proc, read and written whole, as the kernel's attribute files want. */
export interface FileOps {
  /** The file's text (UTF-8), whole. ENOENT when absent, ENODEV when its device went away. */
  readText(path: string): string;
  readTextAsync(path: string): Promise<string>;
  /** The file's bytes, whole (e.g. /proc/config.gz). */
  readBytes(path: string): Buffer;
  /**
   * Writes `text` in one write() to an existing file (O_WRONLY|O_TRUNC, never O_CREAT: a missing
   * attribute stays ENOENT). A short write fails with EIO. The driver's refusal (EINVAL, EBUSY…)
   * is the error.
   */
  writeText(path: string, text: string): void;
  writeTextAsync(path: string, text: string): Promise<void>;
  /** Whether the path exists (following symlinks); never throws. */
  exists(path: string): boolean;
  existsAsync(path: string): Promise<boolean>;
  /** The directory's entries, unsorted. ENOENT when absent. */
  list(dir: string): DirEntry[];
  /** The path with every symlink resolved. ENOENT when it does not exist. */
  realpath(path: string): string;
  /** mkdir(2) (configfs: creates an hrtimer trigger). */
  mkdir(path: string): void;
  /** rmdir(2) (configfs: removes an hrtimer trigger). */
  rmdir(path: string): void;
}

/** File descriptors: the chardev, buffer and event fds, DMABUFs, eventfds. */
export interface FdOps {
  /** open(2); returns the fd. */
  open(path: string, flags: number, site?: CallSite): number;
  /** close(2). The fd is released even when it reports an error (EINTR is not an error). */
  close(fd: number, site?: CallSite): void;
  /** Sets O_NONBLOCK (the kernel hands out buffer and event fds blocking). */
  setNonBlocking(fd: number, site?: CallSite): void;
  /**
   * ioctl(2) whose third argument points at `arg`; the kernel reads and writes `arg` in place.
   * Returns the non-negative result; EINTR is retried.
   */
  ioctl(fd: number, request: number, arg: Buffer, site?: CallSite): number;
  /** read(2) into buf[0..length): the byte count (0 at end of file), or null on EAGAIN. EINTR is retried. */
  read(fd: number, buf: Buffer, length: number, site?: CallSite): number | null;
  /** readv(2) into `bufs` in order (1 to 1024 of them): the byte count, or null on EAGAIN. EINTR is retried. */
  readv(fd: number, bufs: Buffer[], site?: CallSite): number | null;
  /** write(2) of buf[0..length): the byte count, or null on EAGAIN. EINTR is retried. */
  write(fd: number, buf: Buffer, length: number, site?: CallSite): number | null;
  /** A non-blocking, close-on-exec eventfd (for waking a poll). */
  eventFd(): number;
  /**
   * poll(2) off the main thread: `fds` holds `count` struct pollfd records (uapi.ts codecs) and is
   * not touched by the caller until the promise settles. Resolves to the number of ready records
   * (0 on timeout or EINTR), with their revents filled in.
   */
  poll(fds: Buffer, count: number, timeoutMs: number): Promise<number>;
  /** poll(2) with a zero timeout, on the calling thread: a readiness check only. */
  pollNow(fds: Buffer, count: number): number;
  /**
   * Optional: reads `fd` from the main thread's event loop whenever it is readable (no thread-pool
   * poll), until `close`. A backend without it has its fds waited on by the reactor's `poll`.
   */
  readOnLoop?(fd: number, sink: LoopReaderSink, site?: CallSite): LoopReader;
}

/** What a loop reader reads into and reports to. */
export interface LoopReaderSink {
  /** Where the next read(2) goes; its length is what the read asks for. Asked again after each read. */
  target(): Buffer;
  /** A read brought `n` (> 0) bytes into the last target. */
  onRead(n: number): void;
  /** The read failed (an IioError naming read, the path and the device), or the fd reached its end. */
  onError(err: unknown): void;
}

export interface LoopReader {
  /** Stops reading and lets go of the fd; resolves once nothing reads it any more. */
  close(): Promise<void>;
}

/** Memory: DMABUF and mmap-block mappings and the memfd behind /dev/udmabuf. */
export interface MemoryOps {
  /**
   * mmap(2) of `length` bytes of `fd` starting `offset` bytes into it (default 0), shared, with
   * `prot` (PROT_READ|PROT_WRITE). `offset` is a non-negative multiple of 4096 (the page size of
   * every supported target): anything else is EINVAL before the call. DMABUFs map from 0; ADI's
   * block API maps each block from the offset IIO_BUFFER_BLOCK_QUERY_IOCTL reports.
   */
  mmap(fd: number, length: number, prot: number, site?: CallSite, offset?: number): MappedRegion;
  /** munmap(2). The region's view must be unreachable by then. */
  munmap(region: MappedRegion): void;
  /**
   * Replaces the mapping in place with private anonymous memory: the file behind it is released,
   * while views still pointing there read zeros instead of faulting. `munmap` it later.
   */
  detachToAnonymous(region: MappedRegion): void;
  /** A memfd of `size` bytes sealed against shrinking (what /dev/udmabuf wants); returns its fd. */
  sealedMemfd(name: string, size: number): number;
}

/** Everything the core asks of the kernel. */
export interface Backend extends FileOps, FdOps, MemoryOps {
  /** Short name for messages and status: `local`, `fake`… */
  readonly name: string;
}
