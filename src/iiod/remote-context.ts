// A board's iiod context behind the object model: an IioContext whose devices, channels and
// triggers come from the board's description and whose DeviceAccess runs attributes, capture and
// output over iiod. The nodes use the same Device objects for both; what only a local kernel can
// do (synchronous attribute access, a chardev, events) is refused with ENOTSUP naming the board.
import { IioError } from '../errors';
import { IioContext } from '../context';
import type { BufferInfo, ChannelInfo, DeviceInfo, DeviceSelector, DeviceHead, ScanElementInfo } from '../context';
import { Device, DeviceHandle } from '../device';
import type { DeviceAccess, DeviceBuffer } from '../device';
import { Trigger } from '../trigger';
import { TypedAttributeReads, validateAttributeName } from '../attr';
import type { AttributeStore, AttributeValue, Available } from '../attr';
import type { IioErrorContext } from '../errors';
import { TimestampGaps } from '../buffer';
import type { Input, Output } from '../transport';
import type { DmabufCaptureOptions, DmabufOutputOptions } from '../dmabuf';
import type { RemoteContext, AttrScope } from './client';
import type { RemoteDevice } from './context-xml';
import { RemoteCapture } from './capture';
import { RemoteOutput } from './output';

/** The attribute that names a device's trigger: iiod serves it with GETTRIG/SETTRIG. */
const CURRENT_TRIGGER = 'trigger/current_trigger';

/** Codes that mean the board or the way to it is gone (not a refusal by the board). */
const LINK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EPROTO', 'ENOTCONN']);

/** Whether `err` says the link to a board failed (then the board is reconnected). */
export function isLinkError(err: unknown): boolean {
  return err instanceof IioError && LINK_CODES.has(err.code);
}

/** `voltage0` → type `voltage`, index 0; `accel_x` → `accel`; `voltage0-voltage1` → differential. */
function channelIdentity(id: string, direction: 'in' | 'out'): ChannelInfo {
  const m = /^([a-z]+?)(\d+)?(?:-[a-z]+(\d+))?(?:_(.+))?$/.exec(id);
  const c: ChannelInfo = { direction, id, type: m?.[1] ?? id, attributes: {}, available: {} };
  if (m?.[2] !== undefined) c.index = Number(m[2]);
  if (m?.[3] !== undefined) {
    c.index2 = Number(m[3]);
    c.differential = true;
  }
  if (m?.[4] !== undefined) c.modifier = m[4];
  return c;
}

/** The board's description of a device, shaped as local discovery describes one. */
export function deviceInfoOf(d: RemoteDevice, uri: string): DeviceInfo {
  const channels: ChannelInfo[] = d.channels.map((rc) => {
    const c = channelIdentity(rc.id, rc.direction);
    for (const a of rc.attributes) {
      const file = a.filename ?? `${rc.direction}_${rc.id}_${a.name}`;
      if (a.name.endsWith('_available')) c.available[a.name.slice(0, -'_available'.length)] ??= file;
      else c.attributes[a.name] ??= file;
    }
    if (rc.scanElement) {
      c.scanIndex = rc.scanElement.index;
      c.scanType = rc.scanElement.typeString;
    }
    if (rc.name) c.extendName = rc.name;
    return c;
  });
  const buffers: BufferInfo[] = [];
  for (const direction of ['in', 'out'] as const) {
    const scanElements: ScanElementInfo[] = d.channels
      .filter((c) => c.direction === direction && c.scanElement)
      .map((c) => ({ channel: c.id, direction, index: c.scanElement!.index, type: c.scanElement!.type, typeString: c.scanElement!.typeString, enableAttr: '' }))
      .sort((a, b) => a.index - b.index);
    // iiod serves one buffer per device: the first direction with scan elements.
    if (scanElements.length > 0 && buffers.length === 0) buffers.push({ index: 0, dir: 'buffer', scanDir: 'buffer', direction, scanElements, attributes: d.bufferAttributes.map((a) => `buffer/${a}`) });
  }
  const number = Number(/(\d+)$/.exec(d.id)?.[1] ?? -1);
  const info: DeviceInfo = {
    id: d.id,
    number,
    name: d.name ?? d.id,
    sysfsPath: d.id,
    devPath: `${uri}/${d.id}`,
    channels,
    buffers,
    events: [],
    attributes: d.attributes,
    // libiio 0.24 does not say which devices take a trigger; a device with a buffer may need one.
    triggerable: buffers.length > 0,
  };
  if (d.label) info.label = d.label;
  if (d.error) info.error = d.error;
  return info;
}

