// The local kernel backend: the Backend contract over this machine's kernel, files through Node's
// fs and descriptors through libc (ffi-rs). Also which backend the core uses: this one unless a
// test (or, later, a remote context) installs another.
import * as fs from 'node:fs';
import { createExternalBuffer } from 'ffi-rs';
import type { Backend, CallSite, DirEntry, EntryKind, MappedRegion } from './backend';
import * as libc from './libc';
import { loopReadable, readOnLoop } from './loop-reader';
import { invalid } from './errors';

class LocalRegion implements MappedRegion {
  // Weak: a finalizer keyed on the view holds this region to unmap it later (see the contract).
  private readonly ref: WeakRef<Buffer>;
  constructor(readonly mapping: libc.Mapping) {
    this.ref = new WeakRef(createExternalBuffer(mapping.pointer, mapping.length));
  }
  get view(): Buffer {
    const v = this.ref.deref();
    if (!v) throw invalid('the view of this mapping was already collected');
    return v;
  }
  get length(): number {
    return this.mapping.length;
  }
}

function kindOf(e: fs.Dirent): EntryKind {
  return e.isFile() ? 'file' : e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'link' : 'other';
}

function shortWrite(written: number, length: number, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`short write: ${written} of ${length} bytes`), { code: 'EIO', syscall: 'write', path });
}

const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_TRUNC;

function region(r: MappedRegion): libc.Mapping {
  if (!(r instanceof LocalRegion)) throw invalid('not a mapping of the local backend');
  return r.mapping;
}

export const localBackend: Backend = {
  name: 'local',

  readText: (path) => fs.readFileSync(path, 'utf8'),
  readTextAsync: (path) => fs.promises.readFile(path, 'utf8'),
  readBytes: (path) => fs.readFileSync(path),
  writeText(path, text) {
    const fd = fs.openSync(path, WRITE_FLAGS);
    try {
      const data = Buffer.from(text);
      const written = fs.writeSync(fd, data, 0, data.length);
      if (written !== data.length) throw shortWrite(written, data.length, path);
    } finally {
      fs.closeSync(fd);
    }
  },
  async writeTextAsync(path, text) {
    const handle = await fs.promises.open(path, WRITE_FLAGS);
    try {
      const data = Buffer.from(text);
      const { bytesWritten } = await handle.write(data, 0, data.length);
      if (bytesWritten !== data.length) throw shortWrite(bytesWritten, data.length, path);
    } finally {
      await handle.close();
    }
  },
  exists: (path) => fs.existsSync(path),
  existsAsync: (path) => fs.promises.access(path, fs.constants.F_OK).then(() => true, () => false),
  list: (dir): DirEntry[] => fs.readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, kind: kindOf(e) })),
  realpath: (path) => fs.realpathSync.native(path),
  mkdir: (path) => fs.mkdirSync(path),
  rmdir: (path) => fs.rmdirSync(path),

  open: (path, flags, site?: CallSite) => libc.openFile(path, flags, site),
  close: (fd, site) => libc.closeFd(fd, site),
  setNonBlocking: (fd, site) => libc.setNonBlocking(fd, site),
  ioctl: (fd, request, arg, site) => libc.ioctl(fd, request, arg, site),
  read: (fd, buf, length, site) => libc.readInto(fd, buf, length, site),
  readv: (fd, bufs, site) => libc.readvInto(fd, bufs, site),
  write: (fd, buf, length, site) => libc.writeFrom(fd, buf, length, site),
  eventFd: () => libc.eventFd(),
  poll: (fds, count, timeoutMs) => libc.pollAsync(fds, count, timeoutMs),
  pollNow: (fds, count) => libc.pollNow(fds, count),
  ...(loopReadable() && { readOnLoop }),

  mmap: (fd, length, prot, site, offset) => new LocalRegion(libc.mapShared(fd, length, prot, site, offset)),
  munmap: (r) => libc.unmap(region(r)),
  detachToAnonymous: (r) => libc.replaceWithAnonymous(region(r)),
  sealedMemfd: (name, size) => libc.sealedMemfd(name, size),
};

let active: Backend = localBackend;

/** The backend the core talks to. */
export function kernel(): Backend {
  return active;
}

/**
 * Makes `b` the backend of every later core call; returns a function that puts the previous one
 * back. For tests: streams and handles opened on one backend must be closed before switching.
 */
export function useBackend(b: Backend): () => void {
  const previous = active;
  active = b;
  return () => {
    active = previous;
  };
}
