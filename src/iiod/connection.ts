// One TCP session with an iiod daemon: commands one at a time (a bounded queue), the framing of
// its text protocol (an integer line; a length, that many bytes, a newline), a timeout on every
// wait, and every length from the peer bounded before anything is allocated. Any failure that
// leaves the byte stream out of step (a timeout, junk, a closed socket) ends the session: the
// socket is destroyed and every later command fails with the same error.
import * as net from 'node:net';
import { IioError, errnoName, errnoFromCode, fromNodeError, describeValue } from '../errors';

export interface ConnectionOptions {
  host: string;
  port: number;
  /** Bound on connecting and on each wait for a reply (ms); default 5000. */
  timeoutMs?: number;
  /** Commands allowed to wait behind the running one; more fail with EAGAIN. Default 64. */
  maxQueued?: number;
}

/** What a command is about, for its errors: `iiod READ on raw (iio:device1) failed: …`. */
export interface CommandContext {
  /** The command word: READ, WRITE, OPEN, READBUF… */
  command: string;
  device?: string;
  attribute?: string;
}

/** Longest integer or mask line we accept (iiod's mask line is at most 129 bytes). */
const MAX_LINE = 256;
/**
 * Bytes queued from the peer (beyond what goes straight into a block) before the socket is paused:
 * above what pipelined READBUFs have outstanding (1 MiB of blocks, capture.ts), so a daemon sending
 * what was asked for is never held up (pausing at 64 KiB stalled it once per block); a peer
 * sending more than asked is held there.
 */
const HIGH_WATER = 2 * 1024 * 1024;
/** Most bytes one socket read takes (Node's `onread`). */
const READ_BUFFER_BYTES = 256 * 1024;
/**
 * The socket reads into a slab, each read just after the last, never into memory read before: the
 * bytes stay where they landed, so a block that arrived in one piece is handed out as a view of the
 * slab, not copied (the largest share of a remote capture's CPU was that copy). A new slab is taken
 * when less than READ_MIN_BYTES is left; the old one goes once nothing refers to it (a block a
 * flow keeps keeps its slab).
 */
const SLAB_BYTES = 1024 * 1024;
const READ_MIN_BYTES = 64 * 1024;
export const DEFAULT_TIMEOUT_MS = 5000;

/** The reading side a command body uses: each wait is bounded by the command's timeout. */
export interface Reply {
  /** One `\n`-terminated line, without the newline; EPROTO when longer than `max`. */
  line(max?: number): Promise<string>;
  /** An integer line (iiod's status/length line). */
  integer(): Promise<number>;
  /** Exactly `n` bytes; the caller bounds `n` first. */
  bytes(n: number): Promise<Buffer>;
  /** Exactly `n` bytes into `dest` at `offset`. */
  bytesInto(dest: Buffer, offset: number, n: number): Promise<void>;
  /**
   * Exactly `n` bytes as a Buffer of the caller's own: a view of the bytes where they arrived when
   * they came in one piece (no copy), else a copy. The caller bounds `n` first.
   */
  bytesView(n: number): Promise<Buffer>;
  /** Sends more bytes (a WRITE value, a WRITEBUF block). */
  send(data: Buffer | string): void;
  /** A protocol violation: EPROTO naming the command; ends the session. */
  protocolError(why: string): IioError;
}

/** Where the bytes of a pending bytesInto() go straight from the socket's read buffer. */
interface Sink {
  dest: Buffer;
  offset: number;
  remaining: number;
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
  reject: (e: IioError) => void;
  timeoutMs: number;
  what: string | (() => string);
}

export class IiodConnection {
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly maxQueued: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes a pending bytesView() waits for: the socket is not paused below that. */
  private wanted = 0;
  private waiter: Waiter | null = null;
  /**
   * The bound on the pending wait: one timer for the session, re-armed by each wait and by each
   * arrival of bytes (a timer per wait cost a share of a remote capture's CPU). Left armed when a
   * wait ends, it finds no waiter when it fires.
   */
  private watchdog: NodeJS.Timeout | null = null;
  private watchdogMs = 0;
  private sink: Sink | null = null;
  private current: CommandContext | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Commands whose line went out before their turn (`run(…, sendNow)`) and whose turn has not come. */
  private sentAhead = 0;
  /** Lines of `run(…, sendNow)` not yet written: they leave together at the end of the turn. */
  private ahead = '';
  private failure: IioError | null = null;
  private closed: Promise<void>;

