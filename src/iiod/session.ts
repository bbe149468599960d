// What a remote capture and a remote output share: the scan elements chosen, their layout (the
// kernel's, which iiod passes through), the channel mask iiod wants, and a session of its own
// with the buffer OPENed on it and CLOSEd at the end.
import { IioError, invalid, describeValue, toIioError } from '../errors';
import { computeLayout, ScanLayout } from '../scan';
import { IiodConnection, CommandContext } from './connection';
import { status, commandWord } from './commands';
import type { RemoteChannel, RemoteDevice } from './context-xml';

export interface RemoteBufferSetup {
  /** Channel ids to enable (`voltage0`, `timestamp`); every scan element of the direction when omitted. */
  channels?: string[];
  /** Scans per block: the daemon's buffer size, and what one READBUF/WRITEBUF moves. */
  scansPerBlock: number;
  /** Bound on connecting and each reply; also the daemon's own buffer timeout (ms). Default 5000. */
  timeoutMs?: number;
}

/** Largest block one READBUF/WRITEBUF moves: what a peer can make us allocate per block. */
export const MAX_BLOCK_BYTES = 64 * 1024 * 1024;
/** Extra time the client waits beyond the daemon's own timeout, so the daemon's answer comes first. */
const REPLY_SLACK_MS = 2000;

/** The scan elements to enable, in scan order; ENOENT/EINVAL naming a channel that cannot be one. */
export function selectChannels(device: RemoteDevice, direction: 'in' | 'out', wanted?: string[]): RemoteChannel[] {
  const label = device.name ?? device.id;
  const scan = device.channels.filter((c) => c.direction === direction && c.scanElement);
  if (wanted === undefined) {
    if (scan.length === 0) throw new IioError({ code: 'ENODEV', errno: 19, device: label, detail: `${label} has no ${direction}put scan elements` });
    return scan;
  }
  if (!Array.isArray(wanted) || wanted.length === 0) throw invalid(`channels ${describeValue(wanted)}: a non-empty list of channel ids`, { device: label });
  return [...new Set(wanted)].map((id) => {
    const c = scan.find((x) => x.id === id);
    if (!c) {
      const known = scan.map((x) => x.id).join(', ');
      throw new IioError({ code: 'ENOENT', errno: 2, device: label, detail: `${label} has no ${direction}put scan element ${describeValue(id)} (it has ${known || 'none'})` });
    }
    return c;
  }).sort((a, b) => a.maskBit - b.maskBit);
}

/** iiod's mask text: one `%08x` word per 32 channels of the device, the highest word first. */
export function channelMask(device: RemoteDevice, enabled: readonly RemoteChannel[]): string {
  const words = new Array<number>(Math.max(1, Math.ceil(device.channels.length / 32))).fill(0);
  for (const c of enabled) words[c.maskBit >> 5] = (words[c.maskBit >> 5] | (1 << (c.maskBit & 31))) >>> 0;
  return words.reverse().map((w) => w.toString(16).padStart(8, '0')).join('');
}

/**
 * The scan size libiio 0.24 computes for these channels (iio_device_get_sample_size_mask): each
 * element aligned to its own size, but no padding of the scan to its largest element, which the
 * kernel adds. iiod sizes its reads with it, so where the two differ it cannot serve the set.
 */
export function libiioScanBytes(enabled: readonly RemoteChannel[]): number {
  let size = 0;
  for (const c of enabled) {
    const t = c.scanElement!.type;
    const length = (t.storageBits / 8) * t.repeat;
    size += size % length ? 2 * length - (size % length) : length;
  }
  return size;
}

export class RemoteBufferSession {
  readonly channels: RemoteChannel[];
  readonly layout: ScanLayout;
  readonly mask: string;
  readonly scansPerBlock: number;
  readonly blockBytes: number;
  readonly timeoutMs: number;
  protected conn: IiodConnection | null = null;

  constructor(
    readonly address: { host: string; port: number },
    readonly device: RemoteDevice,
    direction: 'in' | 'out',
    setup: RemoteBufferSetup,
  ) {
    const label = device.name ?? device.id;
    commandWord(device.id, 'device id', label);
    this.channels = selectChannels(device, direction, setup.channels);
    this.layout = computeLayout(this.channels.map((c) => ({ name: c.id, index: c.scanElement!.index, type: c.scanElement!.type, isTimestamp: c.id === 'timestamp' })));
    this.mask = channelMask(device, this.channels);
    const libiio = libiioScanBytes(this.channels);
    if (libiio !== this.layout.scanBytes) {
      throw invalid(
        `iiod 0.24 cannot serve ${this.channels.map((c) => c.id).join(', ')}: libiio counts ${libiio}-byte scans where the kernel pads them to ${this.layout.scanBytes}; ` +
          'add the timestamp channel or another channel as wide as the widest one',
        { device: label },
      );
    }
    const n = setup.scansPerBlock;
    if (!Number.isInteger(n) || n < 1) throw invalid(`scans per block ${describeValue(n)}: a whole number from 1`, { device: label });
    if (n * this.layout.scanBytes > MAX_BLOCK_BYTES) throw invalid(`a block of ${n} scans is over ${MAX_BLOCK_BYTES} bytes`, { device: label });
    this.scansPerBlock = n;
    this.blockBytes = n * this.layout.scanBytes;
    this.timeoutMs = setup.timeoutMs ?? 5000;
  }

  /** How long to wait for a buffer reply: the daemon's timeout and some. */
  protected get replyTimeoutMs(): number {
    return this.timeoutMs + REPLY_SLACK_MS;
  }

  protected context(command: string): CommandContext {
    return { command, device: this.device.name ?? this.device.id };
  }

  /** The open session; ECANCELED once stop or a failure closed it. */
  protected session(): IiodConnection {
    if (!this.conn) throw new IioError({ code: 'ECANCELED', errno: 125, device: this.device.name, detail: 'the buffer was closed' });
    return this.conn;
  }

  /** A failure while running: the session goes first, then `onError` hears why. */
  protected async failed(err: unknown, onError: (e: IioError) => void): Promise<void> {
    await this.closeSession();
    onError(toIioError(err, this.device.name));
  }

  /** Connects, sets the daemon's timeout, opens the buffer. Closes the session again on failure. */
  protected async openSession(): Promise<IiodConnection> {
    const conn = await IiodConnection.connect({ ...this.address, timeoutMs: this.timeoutMs });
    try {
      await status(conn, this.context('TIMEOUT'), `TIMEOUT ${this.timeoutMs}\n`);
      await status(conn, this.context('OPEN'), `OPEN ${this.device.id} ${this.scansPerBlock} ${this.mask}\n`);
    } catch (err) {
      await conn.close();
      throw err;
    }
    this.conn = conn;
    return conn;
  }

  /**
   * CLOSEs the buffer after the command in flight, then ends the session. When the daemon does not
   * answer in time the session is dropped: iiod closes the buffer of a client that went away.
   */
  protected async closeSession(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    this.conn = null;
    try {
      if (conn.usable) await status(conn, this.context('CLOSE'), `CLOSE ${this.device.id}\n`, undefined, this.replyTimeoutMs);
    } catch {
      // Already gone or refused: closing the session below releases the buffer either way.
    } finally {
      await conn.close();
    }
  }
}
