// The device as an object, and its character device. A Device holds its context and its
// attributes; its channels, buffers and events hold it. /dev/iio:deviceX admits one opener, so the
// process keeps one handle per device, shared by every buffer and event user, and takes the
// anonymous buffer and event fds from it by ioctl.
import { kernel } from './local-backend';
import { IioError } from './errors';
import { IIO_BUFFER_GET_FD_IOCTL, IIO_GET_EVENT_FD_IOCTL, INT_SIZE, decodeInt, encodeInt, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_RDWR } from './uapi';
import { Channel } from './channel';
import { EventStream, eventChannelId } from './events';
import type { EventStreamOptions } from './events';
import { anyBufferEnabled, validateTriggerName } from './trigger';
import { toRawSetting } from './event-units';
import type { AttributeStore } from './attr';
import type { BufferInfo, DeviceInfo, EventInfo, IioContext, ScanElementInfo } from './context';
import type { ChannelScale } from './scan';
import type { DmabufCaptureOptions, DmabufOutputOptions } from './dmabuf';
import type { Input, Output, TransportChoice } from './transport';
import type { IioEventCode } from './uapi';

/**
 * Where a context's devices live: their attributes and their buffers. The local implementation
 * (local-access.ts) is this machine's sysfs and chardevs through `kernel()`; a network client
 * (iiod) would be another.
 */
export interface DeviceAccess {
  readonly name: string;
  /** The attributes of the object (device, trigger) whose directory is `dir`; errors name `label`. */
  attributes(dir: string, label: string): AttributeStore;
  /** Starts capture on an input buffer. */
  openInput(buffer: DeviceBuffer, opts: DmabufCaptureOptions, choice: TransportChoice): Input;
  /** Starts output on an output buffer. */
  openOutput(buffer: DeviceBuffer, opts: DmabufOutputOptions, choice: TransportChoice): Output;
  /** Starts monitoring the device's events (one monitor per device: the kernel's rule). */
  openEvents(device: Device, opts: EventStreamOptions): EventStream;
}

/**
 * An IIO device of a context. Its own enumerable fields are exactly its DeviceInfo (so it prints,
 * compares and serialises as the description); the parent and the attributes are getters.
 */
export class Device implements DeviceInfo {
  declare readonly id: string;
  declare readonly number: number;
  declare readonly name: string;
  declare readonly label?: string;
  declare readonly sysfsPath: string;
  declare readonly devPath: string;
  declare readonly channels: Channel[];
  declare readonly buffers: DeviceBuffer[];
  declare readonly events: DeviceEvent[];
  declare readonly attributes: string[];
  declare readonly triggerable: boolean;
  declare readonly error?: IioError;
  readonly #context: IioContext;
  #attrs: AttributeStore | null = null;

  constructor(context: IioContext, info: DeviceInfo) {
    this.#context = context;
    Object.assign(this, info, {
      channels: info.channels.map((c) => new Channel(this, c)),
      buffers: info.buffers.map((b) => new DeviceBuffer(this, b)),
      events: info.events.map((e) => new DeviceEvent(this, e)),
    });
  }

  get context(): IioContext {
    return this.#context;
  }

  /** The device's attributes (relative names: `sampling_frequency`, `in_voltage0_raw`, `buffer0/enable`). */
  get attrs(): AttributeStore {
    this.#attrs ??= this.#context.access.attributes(this.sysfsPath, this.name);
    return this.#attrs;
  }

  /** Name for messages: `name/label`, or the name alone when the device has no label. */
  get fullName(): string {
    return this.label ? `${this.name}/${this.label}` : this.name;
  }

  /**
   * Whether this device is still the one at its sysfs path (same name and label): a replug can
   * renumber iio:deviceN, and another device can take the number.
   */
  isStillThere(): boolean {
    const now = this.#context.identify(this.id);
    return now !== null && !now.error && now.name === this.name && now.label === this.label;
  }

  /** Whether any of its buffers is enabled now (by anyone). */
  anyBufferEnabled(): boolean {
    return anyBufferEnabled(this.sysfsPath);
  }

