// A board's IIO context over iiod (libiio's network daemon, protocol 0.24): the description,
// attributes of devices, channels, buffers and debugfs, triggers, and the buffers (capture and
// output, in capture.ts and output.ts). The async twin of the local IioContext.
import { IioError, invalid, describeValue } from '../errors';
import { formatValue, AttributeValue, validateAttributeName } from '../attr';
import type { DeviceSelector } from '../context';
import { IiodConnection, CommandContext, DEFAULT_TIMEOUT_MS } from './connection';
import { commandWord, readSized, status } from './commands';
import { parseUri, formatUri, IioUri } from './uri';
import { XmlError } from './xml';
import { parseContextXml, RemoteContextInfo, RemoteDevice, RemoteTrigger } from './context-xml';
import { RemoteCapture, RemoteCaptureOptions } from './capture';
import { RemoteOutput, RemoteOutputOptions } from './output';

/** Largest context description accepted (a board with hundreds of devices stays far below). */
export const MAX_XML_BYTES = 16 * 1024 * 1024;
/** Largest attribute value accepted (sysfs gives at most a page; debugfs files can be longer). */
export const MAX_ATTRIBUTE_BYTES = 1024 * 1024;

/** Which attribute of a device: its own, a channel's, its buffer's, or a debugfs one. */
export type AttrScope =
  | { kind: 'device' }
  | { kind: 'channel'; channel: string; direction: 'in' | 'out' }
  | { kind: 'buffer' }
  | { kind: 'debug' };

export interface RemoteContextOptions {
  /** Bound on connecting and on each reply (ms); default 5000. */
  timeoutMs?: number;
}

/** The word iiod's READ/WRITE take for a scope. */
function scopeWords(scope: AttrScope, device: string): string {
  switch (scope.kind) {
    case 'device':
      return '';
    case 'buffer':
      return ' BUFFER';
    case 'debug':
      return ' DEBUG';
    case 'channel':
      return ` ${scope.direction === 'out' ? 'OUTPUT' : 'INPUT'} ${commandWord(scope.channel, 'channel', device)}`;
  }
}

export class RemoteContext {
  /** `ip:HOST[:PORT]` as libiio writes it. */
  readonly uri: string;
  readonly info: RemoteContextInfo;

  private constructor(
    private readonly conn: IiodConnection,
    readonly address: { host: string; port: number },
    info: RemoteContextInfo,
    readonly timeoutMs: number,
  ) {
    this.uri = formatUri({ kind: 'ip', ...address });
    this.info = info;
  }

