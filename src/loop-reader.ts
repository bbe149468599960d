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

type PipeHandle = { open(fd: number): number };
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
  const handle = new Pipe(pipeSocketType);
  const rc = handle.open(dup);
  if (rc !== 0) {
    libc.closeFd(dup);
    throw libc.fail('uv_pipe_open', -rc, site);
  }
  const socket = new net.Socket({
    handle,
    allowHalfOpen: true,
    onread: {
      buffer: () => sink.target(),
      callback: (n: number) => {
        // A throw here would be an uncaught exception: the sink's owner hears of it instead.
        try {
          sink.onRead(n);
        } catch (err) {
          sink.onError(err);
        }
        return true;
      },
    },
  } as net.SocketConstructorOpts);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let closing = false;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (!closing) sink.onError(libc.fail('read', typeof err.errno === 'number' ? Math.abs(err.errno) : 5, site));
  });
  socket.on('end', () => {
    if (!closing) sink.onError(new IioError({ code: 'ENODEV', errno: 19, syscall: 'read', path: site.path, device: site.device, detail: 'end of file (device removed?)' }));
  });
  return {
    close() {
      closing = true;
      socket.destroy();
      return closed;
    },
  };
}