  /** Channel `id`, an input one first (then any direction, or only `direction`); ENOENT naming both. */
  channel(id: string, direction?: 'in' | 'out'): Channel {
    const ch = direction
      ? this.channels.find((c) => c.id === id && c.direction === direction)
      : (this.channels.find((c) => c.id === id && c.direction === 'in') ?? this.channels.find((c) => c.id === id));
    if (!ch) throw new IioError({ code: 'ENOENT', errno: 2, device: this.name, detail: `${this.name} has no channel "${id}"` });
    return ch;
  }

  /** Buffer `index` with the wanted direction; ENODEV when there is none, EINVAL when it runs the other way. */
  buffer(index: number, direction: 'in' | 'out'): DeviceBuffer {
    const b = this.buffers.find((x) => x.index === index);
    if (!b) throw new IioError({ code: 'ENODEV', errno: 19, device: this.name, detail: `${this.name} has no buffer${index}` });
    if (b.direction !== direction) {
      throw new IioError({ code: 'EINVAL', device: this.name, detail: `buffer${index} of ${this.name} is an ${b.direction}put buffer` });
    }
    return b;
  }

  /** The event of `channel` with this type and direction; ENOENT naming what is missing. */
  event(channel: string, type: string, direction: string): DeviceEvent {
    const ev = this.events.find((e) => e.channel === channel && e.type === type && e.eventDirection === direction);
    if (!ev) throw new IioError({ code: 'ENOENT', errno: 2, device: this.name, detail: `${this.name} has no ${channel} ${type} ${direction} event` });
    return ev;
  }

  /**
   * The sysfs id of the channel a decoded event names (`temp`, `voltage0`, `accel_x`): the event
   * code does not say whether a channel is indexed, the device's channels do.
   */
  channelIdOf(event: IioEventCode): string {
    return eventChannelId(event, this);
  }

  /** Scale and offset now of each input channel in `ids` (the timestamp has none). */
  readScalesSync(ids: string[]): Record<string, Required<ChannelScale>> {
    const scales: Record<string, Required<ChannelScale>> = {};
    for (const ch of this.channels) {
      if (ch.direction === 'in' && ch.id !== 'timestamp' && ids.includes(ch.id)) scales[ch.id] = ch.readScaleSync();
    }
    return scales;
  }

  /** The name of the device's current trigger, '' when none. */
  readCurrentTrigger(): string {
    return this.attrs.readStringSync('trigger/current_trigger');
  }

  /** Attaches trigger `name`; '' detaches. ENOTSUP when the device takes no trigger. */
  writeCurrentTrigger(name: string): void {
    if (name !== '') validateTriggerName(name);
    if (!this.triggerable) throw new IioError({ code: 'ENOTSUP', device: this.name, detail: `${this.name} has no trigger/current_trigger` });
    this.attrs.writeSync('trigger/current_trigger', name);
  }

  /** The device's current trigger, '' when none (async: a board's answers come over the network). */
  async readCurrentTriggerAsync(): Promise<string> {
    return (await this.attrs.readString('trigger/current_trigger')).trim();
  }

  /** Attaches trigger `name` ('' detaches), asynchronously; ENOTSUP when the device takes no trigger. */
  async writeCurrentTriggerAsync(name: string): Promise<void> {
    if (name !== '') validateTriggerName(name);
    if (!this.triggerable) throw new IioError({ code: 'ENOTSUP', device: this.name, detail: `${this.name} has no trigger/current_trigger` });
    await this.attrs.write('trigger/current_trigger', name);
  }

  /** Scale and offset of each input channel in `ids` (the timestamp has none), asynchronously. */
  async readScales(ids: string[]): Promise<Record<string, Required<ChannelScale>>> {
    const scales: Record<string, Required<ChannelScale>> = {};
    for (const ch of this.channels) {
      if (ch.direction === 'in' && ch.id !== 'timestamp' && ids.includes(ch.id)) scales[ch.id] = await ch.readScale();
    }
    return scales;
  }

  /**
   * The device's chardev, one reference to it: the context shares one open chardev per device
   * among its users (the kernel admits one opener). `close()` the handle when done.
   */
  openHandle(): DeviceHandle {
    return this.#context.handleOf(this);
  }

