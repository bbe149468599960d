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
  /**
   * 2 (default) pipelines: up to MAX_PIPELINE READBUFs outstanding (bounded by PIPELINE_BYTES),
   * asked for in batches; 1 waits for each block before asking for the next.
   */
  pipeline?: 1 | 2;
}

/**
 * Most READBUFs outstanding at once when pipelined. Deep, for small blocks: each refill is one
 * socket write, which on loopback runs the daemon's receive in our syscall (4 KiB blocks over
 * iiod: 0.47–0.62x iio_readdev -u eight deep, 0.90–1.12x 32 deep).
 */
const MAX_PIPELINE = 32;
/** Most bytes of blocks outstanding at once when pipelined (at least two blocks). */
const PIPELINE_BYTES = 1 << 20;

/** READBUFs kept outstanding: 1, or 2..MAX_PIPELINE whose blocks fit PIPELINE_BYTES. */
function pipelineDepth(pipeline: 1 | 2, blockBytes: number): number {
  if (pipeline === 1) return 1;
  return Math.max(2, Math.min(MAX_PIPELINE, Math.floor(PIPELINE_BYTES / blockBytes)));
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
  async close(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    await this.closeSession();
    await this.loop;
  }

  /**
   * READBUFs several deep (pipelineDepth): the next are on their way while the current block arrives
   * and is delivered, so the daemon refills its buffer instead of waiting a round trip for the command.
   */
  private async run(): Promise<void> {
    const inFlight: Promise<Buffer>[] = [];
    const depth = pipelineDepth(this.opts.pipeline ?? 2, this.blockBytes);
    // Refilled once half has arrived: the READBUFs of a refill leave in one write.
    const refillAt = depth === 1 ? 0 : Math.floor(depth / 2);
    try {
      while (!this.stopping) {
        if (inFlight.length <= refillAt) while (inFlight.length < depth) {
          const next = this.readBlock();
          next.catch(() => undefined); // awaited in turn below; a stop may leave it unread
          inFlight.push(next);
        }
        let data: Buffer;
        try {
          data = await inFlight.shift()!;
        } catch (err) {
          if (this.stopping) return;
          this.stopping = true;
          await this.failed(err, this.opts.onError);
          return;
        }
        if (this.stopping) return;
        this.opts.onBlock({ data, scans: this.scansPerBlock, sequence: ++this.sequence, overrun: false });
      }
    } catch (err) {
      // session() refused: close() closed it between two blocks.
      if (!this.stopping) await this.failed(err, this.opts.onError);
    }
  }

  /** One READBUF of a whole block (sent at once, pipelined): chunks of at most what remains, the mask line once. */
  private readBlock(): Promise<Buffer> {
    const conn = this.session();
    const ctx = this.context('READBUF');
    return conn.run(ctx, `READBUF ${this.device.id} ${this.blockBytes}\n`, async (reply) => {
      let block: Buffer | null = null;
      let got = 0;
      while (got < this.blockBytes) {
        const n = await reply.integer();
        if (n < 0) throw statusError(conn, n, ctx);
        if (n === 0 || n > this.blockBytes - got) throw reply.protocolError(`a chunk of ${n} bytes where ${this.blockBytes - got} remain`);
        if (got === 0) {
          const mask = await reply.line(this.mask.length);
          if (mask !== this.mask) throw reply.protocolError(`channel mask ${mask}, not the ${this.mask} opened (does another client share the buffer?)`);
          // The whole block in one chunk (iiod's usual answer): the bytes where they arrived.
          if (n === this.blockBytes) return reply.bytesView(n);
        }
        // Every byte is written before the block is handed out (a failure discards it): no zero fill.
        block ??= Buffer.allocUnsafeSlow(this.blockBytes);
        await reply.bytesInto(block, got, n);
        got += n;
      }
      return block!;
    }, this.replyTimeoutMs, true);
  }
}