function notSupported(uri: string, device: string | undefined, what: string): IioError {
  return new IioError({ code: 'ENOTSUP', errno: 95, device, detail: `${what} is not available over iiod (${uri})` });
}

/**
 * The attributes of one device or trigger of the board, by the names local discovery uses:
 * `sampling_frequency`, a channel's file (`in_voltage0_raw`), `buffer/NAME`, `debug/NAME`, and
 * `trigger/current_trigger`. Only the async methods reach the board.
 */
class RemoteAttributes extends TypedAttributeReads implements AttributeStore {
  /** Channel attribute file → the channel and libiio name iiod's READ/WRITE take. */
  private readonly channelFiles = new Map<string, { channel: string; direction: 'in' | 'out'; name: string }>();

  constructor(private readonly remote: RemoteContext, private readonly id: string, readonly device: string) {
    super();
    const d = remote.info.devices.find((x) => x.id === id);
    for (const c of d?.channels ?? []) {
      for (const a of c.attributes) this.channelFiles.set(a.filename ?? `${c.direction}_${c.id}_${a.name}`, { channel: c.id, direction: c.direction, name: a.name });
    }
  }

  context(name: string): IioErrorContext {
    return { device: this.device, attribute: name };
  }

  /** Where a name lives on the board: its scope and the attribute name iiod knows. */
  private locate(name: string): { scope: AttrScope; attribute: string } {
    validateAttributeName(name, this.device);
    const ch = this.channelFiles.get(name);
    if (ch) return { scope: { kind: 'channel', channel: ch.channel, direction: ch.direction }, attribute: ch.name };
    const slash = name.indexOf('/');
    if (slash > 0) {
      const dir = name.slice(0, slash);
      const rest = name.slice(slash + 1);
      if (/^buffer\d*$/.test(dir)) return { scope: { kind: 'buffer' }, attribute: rest };
      if (dir === 'debug') return { scope: { kind: 'debug' }, attribute: rest };
      throw new IioError({ code: 'ENOENT', errno: 2, device: this.device, attribute: name, detail: `no attribute "${name}" on ${this.device} at ${this.remote.uri}` });
    }
    return { scope: { kind: 'device' }, attribute: name };
  }

  private sync(): never {
    throw notSupported(this.remote.uri, this.device, 'synchronous attribute access');
  }
  existsSync(): boolean {
    return this.sync();
  }
  readStringSync(): string {
    return this.sync();
  }
  readIntSync(): number {
    return this.sync();
  }
  readFloatSync(): number {
    return this.sync();
  }
  readBoolSync(): boolean {
    return this.sync();
  }
  readAvailableSync(): Available {
    return this.sync();
  }
  writeSync(): void {
    this.sync();
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.readString(name);
      return true;
    } catch (err) {
      if (err instanceof IioError && (err.code === 'ENOENT' || err.code === 'EINVAL')) return false;
      throw err;
    }
  }
  readString(name: string): Promise<string> {
    if (name === CURRENT_TRIGGER) return this.remote.getTrigger(this.id);
    const { scope, attribute } = this.locate(name);
    return this.remote.readAttr(this.id, attribute, scope);
  }
  async write(name: string, value: AttributeValue): Promise<void> {
    if (name === CURRENT_TRIGGER) return this.remote.setTrigger(this.id, typeof value === 'string' ? value.trim() : String(value));
    const { scope, attribute } = this.locate(name);
    await this.remote.writeAttr(this.id, attribute, value, scope);
  }
}

/** `onError` once, after telling the context (a lost link makes the board reconnect). */
function failOnce(ctx: RemoteIioContext, onError: (err: IioError) => void): (err: IioError) => void {
  let failed = false;
  return (err) => {
    if (failed) return;
    failed = true;
    ctx.linkTrouble(err);
    onError(err);
  };
}