  /** Starts monitoring the device's events; `close()` the monitor when done. */
  openEvents(opts: EventStreamOptions): EventStream {
    return this.#context.access.openEvents(this, opts);
  }

  /** Starts capture on input buffer `opts.index` (default 0). */
  openInput(opts: DmabufCaptureOptions, choice: TransportChoice = 'auto'): Input {
    return this.buffer(opts.index ?? 0, 'in').openInput(opts, choice);
  }

  /** Starts output on output buffer `opts.index` (default 0). */
  openOutput(opts: DmabufOutputOptions, choice: TransportChoice = 'auto'): Output {
    return this.buffer(opts.index ?? 0, 'out').openOutput(opts, choice);
  }
}

/** A buffer of a device (`bufferN`). */
export class DeviceBuffer implements BufferInfo {
  declare readonly index: number;
  declare readonly dir: string;
  declare readonly scanDir: string;
  declare readonly direction: 'in' | 'out';
  declare readonly scanElements: ScanElementInfo[];
  declare readonly attributes: string[];
  readonly #device: Device;

  constructor(device: Device, info: BufferInfo) {
    this.#device = device;
    Object.assign(this, info);
  }

  get device(): Device {
    return this.#device;
  }

  /** Starts capture on this (input) buffer; `opts.index` is this buffer's. */
  openInput(opts: DmabufCaptureOptions, choice: TransportChoice = 'auto'): Input {
    this.#device.buffer(this.index, 'in');
    return this.#device.context.access.openInput(this, { ...opts, index: this.index }, choice);
  }

  /** Starts output on this (output) buffer; `opts.index` is this buffer's. */
  openOutput(opts: DmabufOutputOptions, choice: TransportChoice = 'auto'): Output {
    this.#device.buffer(this.index, 'out');
    return this.#device.context.access.openOutput(this, { ...opts, index: this.index }, choice);
  }
}

/** A kind of event a device can raise (a channel's threshold, rate of change…), with its attributes. */
export class DeviceEvent implements EventInfo {
  declare readonly channel: string;
  declare readonly direction: 'in' | 'out';
  declare readonly type: string;
  declare readonly eventDirection: string;
  declare readonly attributes: Record<string, string>;
  readonly #device: Device;

  constructor(device: Device, info: EventInfo) {
    this.#device = device;
    Object.assign(this, info);
  }

  get device(): Device {
    return this.#device;
  }

  /** The channel the event watches, if the device lists it. */
  get channelObject(): Channel | undefined {
    return this.#device.channels.find((c) => c.id === this.channel && c.direction === this.direction);
  }

