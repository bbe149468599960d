// IIO events: the device's event fd (IIO_GET_EVENT_FD_IOCTL), read in batches of
// struct iio_event_data as it becomes readable (on the event loop, or through the reactor).
import { IioError, toIioError } from './errors';
import { kernel } from './local-backend';
import { reactor } from './reactor';
import { decodeEventBatch, decodeEventCode, IioEventCode, IIO_EVENT_DATA_SIZE, POLLERR, POLLHUP, POLLIN } from './uapi';
import type { DeviceInfo } from './context';
import type { Device, DeviceHandle } from './device';
import type { LoopReader } from './backend';

export interface IioEvent extends IioEventCode {
  /** The raw 64-bit event code. */
  id: bigint;
  /** Kernel timestamp in ns (the device's current_timestamp_clock). */
  timestamp: bigint;
}

export interface EventStreamOptions {
  onEvents: (events: IioEvent[]) => void;
  onError: (err: IioError) => void;
}

const BATCH = 64;

/** A running event monitor on one device. Only one per device can exist (the kernel's rule). */
export class EventStream {
  private handle: DeviceHandle | null = null;
  private fd = -1;
  private readonly buf = Buffer.alloc(IIO_EVENT_DATA_SIZE * BATCH);
  private loopReader: LoopReader | null = null;

  constructor(
    readonly device: Device,
    private readonly opts: EventStreamOptions,
  ) {}

  get running(): boolean {
    return this.fd >= 0;
  }

  start(): void {
    if (this.running) return;
    const handle = this.device.openHandle();
    try {
      this.fd = handle.openEvents();
    } catch (err) {
      handle.close();
      throw err;
    }
    this.handle = handle;
    const k = kernel();
    if (k.readOnLoop) {
      // Read on the event loop: each event reaches the handler without a thread-pool poll.
      try {
        this.loopReader = k.readOnLoop(this.fd, { target: () => this.buf, onRead: (n) => this.deliver(n), onError: (err) => this.failed(toIioError(err, this.device.name)) }, this.site);
      } catch (err) {
        handle.closeFd(this.fd);
        handle.close();
        this.fd = -1;
        this.handle = null;
        throw toIioError(err, this.device.name);
      }
    } else {
      reactor.watch(this.fd, POLLIN, (revents) => this.onReady(revents), (err) => this.opts.onError(toIioError(err, this.device.name)));
    }
  }

  async close(): Promise<void> {
    if (!this.handle) return;
    const fd = this.fd;
    const handle = this.handle;
    const loopReader = this.loopReader;
    this.fd = -1;
    this.handle = null;
    this.loopReader = null;
    if (loopReader) await loopReader.close();
    else await reactor.unwatch(fd);
    handle.closeFd(fd);
    handle.close();
  }

  private get site() {
    return { path: this.device.devPath, device: this.device.name };
  }

  private failed(err: IioError): void {
    if (!this.running) return;
    this.opts.onError(err);
    void this.close();
  }

  private onReady(revents: number): void {
    if (revents & (POLLERR | POLLHUP)) return this.failed(new IioError({ code: 'ENODEV', syscall: 'poll', path: this.device.devPath, device: this.device.name, detail: 'event fd hung up (device removed?)' }));
    const n = kernel().read(this.fd, this.buf, this.buf.length, this.site);
    if (n) this.deliver(n);
  }

  /** `n` bytes of whole event records arrived in `buf`. */
  private deliver(n: number): void {
    if (!this.running) return;
    const events: IioEvent[] = decodeEventBatch(this.buf, n).map(({ id, timestamp }) => Object.assign(decodeEventCode(id), { id, timestamp }));
    this.opts.onEvents(events);
  }
}

/**
 * The sysfs channel id of an event's channel (`temp`, `voltage0`, `accel_x`, `voltage0-voltage1`),
 * looked up among the device's channels: the event code does not say whether a channel is indexed.
 */
export function eventChannelId(e: IioEventCode, device: DeviceInfo): string {
  const mod = e.modifierName || undefined;
  const found = device.channels.find(
    (c) =>
      c.direction === 'in' &&
      c.type === e.channelTypeName &&
      c.modifier === mod &&
      (e.differential ? c.index === e.channel && c.index2 === e.channel2 : c.index === e.channel || (c.index === undefined && (mod !== undefined || e.channel === 0))),
  );
  if (found) return found.id;
  const t = e.channelTypeName;
  if (e.differential) return `${t}${e.channel}-${t}${e.channel2}`;
  return mod ? `${t}_${mod}` : `${t}${e.channel}`;
}
