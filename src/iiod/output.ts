// Output to a board's device over iiod: OPEN with the channel mask, one WRITEBUF per block (the
// daemon answers 0 when ready for the bytes, then how many it took). iiod 0.24 refuses CYCLIC on
// mainline kernels (EPERM), so a cyclic block is repeated here, as the local write() path does.
import { IioError, invalid, describeValue } from '../errors';
import { statusError } from './connection';
import { RemoteBufferSession, RemoteBufferSetup } from './session';
import type { RemoteDevice } from './context-xml';

export interface RemoteOutputOptions extends RemoteBufferSetup {
  /** Blocks accepted and not yet sent; `write` returns false beyond. Default 4. */
  blocks?: number;
  /** The queue has room again. */
  onDrain?: () => void;
  /** A failure after start: the output has stopped. */
  onError: (err: IioError) => void;
}

export class RemoteOutput extends RemoteBufferSession {
  /** Bytes the daemon took so far. */
  written = 0;
  private readonly limit: number;
  private queue: Buffer[] = [];
  private cyclic: Buffer | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(address: { host: string; port: number }, device: RemoteDevice, private readonly opts: RemoteOutputOptions) {
    super(address, device, 'out', opts);
    this.limit = opts.blocks ?? 4;
    if (!Number.isInteger(this.limit) || this.limit < 1 || this.limit > 1024) throw invalid(`blocks ${describeValue(opts.blocks)}: 1 to 1024`, { device: device.name });
  }

  get running(): boolean {
    return this.loop !== null && !this.stopping;
  }

  /** Blocks accepted and not yet sent. */
  get queued(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    await this.openSession();
    this.loop = this.run();
  }

  /**
   * Queues one block of whole scans (at most `scansPerBlock`); false, taking nothing, while the
   * queue is full. A cyclic block is sent again and again until the next write or stop.
   */
  write(data: Buffer, cyclic = false): boolean {
    const label = this.device.name ?? this.device.id;
    if (!this.running) throw new IioError({ code: 'EBADF', errno: 9, device: label, detail: 'output is not running' });
    if (!Buffer.isBuffer(data) || data.length === 0 || data.length % this.layout.scanBytes !== 0 || data.length > this.blockBytes) {
      throw invalid(`a block of 1 to ${this.scansPerBlock} ${this.layout.scanBytes}-byte scans expected, got ${describeValue(data)}`, { device: label });
    }
    if (this.queue.length >= this.limit) return false;
    const copy = Buffer.from(data);
    this.queue.push(copy);
    this.cyclic = cyclic ? copy : null;
    this.wake?.();
    return true;
  }

  /** Stops after the block in flight (queued blocks are dropped), CLOSEs the buffer, ends the session. */
  async close(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.queue = [];
    this.cyclic = null;
    this.wake?.();
    await this.closeSession();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const wasFull = this.queue.length >= this.limit;
      const next = this.queue.shift() ?? this.cyclic;
      if (!next) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      try {
        this.written += await this.writeBlock(next);
      } catch (err) {
        if (this.stopping) return;
        this.stopping = true;
        this.queue = [];
        this.cyclic = null;
        await this.failed(err, this.opts.onError);
        return;
      }
      if (wasFull && !this.stopping) this.opts.onDrain?.();
    }
  }

  private writeBlock(data: Buffer): Promise<number> {
    const conn = this.session();
    const ctx = this.context('WRITEBUF');
    return conn.run(ctx, `WRITEBUF ${this.device.id} ${data.length}\n`, async (reply) => {
      // The bytes go only once the daemon said it takes them: sent after a refusal they would be read as commands.
      const ready = await reply.integer();
      if (ready < 0) throw statusError(conn, ready, ctx);
      reply.send(data);
      const taken = await reply.integer();
      if (taken < 0) throw statusError(conn, taken, ctx);
      if (taken !== data.length) throw reply.protocolError(`the daemon took ${taken} of ${data.length} bytes`);
      return taken;
    }, this.replyTimeoutMs);
  }
}
