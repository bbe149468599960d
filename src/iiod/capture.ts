// Capture from a board's device over iiod: OPEN with the channel mask, one READBUF per block, the
// daemon's chunks (the first carries the mask) put together into whole blocks laid out as the
// kernel lays them out, so ScanDecoder reads them as it reads local ones; CLOSE on stop.
import type { IioError } from '../errors';
import type { CapturedBlock } from '../buffer';
import { statusError } from './connection';
import { RemoteBufferSession, RemoteBufferSetup } from './session';
import type { RemoteDevice } from './context-xml';

export interface RemoteCaptureOptions extends RemoteBufferSetup {
  onBlock: (block: CapturedBlock) => void;
  /** A failure after start (the board went away, a timeout, junk): the capture has stopped. */
  onError: (err: IioError) => void;
}

export class RemoteCapture extends RemoteBufferSession {
  /** iiod 0.24 does not say when the kernel buffer overflowed: always 0. */
  readonly overruns = 0;
  private sequence = 0;
  private stopping = false;
  private loop: Promise<void> | null = null;

  constructor(address: { host: string; port: number }, device: RemoteDevice, private readonly opts: RemoteCaptureOptions) {
    super(address, device, 'in', opts);
  }

  get running(): boolean {
    return this.loop !== null && !this.stopping;
  }

  /** Connects and opens the buffer; blocks then arrive through `onBlock`. */
  async start(): Promise<void> {
    if (this.loop) return;
    await this.openSession();
    this.loop = this.run();
  }

  /** Stops after the block in flight, CLOSEs the buffer and ends the session. Idempotent. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    await this.closeSession();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let data: Buffer;
      try {
        data = await this.readBlock();
      } catch (err) {
        if (this.stopping) return;
        this.stopping = true;
        await this.failed(err, this.opts.onError);
        return;
      }
      if (this.stopping) return;
      this.opts.onBlock({ data, scans: this.scansPerBlock, sequence: ++this.sequence, overrun: false });
    }
  }

  /** One READBUF of a whole block: chunks of at most what remains, the mask line once. */
  private readBlock(): Promise<Buffer> {
    const conn = this.session();
    const ctx = this.context('READBUF');
    return conn.run(ctx, `READBUF ${this.device.id} ${this.blockBytes}\n`, async (reply) => {
      const block = Buffer.alloc(this.blockBytes);
      let got = 0;
      while (got < this.blockBytes) {
        const n = await reply.integer();
        if (n < 0) throw statusError(conn, n, ctx);
        if (n === 0 || n > this.blockBytes - got) throw reply.protocolError(`a chunk of ${n} bytes where ${this.blockBytes - got} remain`);
        if (got === 0) {
          const mask = await reply.line(this.mask.length);
          if (mask !== this.mask) throw reply.protocolError(`channel mask ${mask}, not the ${this.mask} opened (does another client share the buffer?)`);
        }
        await reply.bytesInto(block, got, n);
        got += n;
      }
      return block;
    }, this.replyTimeoutMs);
  }
}