  /** Connects to the iiod at `uri` (`ip:HOST[:PORT]`) and reads its context description. */
  static async connect(uri: string | IioUri, opts: RemoteContextOptions = {}): Promise<RemoteContext> {
    const u = typeof uri === 'string' ? parseUri(uri) : uri;
    if (u.kind !== 'ip') throw invalid(`context URI ${describeValue(uri)}: a remote context needs "ip:HOST[:PORT]"`);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const conn = await IiodConnection.connect({ host: u.host, port: u.port, timeoutMs });
    try {
      const ctx: CommandContext = { command: 'PRINT' };
      const xml = await conn.run(ctx, 'PRINT\n', (reply) => readSized(conn, reply, ctx, MAX_XML_BYTES));
      let info: RemoteContextInfo;
      try {
        info = parseContextXml(xml.toString('utf8'));
      } catch (err) {
        if (err instanceof XmlError) throw conn.error({ code: 'EPROTO', errno: 71, detail: err.message }, ctx);
        throw err;
      }
      return new RemoteContext(conn, { host: u.host, port: u.port }, info, timeoutMs);
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  /** Devices that are not triggers, as the board described them when its iiod started. */
  devices(): RemoteDevice[] {
    return this.info.devices;
  }

  triggers(): RemoteTrigger[] {
    return this.info.triggers;
  }

  findTrigger(name: string): RemoteTrigger | undefined {
    return this.info.triggers.find((t) => t.name === name);
  }

  /** Like IioContext.findDevice: by name and/or label, else by id; ENOENT naming the selector. */
  findDevice(sel: DeviceSelector): RemoteDevice {
    if (!sel.name && !sel.label && !sel.id) throw invalid('no IIO device selected: give a name, a label or an id');
    const devices = this.info.devices;
    const found =
      (sel.name || sel.label ? devices.find((d) => (!sel.name || d.name === sel.name) && (!sel.label || d.label === sel.label)) : undefined) ??
      (sel.id ? devices.find((d) => d.id === sel.id) : undefined);
    if (found?.error) throw found.error;
    if (found) return found;
    const what = [sel.name && `name "${sel.name}"`, sel.label && `label "${sel.label}"`, sel.id && `id ${sel.id}`].filter(Boolean).join(', ');
    throw new IioError({ code: 'ENOENT', errno: 2, detail: `no IIO device with ${what} at ${this.uri}` });
  }

  /** An attribute's text, without iiod's trailing NUL and the kernel's newline. */
  async readAttr(device: RemoteDevice | RemoteTrigger | string, attribute: string, scope: AttrScope = { kind: 'device' }): Promise<string> {
    const id = idOf(device);
    const ctx: CommandContext = { command: 'READ', device: labelOf(device), attribute: validateAttributeName(attribute, id) };
    const line = `READ ${commandWord(id, 'device id')}${scopeWords(scope, id)} ${commandWord(attribute, 'attribute', id)}\n`;
    const data = await this.conn.run(ctx, line, (reply) => readSized(this.conn, reply, ctx, MAX_ATTRIBUTE_BYTES));
    let end = data.length;
    if (end > 0 && data[end - 1] === 0) end--;
    if (end > 0 && data[end - 1] === 0x0a) end--;
    return data.toString('utf8', 0, end);
  }

  /** Writes an attribute (values formatted as for local sysfs); resolves to the bytes the driver took. */
  async writeAttr(device: RemoteDevice | RemoteTrigger | string, attribute: string, value: AttributeValue, scope: AttrScope = { kind: 'device' }): Promise<number> {
    const id = idOf(device);
    // iiod answers an unknown device before reading the value, which it would then take for commands.
    if (!this.info.devices.some((d) => d.id === id) && !this.info.triggers.some((t) => t.id === id)) {
      throw new IioError({ code: 'ENODEV', errno: 19, device: id, detail: `no device ${id} at ${this.uri}` });
    }
    const ctx: CommandContext = { command: 'WRITE', device: labelOf(device), attribute: validateAttributeName(attribute, id) };
    const text = Buffer.from(formatValue(value, { device: id, attribute }));
    const line = `WRITE ${commandWord(id, 'device id')}${scopeWords(scope, id)} ${commandWord(attribute, 'attribute', id)} ${text.length}\n`;
    return status(this.conn, ctx, line, text);
  }

  /** The device's trigger name; '' when none is attached (iiod 0.24 answers EIO then). */
  async getTrigger(device: RemoteDevice | string): Promise<string> {
    const id = idOf(device);
    const ctx: CommandContext = { command: 'GETTRIG', device: labelOf(device) };
    try {
      const data = await this.conn.run(ctx, `GETTRIG ${commandWord(id, 'device id')}\n`, (reply) => readSized(this.conn, reply, ctx, 256));
      return data.toString('utf8').replace(/\0$/, '');
    } catch (err) {
      if (err instanceof IioError && err.code === 'EIO' && this.conn.usable) return '';
      throw err;
    }
  }

  /** Attaches the trigger named `name` (one the board's iiod knew when it started); '' detaches. */
  async setTrigger(device: RemoteDevice | string, name: string): Promise<void> {
    const id = idOf(device);
    const ctx: CommandContext = { command: 'SETTRIG', device: labelOf(device), attribute: 'trigger/current_trigger' };
    const arg = name === '' ? '' : ` ${commandWord(name, 'trigger name', id)}`;
    await status(this.conn, ctx, `SETTRIG ${commandWord(id, 'device id')}${arg}\n`);
  }

  /** Sets the daemon's timeout for this session's buffer operations (ms, 0: none). */
  async setTimeout(ms: number): Promise<void> {
    if (!Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) throw invalid(`timeout ${describeValue(ms)}: a whole number of milliseconds`);
    await status(this.conn, { command: 'TIMEOUT' }, `TIMEOUT ${ms}\n`);
  }

  /** Starts a capture from `device` on a session of its own (iiod serves a buffer per session). */
  async openInput(device: RemoteDevice | DeviceSelector, opts: RemoteCaptureOptions): Promise<RemoteCapture> {
    const cap = new RemoteCapture(this.address, this.resolve(device), { timeoutMs: this.timeoutMs, ...opts });
    await cap.start();
    return cap;
  }

  /** Starts output to `device` on a session of its own. */
  async openOutput(device: RemoteDevice | DeviceSelector, opts: RemoteOutputOptions): Promise<RemoteOutput> {
    const out = new RemoteOutput(this.address, this.resolve(device), { timeoutMs: this.timeoutMs, ...opts });
    await out.start();
    return out;
  }

  /** Whether the session still works (false after the board went away or sent junk). */
  get connected(): boolean {
    return this.conn.usable;
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  private resolve(device: RemoteDevice | DeviceSelector): RemoteDevice {
    return 'channels' in device ? device : this.findDevice(device);
  }
}

function idOf(device: RemoteDevice | RemoteTrigger | string): string {
  return typeof device === 'string' ? device : device.id;
}

/** What errors call the device: its name when known, as the local core does. */
function labelOf(device: RemoteDevice | RemoteTrigger | string): string {
  return typeof device === 'string' ? device : device.name ?? device.id;
}