  /** The attribute file of a setting (`en`, `value`, `hysteresis`, `period`); ENOENT when the event has none. */
  file(setting: string): string {
    const file = this.attributes[setting];
    if (!file) throw new IioError({ code: 'ENOENT', errno: 2, device: this.#device.name, detail: `the ${this.channel} ${this.type} ${this.eventDirection} event has no ${setting}` });
    return file;
  }

  /**
   * Writes the given settings: value, hysteresis and period first, enable last (so the event
   * fires on the new level only). `scaled`: value and hysteresis are in the channel's scaled units
   * ((raw + offset) × scale) and are converted to the raw units the attributes take, to the
   * nearest integer where the attribute holds one. ENOENT for a setting the event has not.
   */
  async writeSettings(s: EventSettings, units: 'scaled' | 'raw' = 'raw'): Promise<void> {
    const attrs = this.#device.attrs;
    const scaling = units === 'scaled' ? ((await this.channelObject?.readScale()) ?? { scale: 1, offset: 0 }) : null;
    for (const key of ['value', 'hysteresis', 'period'] as const) {
      const given = s[key];
      if (given === undefined) continue;
      const attr = this.file(key);
      const text = scaling ? toRawSetting(key, given, scaling, !(await attrs.readString(attr)).includes('.')) : given;
      await attrs.write(attr, text);
    }
    if (s.en !== undefined && this.attributes.en) await attrs.write(this.attributes.en, s.en);
  }
}

/** What DeviceEvent.writeSettings writes (texts as the user gave them). */
export interface EventSettings {
  en?: boolean;
  value?: string;
  hysteresis?: string;
  period?: string;
}

/** Chardevs open in this process, for leak checks. */
let openChardevs = 0;

/** A buffer's fd: anonymous from IIO_BUFFER_GET_FD, or the chardev itself on kernels without it. */
export interface BufferFd {
  fd: number;
  /** False when `fd` is the shared chardev (buffer0 on old kernels): never close it then. */
  owned: boolean;
}

/**
 * An open chardev, counted: every user (a config node, a stream, the event monitor) holds one
 * reference and gives it back with `close()`; the fd closes with the last. Handed out by
 * `device.openHandle()`, which shares one per device within its context.
 */
export class DeviceHandle {
  private users = 1;
  private constructor(
    readonly devPath: string,
    /** Name for messages: `name/label`, or the name alone when the device has no label. */
    readonly label: string,
    readonly fd: number,
    private readonly onClosed: () => void,
  ) {
    openChardevs++;
  }

  /** Opens the chardev of `device` with one reference; `onClosed` runs once the last is given back. */
  static open(device: DeviceInfo, onClosed: () => void = () => undefined): DeviceHandle {
    const label = device.label ? `${device.name}/${device.label}` : device.name;
    return new DeviceHandle(device.devPath, label, openChardev(device.devPath, label), onClosed);
  }

  /** Chardevs open in this process, whichever context opened them (for leak checks). */
  static openCount(): number {
    return openChardevs;
  }

  get isOpen(): boolean {
    return this.users > 0;
  }

  /** One more reference; pair it with `close()`. */
  retain(): this {
    if (this.users === 0) throw new IioError({ code: 'EBADF', errno: 9, device: this.label, detail: `the chardev of ${this.label} is closed` });
    this.users++;
    return this;
  }

  /** Gives back one reference; the last closes the fd. Extra calls are harmless. */
  close(): void {
    if (this.users === 0) return;
    if (--this.users > 0) return;
    openChardevs--;
    this.onClosed();
    kernel().close(this.fd, { path: this.devPath, device: this.label });
  }

  /** Opens buffer `index` (IIO_BUFFER_GET_FD_IOCTL); non-blocking. EBUSY if it is already open. */
  openBuffer(index: number): BufferFd {
    if (!Number.isInteger(index) || index < 0 || index > 0xffff) {
      throw new IioError({ code: 'EINVAL', device: this.label, detail: `bad buffer index ${String(index)}` });
    }
    const arg = encodeInt(index);
    try {
      kernel().ioctl(this.fd, IIO_BUFFER_GET_FD_IOCTL, arg, { path: this.devPath, device: this.label, what: 'IIO_BUFFER_GET_FD_IOCTL' });
    } catch (err) {
      // Kernels before 5.11 have no GET_FD: the chardev itself reads buffer0.
      if (index === 0 && err instanceof IioError && err.code === 'ENOTTY') return { fd: this.fd, owned: false };
      throw err;
    }
    const fd = decodeInt(arg);
    kernel().setNonBlocking(fd, { path: this.devPath, device: this.label });
    return { fd, owned: true };
  }

  /** Opens the device's event fd (IIO_GET_EVENT_FD_IOCTL); non-blocking. ENODEV: no events; EBUSY: taken. */
  openEvents(): number {
    const arg = Buffer.alloc(INT_SIZE);
    kernel().ioctl(this.fd, IIO_GET_EVENT_FD_IOCTL, arg, { path: this.devPath, device: this.label, what: 'IIO_GET_EVENT_FD_IOCTL' });
    const fd = decodeInt(arg);
    kernel().setNonBlocking(fd, { path: this.devPath, device: this.label });
    return fd;
  }

  closeFd(fd: number): void {
    if (fd !== this.fd) kernel().close(fd, { path: this.devPath, device: this.label });
  }
}

function openChardev(devPath: string, label: string): number {
  const flags = O_NONBLOCK | O_CLOEXEC;
  try {
    return kernel().open(devPath, O_RDWR | flags, { device: label });
  } catch (err) {
    // Read-only permission still allows capture and events.
    if (err instanceof IioError && (err.code === 'EACCES' || err.code === 'EPERM')) return kernel().open(devPath, O_RDONLY | flags, { device: label });
    throw err;
  }
}
