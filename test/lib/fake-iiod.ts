// A scripted TCP peer for the iiod client's host tests: it reads command lines (and the payload a
// handler asks for) and answers whatever the test says — a faithful iiod, or a broken one.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createHook } from 'node:async_hooks';

/** Captured from Debian's iiod 0.24 (PRINT) serving the emulator in the harness VM, trigger t0 created first. */
export const CONTEXT_XML = fs.readFileSync(path.join(__dirname, '../../../test/fixtures/iiod-0.24-context.xml'), 'utf8');

export interface FakeSession {
  socket: net.Socket;
  /** Command lines received, without the newline. */
  lines: string[];
  /** Payloads received after WRITE/WRITEBUF (as a handler asked for them). */
  payloads: Buffer[];
  /** The client ended or dropped the connection. */
  peerClosed: boolean;
}

/** What a handler does with a line: answer bytes, optionally after reading `payload` more bytes. */
export type Handler = (line: string, session: FakeSession) => FakeAnswer | void;
export interface FakeAnswer {
  reply?: string | Buffer;
  /** Bytes of payload to read before `then` answers (WRITE, WRITEBUF). */
  payload?: number;
  /** Sent before the payload is read (WRITEBUF's "0\n"). */
  ready?: string;
  then?: (payload: Buffer) => string | Buffer | void;
}

export class FakeIiod {
  readonly server: net.Server;
  readonly sessions: FakeSession[] = [];
  port = 0;

  constructor(private readonly handler: Handler) {
    this.server = net.createServer((socket) => this.serve(socket));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  get uri(): string {
    return `ip:127.0.0.1:${this.port}`;
  }

  /** Every command line of every session, in order. */
  get lines(): string[] {
    return this.sessions.flatMap((s) => s.lines);
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: net.Socket): void {
    const session: FakeSession = { socket, lines: [], payloads: [], peerClosed: false };
    this.sessions.push(session);
    let input = Buffer.alloc(0);
    let want: { n: number; then?: FakeAnswer['then'] } | null = null;
    socket.on('error', () => undefined);
    socket.on('end', () => (session.peerClosed = true));
    socket.on('close', () => (session.peerClosed = true));
    socket.on('data', (d) => {
      input = Buffer.concat([input, d]);
      for (;;) {
        if (want) {
          if (input.length < want.n) return;
          const payload = input.subarray(0, want.n);
          input = input.subarray(want.n);
          session.payloads.push(Buffer.from(payload));
          const answer = want.then?.(payload);
          want = null;
          if (answer !== undefined && !socket.destroyed) socket.write(answer);
          continue;
        }
        const nl = input.indexOf(10);
        if (nl < 0) return;
        const line = input.subarray(0, nl).toString('latin1');
        input = input.subarray(nl + 1);
        session.lines.push(line);
        if (line === 'EXIT') {
          socket.end();
          return;
        }
        const a = this.handler(line, session);
        if (!a || socket.destroyed) continue;
        if (a.ready !== undefined) socket.write(a.ready);
        if (a.reply !== undefined) socket.write(a.reply);
        if (a.payload !== undefined) want = { n: a.payload, then: a.then };
      }
    });
  }
}

/** iiod's answer carrying a value: its length, the bytes, a newline. */
export function sized(value: string | Buffer): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  return Buffer.concat([Buffer.from(`${b.length}\n`), b, Buffer.from('\n')]);
}

// Timers created by the iiod client (src/iiod/ on the creating stack) and not yet fired or cleared;
// mocha's own timers come and go between hooks, so counting every timer would not tell.
const clientTimers = new Set<number>();
createHook({
  init(id, type) {
    if (type === 'Timeout' && /[/\\]src[/\\]iiod[/\\]/.test(new Error().stack ?? '')) clientTimers.add(id);
  },
  destroy(id) {
    clientTimers.delete(id);
  },
}).enable();

/** Open TCP sockets (client and server sides) and live timers of the iiod client. */
export function liveHandles(): { sockets: number; timers: number } {
  return { sockets: process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap').length, timers: clientTimers.size };
}
