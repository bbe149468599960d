// One board kept connected: connects to its iiod, notices when it goes (a failed health check, or a
// stream's link failure), and reconnects with a bounded backoff. The owner (the iio-device config
// node) hears `connected`/`disconnected` and never handles sockets or timers itself.
import { IioError, toIioError } from '../errors';
import { RemoteContext } from './client';
import { RemoteIioContext, isLinkError } from './remote-context';
import { formatUri } from './uri';
import type { IioUri } from './uri';

export interface RemoteBoardOptions {
  /** Bound on connecting and on each reply (ms); default 5000. */
  timeoutMs?: number;
  /** First retry delay (ms), doubled per failure up to `retryMaxMs`; default 500. */
  retryMinMs?: number;
  /** Largest retry delay (ms); default 10000. */
  retryMaxMs?: number;
  /** How often a connected board is checked (ms); default 2000. */
  checkMs?: number;
  connected(ctx: RemoteIioContext): void;
  /** The board went away (or could not be reached after being connected): `err` names the host. */
  disconnected(err: IioError): void | Promise<void>;
  /** A connection attempt failed (the board was not connected): `err` names the host. */
  unreachable?(err: IioError): void;
}

export class RemoteBoard {
  private ctx: RemoteIioContext | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private closed = false;
  private busy = false;
  /** The last failure to reach the board, shown until it connects. */
  lastError: IioError | null = null;

  constructor(readonly uri: Extract<IioUri, { kind: 'ip' }>, private readonly opts: RemoteBoardOptions) {
    this.delay = opts.retryMinMs ?? 500;
  }

  get context(): RemoteIioContext | null {
    return this.ctx;
  }

  /** The wait before the next attempt after a failure now (doubles per failure, up to `retryMaxMs`). */
  get retryDelayMs(): number {
    return this.delay;
  }

  /** Starts connecting (at once); retries until `close`. */
  start(): void {
    this.schedule(0);
  }

  /** A stream's failure says the link is gone: drop the session and reconnect. */
  linkFailed(err: IioError): void {
    if (this.ctx && !this.closed) void this.lose(err);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.ctx;
    this.ctx = null;
    await c?.close();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.closed || this.busy) return;
    this.busy = true;
    try {
      if (this.ctx) await this.check();
      else await this.connect();
    } finally {
      this.busy = false;
    }
  }

  private async connect(): Promise<void> {
    try {
      const remote = await RemoteContext.connect(this.uri, { timeoutMs: this.opts.timeoutMs });
      if (this.closed) {
        await remote.close();
        return;
      }
      const ctx = new RemoteIioContext(remote);
      ctx.onLinkTrouble = (err) => this.linkFailed(err);
      this.ctx = ctx;
      this.lastError = null;
      this.delay = this.opts.retryMinMs ?? 500;
      this.schedule(this.opts.checkMs ?? 2000);
      this.opts.connected(ctx);
    } catch (err) {
      const e = toIioError(err);
      this.lastError = e;
      this.opts.unreachable?.(e);
      this.schedule(this.delay);
      this.delay = Math.min(this.delay * 2, this.opts.retryMaxMs ?? 10000);
    }
  }

  /** A cheap round trip (the session's TIMEOUT): a dead or half-open peer fails it in time. */
  private async check(): Promise<void> {
    const ctx = this.ctx!;
    try {
      if (!ctx.remote.connected) throw new IioError({ code: 'ECONNRESET', detail: `the connection to ${this.uriText} closed` });
      await ctx.remote.setTimeout(ctx.remote.timeoutMs);
      this.schedule(this.opts.checkMs ?? 2000);
    } catch (err) {
      const e = toIioError(err);
      if (isLinkError(e) || !ctx.remote.connected) await this.lose(e);
      else this.schedule(this.opts.checkMs ?? 2000);
    }
  }

  private get uriText(): string {
    return formatUri(this.uri);
  }

  private async lose(err: IioError): Promise<void> {
    const c = this.ctx;
    if (!c) return;
    this.ctx = null;
    this.lastError = err;
    await c.close().catch(() => undefined);
    if (this.closed) return;
    this.schedule(this.delay);
    await this.opts.disconnected(err);
  }
}