  private constructor(private readonly socket: net.Socket, opts: ConnectionOptions, reads: ReadHook) {
    this.endpoint = formatEndpoint(opts.host, opts.port);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxQueued = opts.maxQueued ?? 64;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    for (const early of reads.early) this.onData(early, 0, early.length);
    reads.to = (buf, n) => this.onData(buf, 0, n);
    socket.on('end', () => this.fail(this.error({ code: 'ECONNRESET', detail: 'the peer closed the connection' })));
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(this.fromSocketError(e)));
    socket.on('close', () => this.fail(this.error({ code: 'ECONNRESET', detail: 'the connection closed' })));
  }

  /** Connects, bounded by `timeoutMs`: ETIMEDOUT, ECONNREFUSED, EHOSTUNREACH… as IioError. */
  static connect(opts: ConnectionOptions): Promise<IiodConnection> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const endpoint = formatEndpoint(opts.host, opts.port);
    return new Promise((resolve, reject) => {
      // Bytes come into the slab (see SLAB_BYTES) and are queued where they are, or copied at once
      // into the block a bytesInto() is filling.
      const reads: ReadHook = { early: [], to: null };
      let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      let used = 0;
      const onread = {
        buffer: (): Buffer => {
          if (SLAB_BYTES - used < READ_MIN_BYTES) {
            slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
            used = 0;
          }
          return slab.subarray(used, Math.min(SLAB_BYTES, used + READ_BUFFER_BYTES));
        },
        callback: (n: number, buf: Buffer): boolean => {
          used += n;
          if (reads.to) reads.to(buf, n);
          else reads.early.push(buf.subarray(0, n));
          return true; // pausing is onData's, through socket.pause()
        },
      };
      const socket = net.connect({ host: opts.host, port: opts.port, onread });
      const timer = setTimeout(() => done(new IioError({ code: 'ETIMEDOUT', errno: 110, syscall: 'connect', detail: `${endpoint}: no answer in ${timeoutMs} ms` })), timeoutMs);
      const onError = (e: NodeJS.ErrnoException) => done(fromNodeError(e, { syscall: 'connect', detail: `${endpoint}: ${e.message}` }));
      const done = (err: IioError | null) => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('connect', onConnect);
        if (err) {
          socket.destroy();
          reject(err);
        } else {
          socket.setNoDelay(true);
          resolve(new IiodConnection(socket, opts, reads));
        }
      };
      const onConnect = () => done(null);
      socket.once('error', onError);
      socket.once('connect', onConnect);
    });
  }

  /** Whether the session can still take commands. */
  get usable(): boolean {
    return this.failure === null;
  }

  /**
   * Runs one command: sends `line`, then lets `body` read the reply. Commands run in call order,
   * one at a time. `timeoutMs` overrides the session's bound on each wait of this command.
   * `sendNow` sends the line at once rather than at its turn (pipelining: only for commands whose
   * line cannot be refused in a way that leaves bytes to be read as commands, e.g. READBUF).
   */
  run<T>(ctx: CommandContext, line: string, body: (reply: Reply) => Promise<T>, timeoutMs = this.timeoutMs, sendNow = false): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queued >= this.maxQueued) {
      return Promise.reject(this.error({ code: 'EAGAIN', detail: `${this.queued} commands already waiting` }, ctx));
    }
    this.queued++;
    // Pipelined: the daemon reads the line as soon as it is done with the commands before it, so
    // it works on this one while the client still reads the replies of those.
    if (sendNow) {
      // Lines sent ahead in the same turn leave as one string in one write (the profile's largest
      // share was one socket write per READBUF; a corked writev of many lines costs more than one).
      if (this.ahead === '') process.nextTick(() => this.flushAhead());
      this.ahead += line;
      this.sentAhead++;
    }
    const result = this.tail.then(async () => {
      this.queued--;
      if (sendNow) this.sentAhead--;
      if (this.failure) throw this.failure;
      this.current = ctx;
      try {
        if (!sendNow) {
          this.flushAhead(); // keeps the order of the lines
          this.socket.write(line);
        }
        const value = await body(this.reply(ctx, timeoutMs));
        // More than the reply, with no pipelined command to take it: whatever follows would be taken for the next command's answer.
        if (this.buffered > 0 && this.sentAhead === 0) this.fail(this.error({ code: 'EPROTO', errno: 71, detail: `${this.buffered} bytes after the reply (not an iiod?)` }, ctx));
        return value;
      } catch (err) {
        throw this.toCommandError(err, ctx);
      } finally {
        this.current = null;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Sends the lines `run(…, sendNow)` gathered this turn. */
  private flushAhead(): void {
    if (this.ahead === '') return;
    const lines = this.ahead;
    this.ahead = '';
    if (!this.failure) this.socket.write(lines);
  }

  /** Ends the session (EXIT when it is healthy); resolves once the socket is gone. */
  async close(): Promise<void> {
    if (!this.failure) this.socket.end('EXIT\n');
    this.fail(this.error({ code: 'ECANCELED', errno: 125, detail: 'the connection was closed' }), false);
    // A peer that does not close its side after EXIT is not waited for long.
    const timer = this.socket.destroyed ? null : setTimeout(() => this.socket.destroy(), 1000);
    await this.closed;
    if (timer) clearTimeout(timer);
  }

  /** An IioError about this session, the current command, `ctx`. */
  error(o: { code: string; errno?: number; detail: string }, ctx: CommandContext | null = this.current): IioError {
    return new IioError({
      code: o.code,
      errno: o.errno ?? errnoFromCode(o.code),
      syscall: ctx ? `iiod ${ctx.command}` : 'iiod',
      device: ctx?.device,
      attribute: ctx?.attribute,
      detail: `${this.endpoint}: ${o.detail}`,
    });
  }

  private fromSocketError(e: NodeJS.ErrnoException): IioError {
    return this.error({ code: typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) ? e.code : 'EIO', errno: Math.abs(e.errno ?? 0) || undefined, detail: e.message });
  }

  private toCommandError(err: unknown, ctx: CommandContext): IioError {
    if (err instanceof IioError) return err;
    return this.error({ code: 'EIO', detail: err instanceof Error ? err.message : describeValue(err) }, ctx);
  }

  /** Ends the session with `err`: the pending wait fails, the socket goes. */
  private fail(err: IioError, destroy = true): void {
    if (!this.failure) this.failure = err;
    const w = this.waiter;
    this.waiter = null;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    w?.reject(this.failure);
    this.chunks = [];
    this.buffered = 0;
    if (destroy) this.socket.destroy();
  }

  /** Bytes [at, end) of a socket read: slab memory no later read overwrites (see SLAB_BYTES). */
  private onData(buf: Buffer, at: number, end: number): void {
    if (this.failure) return;
    if (!this.current && this.sentAhead === 0) {
      this.fail(this.error({ code: 'EPROTO', errno: 71, detail: `${end - at} bytes from the peer while no command was running (not an iiod?)` }, null));
      return;
    }
    const sink = this.sink;
    if (sink && sink.remaining > 0 && this.buffered === 0) {
      const k = Math.min(end - at, sink.remaining);
      buf.copy(sink.dest, sink.offset, at, at + k);
      sink.offset += k;
      sink.remaining -= k;
      at += k;
      if (this.waiter) this.watchdog?.refresh(); // progress: the bound is on each wait for more bytes
    }
    if (at < end) {
      this.chunks.push(buf.subarray(at, end));
      this.buffered += end - at;
      if (this.buffered >= Math.max(HIGH_WATER, this.wanted)) this.socket.pause();
    }
    const w = this.waiter;
    if (w && w.ready()) {
      this.waiter = null;
      w.resolve();
    } else if (w && this.wanted > 0) {
      this.watchdog?.refresh(); // progress towards a bytesView(): the bound is on each wait for more bytes
    }
  }

  /** Waits until `ready()`, each arrival of bytes checking it; ETIMEDOUT naming `what` after `timeoutMs` without progress. */
  private wait(ready: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (ready()) return Promise.resolve();
    if (this.socket.isPaused()) this.socket.resume();
    if (this.watchdog && this.watchdogMs === timeoutMs) this.watchdog.refresh();
    else {
      if (this.watchdog) clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => this.timedOut(), timeoutMs);
      this.watchdogMs = timeoutMs;
    }
    return new Promise((resolve, reject) => {
      this.waiter = { ready, resolve, reject, timeoutMs, what };
    });
  }

  /** The watchdog fired: the pending wait, if any, has had no progress for its whole bound. */
  private timedOut(): void {
    this.watchdog = null;
    const w = this.waiter;
    if (!w) return;
    this.fail(this.error({ code: 'ETIMEDOUT', errno: 110, detail: `no ${typeof w.what === 'string' ? w.what : w.what()} in ${w.timeoutMs} ms` }));
  }

  /** Takes `n` buffered bytes (n ≤ buffered) into dest, or drops them (dest null). */
  private take(dest: Buffer | null, offset: number, n: number): void {
    let done = 0;
    while (done < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - done);
      if (dest) c.copy(dest, offset + done, 0, k);
      done += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    if (this.buffered < HIGH_WATER && this.socket.isPaused()) this.socket.resume();
  }

  /** Takes `n` buffered bytes (n ≤ buffered) as a view when they lie in one piece of memory, else as a copy. */
  private takeView(n: number): Buffer {
    const first = this.chunks[0];
    let end = first.byteOffset;
    for (const c of this.chunks) {
      if (c.buffer !== first.buffer || c.byteOffset !== end) break; // not adjacent: copy
      end += c.length;
      if (end - first.byteOffset >= n) {
        const view = Buffer.from(first.buffer, first.byteOffset, n);
        this.take(null, 0, n);
        return view;
      }
    }
    const copy = Buffer.allocUnsafe(n);
    this.take(copy, 0, n);
    return copy;
  }

  /** Offset of the first `\n` within the first `limit` buffered bytes, or -1. */
  private newlineWithin(limit: number): number {
    let seen = 0;
    for (const c of this.chunks) {
      const at = c.indexOf(10); // the first newline of the chunk: past `limit` is as good as none
      if (at >= 0) return seen + at < limit ? seen + at : -1;
      seen += c.length;
      if (seen >= limit) break;
    }
    return -1;
  }

  private reply(ctx: CommandContext, timeoutMs: number): Reply {
    const protocolError = (why: string): IioError => {
      const err = this.error({ code: 'EPROTO', errno: 71, detail: why }, ctx);
      this.fail(err);
      return err;
    };
    const line = async (max = MAX_LINE): Promise<string> => {
      await this.wait(() => this.newlineWithin(max + 1) >= 0 || this.buffered > max, timeoutMs, 'reply');
      const at = this.newlineWithin(max + 1);
      if (at < 0) throw protocolError(`a reply line longer than ${max} bytes (not an iiod?)`);
      const first = this.chunks[0];
      if (at < first.length) {
        // The usual case: the line lies in the first chunk, read where it is.
        const text = first.toString('latin1', 0, at);
        this.take(null, 0, at + 1);
        return text;
      }
      const buf = Buffer.allocUnsafe(at + 1);
      this.take(buf, 0, at + 1);
      return buf.toString('latin1', 0, at);
    };
    const bytesInto = async (dest: Buffer, offset: number, n: number): Promise<void> => {
      const queued = Math.min(this.buffered, n);
      this.take(dest, offset, queued);
      if (queued === n) return;
      // The rest goes straight from the socket into dest.
      const sink: Sink = { dest, offset: offset + queued, remaining: n - queued };
      this.sink = sink;
      try {
        await this.wait(() => sink.remaining === 0, timeoutMs, () => `data (${n - sink.remaining} of ${n} bytes so far)`);
      } finally {
        this.sink = null;
      }
    };
    const bytesView = async (n: number): Promise<Buffer> => {
      if (this.buffered < n) {
        this.wanted = n;
        try {
          await this.wait(() => this.buffered >= n, timeoutMs, () => `data (${this.buffered} of ${n} bytes so far)`);
        } finally {
          this.wanted = 0;
        }
      }
      return this.takeView(n);
    };
    return {
      line,
      async integer() {
        const text = await line();
        if (!/^-?\d{1,19} *$/.test(text)) throw protocolError(`expected an integer line, got ${describeValue(text, 40)} (not an iiod?)`);
        return Number(text.trimEnd());
      },
      async bytes(n: number) {
        const buf = Buffer.alloc(n);
        await bytesInto(buf, 0, n);
        return buf;
      },
      bytesInto,
      bytesView,
      send: (data) => {
        this.socket.write(data);
      },
      protocolError,
    };
  }
}

/** Where the socket's reads go: held back until the connection object exists. */
interface ReadHook {
  early: Buffer[];
  to: ((buf: Buffer, n: number) => void) | null;
}

function formatEndpoint(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}


/** The IioError for iiod's negative status `status` (a -errno) about `ctx`. */
export function statusError(conn: IiodConnection, status: number, ctx: CommandContext, detail = 'the daemon answered'): IioError {
  const code = errnoName(-status);
  return conn.error({ code: code === 'EUNKNOWN' ? 'EIO' : code, errno: -status, detail: `${detail} ${status}` }, ctx);
}