/** A remote capture as the nodes see a local one: its layout at once, the session opened in the background. */
function remoteInput(buffer: DeviceBuffer, opts: DmabufCaptureOptions): Input {
  const ctx = buffer.device.context as RemoteIioContext;
  const remote = ctx.remote.devices().find((d) => d.id === buffer.device.id)!;
  const onError = failOnce(ctx, opts.onError);
  const cap = new RemoteCapture(ctx.remote.address, remote, {
    channels: opts.channels,
    scansPerBlock: opts.scansPerBlock ?? 1024,
    timeoutMs: ctx.remote.timeoutMs,
    onBlock: (b) => opts.onBlock(b),
    onError,
  });
  const started = cap.start().catch(onError);
  const closeSession = cap.close.bind(cap);
  // The stream is the capture itself, whose close() also waits for the session being opened.
  const stream = Object.assign(cap, {
    gaps: new TimestampGaps(cap.layout),
    async close(): Promise<void> {
      await started;
      await closeSession();
    },
  });
  return { stream, transport: 'iiod' };
}

/** A remote output as the nodes see a local one: `write` says "full" until the session is open, then drains. */
function remoteOutput(buffer: DeviceBuffer, opts: DmabufOutputOptions): Output {
  const ctx = buffer.device.context as RemoteIioContext;
  const remote = ctx.remote.devices().find((d) => d.id === buffer.device.id)!;
  const onError = failOnce(ctx, opts.onError);
  const out = new RemoteOutput(ctx.remote.address, remote, {
    channels: opts.channels,
    scansPerBlock: opts.scansPerBlock,
    blocks: opts.blocks,
    timeoutMs: ctx.remote.timeoutMs,
    onDrain: opts.onDrain,
    onError,
  });
  const started = out.start().then(() => opts.onDrain?.(), onError);
  return {
    transport: 'iiod',
    layout: out.layout,
    get running() {
      return out.running;
    },
    get queued() {
      return out.queued;
    },
    write: (data, cyclic) => (out.running ? out.write(data, cyclic) : false),
    async close() {
      await started;
      await out.close();
    },
  };
}

/** The IioContext of a board reached over iiod (`ip:HOST[:PORT]`), built on a connected RemoteContext. */
export class RemoteIioContext extends IioContext {
  /** Called when a stream's failure says the link is gone (the owner reconnects). */
  onLinkTrouble: ((err: IioError) => void) | null = null;

  constructor(readonly remote: RemoteContext) {
    super(remote.uri, '', remoteAccess(remote));
  }

  linkTrouble(err: IioError): void {
    if (isLinkError(err)) this.onLinkTrouble?.(err);
  }

  override devices(): Device[] {
    return this.remote.devices().map((d) => new Device(this, deviceInfoOf(d, this.remote.uri)));
  }

  override findDevice(sel: DeviceSelector): Device {
    return new Device(this, deviceInfoOf(this.remote.findDevice(sel), this.remote.uri));
  }

  override identify(id: string): DeviceHead | null {
    const d = this.remote.devices().find((x) => x.id === id);
    return d ? { id, name: d.name ?? d.id, label: d.label, error: d.error } : null;
  }

  override readDevice(id: string): DeviceInfo | null {
    const d = this.remote.devices().find((x) => x.id === id);
    return d ? deviceInfoOf(d, this.remote.uri) : null;
  }

  override triggers(): Trigger[] {
    return this.remote.triggers().map((t) => new Trigger(this, { id: t.id, name: t.name, sysfsPath: t.id }));
  }

  /**
   * The board's trigger `name`, at once: iiod describes its triggers once, when it starts, so none
   * can appear meanwhile (and creating one needs the board's configfs, which iiod does not serve).
   */
  override async waitForTrigger(name: string, opts: { device?: string } = {}): Promise<Trigger> {
    const t = this.findTrigger(name);
    if (t) return t;
    const known = this.remote.triggers().map((x) => x.name).join(', ') || 'none';
    throw new IioError({
      code: 'ENOENT',
      errno: 2,
      device: opts.device,
      detail: `no IIO trigger named "${name}" on ${this.remote.uri} (it has: ${known}); triggers cannot be created over iiod: create it on the board before iiod starts`,
    });
  }

  override handleOf(device: DeviceInfo): DeviceHandle {
    throw notSupported(this.remote.uri, device.name, 'a device chardev');
  }

  close(): Promise<void> {
    return this.remote.close();
  }
}

function remoteAccess(remote: RemoteContext): DeviceAccess {
  return {
    name: 'iiod',
    attributes: (dir, label) => new RemoteAttributes(remote, dir, label),
    openInput: (buffer, opts) => remoteInput(buffer, opts),
    openOutput: (buffer, opts) => remoteOutput(buffer, opts),
    openEvents(device) {
      throw notSupported(remote.uri, device.name, 'IIO events (iiod 0.24 has no event commands)');
    },
  };
}
