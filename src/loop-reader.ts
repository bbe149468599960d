// Reading a descriptor on Node's own event loop: libuv watches it with epoll on the main thread and
// reads it as soon as it is ready, into memory the caller chooses. No poll round trip through the
// thread pool and no ffi-rs call per wake-up (under QEMU that round trip cost ~0.6 ms, most of the
// time of a small block or an event). Node has no public handle for an arbitrary fd (net.Socket
// takes sockets and pipes only), so a duplicate of the fd is opened as a libuv pipe stream, which
// reads any pollable fd (uv_pipe_open checks no file type). Where that binding is missing, callers
// keep the reactor.
import * as net from 'net';
import * as libc from './libc';
import type { CallSite, LoopReader, LoopReaderSink } from './backend';
import { IioError } from './errors';

type PipeHandle = { open(fd: number): number; close?(): void };
/** What a read goes into when the sink could not say (its error is reported). */
const READ_FALLBACK_BYTES = 4096;
let pipeClass: (new (type: number) => PipeHandle) | null | undefined;
let pipeSocketType = 0;

function pipeBinding(): (new (type: number) => PipeHandle) | null {
  if (pipeClass === undefined) {
    pipeClass = null;
    try {
      const b = (process as unknown as { binding(name: string): { Pipe?: new (type: number) => PipeHandle; constants?: { SOCKET?: number } } }).binding('pipe_wrap');
      if (typeof b.Pipe === 'function' && typeof b.constants?.SOCKET === 'number') {
        pipeClass = b.Pipe;
        pipeSocketType = b.constants.SOCKET;
      }
    } catch {
      /* not in this Node: the reactor serves */
    }
  }
  return pipeClass;
}

/** Whether this Node can read fds on its event loop. */
export function loopReadable(): boolean {
  return process.platform === 'linux' && pipeBinding() !== null;
}

/**
 * Reads `fd` whenever it is readable until `close`. The fd itself stays the caller's (a duplicate
 * is read, so closing either never closes the other); it must be non-blocking-safe to share, as
 * libuv sets O_NONBLOCK on the open file.
 */
export function readOnLoop(fd: number, sink: LoopReaderSink, site: CallSite = {}): LoopReader {
  const Pipe = pipeBinding();
  if (!Pipe) throw new IioError({ code: 'ENOSYS', detail: "reading a descriptor on the event loop needs Node's pipe_wrap binding" });
  const dup = libc.dupFd(fd, site);
  let handle: PipeHandle;
  let rc: number;
  try {
    handle = new Pipe(pipeSocketType);
    rc = handle.open(dup);
  } catch (err) {
    libc.closeFd(dup);
    throw refused(err, site);
  }
  if (rc !== 0) {
    libc.closeFd(dup);
    throw libc.fail('uv_pipe_open', -rc, site);
  }
  // Node calls these from its own stream code: a throw there would be an uncaught exception, so
  // every failure goes to the sink's onError (and one from onError itself goes nowhere).
  const report = (err: unknown) => {
    try {
      sink.onError(err);
    } catch {
      /* a failing error sink must not take the process down */
    }
  };
  const target = (): Buffer => {
    try {
      return sink.target();
    } catch (err) {
      report(err);
      return Buffer.alloc(READ_FALLBACK_BYTES);
    }
  };
  let socket: net.Socket;
  try {
    socket = new net.Socket({
      handle,
      allowHalfOpen: true,
      onread: {
        buffer: target,
        callback: (n: number) => {
          try {
            sink.onRead(n);
          } catch (err) {
            report(err);
          }
          return true;
        },
      },
    } as net.SocketConstructorOpts);
  } catch (err) {
    handle.close?.(); // the handle owns the duplicate now: closing it closes that fd
    throw refused(err, site);
  }
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let closing = false;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (!closing) report(libc.fail('read', typeof err.errno === 'number' ? Math.abs(err.errno) : 5, site));
  });
  socket.on('end', () => {
    if (!closing) report(new IioError({ code: 'ENODEV', errno: 19, syscall: 'read', path: site.path, device: site.device, detail: 'end of file (device removed?)' }));
  });
  return {
    close() {
      closing = true;
      socket.destroy();
      return closed;
    },
  };
}

function refused(err: unknown, site: CallSite): IioError {
  return new IioError({ code: 'ENOSYS', syscall: 'read', path: site.path, device: site.device, detail: `Node refused the descriptor as a stream: ${(err as Error)?.message ?? String(err)}` });
}
