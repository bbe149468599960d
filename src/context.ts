// Discovery: the IIO context (a sysfs root) → devices → channels, buffers, events; and triggers.
// Reads sysfs only; nothing here opens a chardev.
import * as path from 'path';
import { ChannelNameParser, ChannelId, AttrScope, ParsedEventAttr } from './channel-name';
import { IioError, fromNodeError, invalid } from './errors';
import { parseScanType, ScanType } from './scan';
import { channelTypeNames, modifierNames } from './uapi';
import { kernel } from './local-backend';
import type { DirEntry } from './backend';
import { Device, DeviceAccess, DeviceHandle } from './device';
import { Trigger } from './trigger';

export const SYSFS_IIO = '/sys/bus/iio/devices';

export interface ScanElementInfo {
  /** The channel this element carries (`voltage0`, `accel_x`, `timestamp`). */
  channel: string;
  direction: 'in' | 'out';
  index: number;
  type: ScanType;
  /** The `type` file's text, e.g. `le:s24/32>>8`. */
  typeString: string;
  /** The `_en` attribute, relative to the device directory (`buffer0/in_voltage0_en`). */
  enableAttr: string;
}

export interface BufferInfo {
  index: number;
  /** Directory relative to the device: `buffer0`, or `buffer` on kernels before multi-buffer support. */
  dir: string;
  /** Where its scan elements live (`buffer0`, or the legacy `scan_elements`). */
  scanDir: string;
  direction: 'in' | 'out';
  /** Scan elements in ascending scan index. */
  scanElements: ScanElementInfo[];
  attributes: string[];
}

export interface ChannelInfo extends ChannelId {
  /** Info name → attribute path relative to the device (`raw` → `in_voltage0_raw`), incl. shared ones. */
  attributes: Record<string, string>;
  /** `*_available` lists: info name → attribute path. */
  available: Record<string, string>;
  /** The scan index when the channel can be buffered. */
  scanIndex?: number;
  scanType?: string;
  label?: string;
}

export interface EventInfo {
  channel: string;
  direction: 'in' | 'out';
  type: string;
  eventDirection: string;
  /** Info (`en`, `value`, `hysteresis`, `period`…) → attribute path (`events/in_temp_thresh_rising_en`). */
  attributes: Record<string, string>;
}

export interface DeviceInfo {
  /** `iio:device0`: changes across boots; select by name or label instead. */
  id: string;
  number: number;
  name: string;
  label?: string;
  sysfsPath: string;
  devPath: string;
  channels: ChannelInfo[];
  buffers: BufferInfo[];
  events: EventInfo[];
  /** Device-level attribute files (`sampling_frequency`, `current_timestamp_clock`…). */
  attributes: string[];
  /** Whether the device can use a trigger (`trigger/current_trigger` exists). */
  triggerable: boolean;
  /**
   * Set when the device could not be described (a file it has is unreadable, e.g. EACCES, or
   * its scan type is one this library cannot decode). Such a device is still listed, with what
   * could be read (its id, and its name and label when readable) and nothing else;
   * `findDevice` throws this error for it.
   */
  error?: IioError;
}

export interface TriggerInfo {
  /** `trigger3` */
  id: string;
  name: string;
  sysfsPath: string;
}

export interface DeviceSelector {
  name?: string;
  label?: string;
  /** `iio:deviceN`: a fallback only, numbers change across boots. */
  id?: string;
}

let parser: ChannelNameParser | null = null;
function nameParser(): ChannelNameParser {
  parser ??= new ChannelNameParser(channelTypeNames(), modifierNames());
  return parser;
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENODEV';
}

/** A sysfs file's text; undefined when it does not exist (or its device vanished). Other errors (EACCES…) throw. */
function readText(file: string): string | undefined {
  try {
    return kernel().readText(file).trim();
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw fromNodeError(e as NodeJS.ErrnoException, { syscall: 'read', path: file });
  }
}

/** A directory's entries; empty when it does not exist. Other errors (EACCES…) throw. */
function listDir(dir: string): DirEntry[] {
  try {
    return kernel().list(dir);
  } catch (e) {
    if (isMissing(e)) return [];
    throw fromNodeError(e as NodeJS.ErrnoException, { syscall: 'scandir', path: dir });
  }
}

const isAttrFile = (e: DirEntry) => e.kind === 'file' && !e.name.startsWith('.');

/** A non-indexed channel's own attributes that a shared-by-type name never is (`in_temp_raw`). */
const OWN_INFOS = new Set(['raw', 'input', 'en']);
/** What makes a name with an extend name a channel of its own rather than a driver attribute of one. */
const DATA_INFOS = new Set(['raw', 'input', 'peak_raw', 'mean_raw', 'trough_raw']);

type SharedAttr = ChannelId & { info: string; available: boolean; scope: AttrScope; file: string };

/** Whether an attribute shared by type or direction applies to channel `c` (IIO_SHARED_BY_TYPE names differential and single-ended channels apart). */
function sharedBy(s: { scope: AttrScope } & ChannelId, c: ChannelId): boolean {
  if (c.direction !== s.direction) return false;
  if (s.scope === 'direction') return true;
  return c.type === s.type && !!c.differential === !!s.differential;
}

/** Just the identity fields of a parsed name (no undefined keys). */
function channelIdOnly(a: ChannelId): ChannelId {
  const id: ChannelId = { direction: a.direction, id: a.id, type: a.type };
  if (a.index !== undefined) id.index = a.index;
  if (a.index2 !== undefined) id.index2 = a.index2;
  if (a.differential) id.differential = true;
  if (a.modifier !== undefined) id.modifier = a.modifier;
  if (a.extendName !== undefined) id.extendName = a.extendName;
  return id;
}

/**
 * A driver's ext_info can look like an extend name (`in_voltage0_sync_dither_en`): a "channel"
 * with an extend name but no data of its own, whose base channel exists, is folded back into it.
 */
function foldExtInfo(channels: Map<string, ChannelInfo>): void {
  for (const [key, ch] of channels) {
    if (!ch.extendName || ch.scanIndex !== undefined || Object.keys(ch.attributes).some((i) => DATA_INFOS.has(i))) continue;
    const base = channels.get(key.slice(0, -(ch.extendName.length + 1)));
    if (!base) continue;
    for (const [info, file] of Object.entries(ch.attributes)) base.attributes[`${ch.extendName}_${info}`] ??= file;
    for (const [info, file] of Object.entries(ch.available)) base.available[`${ch.extendName}_${info}`] ??= file;
    channels.delete(key);
  }
}

/** The same error, its message prefixed with the device it concerns. */
function withDevice(e: IioError, device: string): IioError {
  return new IioError({ code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, attribute: e.attribute, device, message: `${device}: ${e.message}`, cause: e });
}

/** A device's identity alone: what `findDevice` matches on and a presence check compares. */
export interface DeviceHead {
  id: string;
  name: string;
  label?: string;
  error?: IioError;
}

/** How long waitForTrigger waits by default, and how often it looks. */
export const TRIGGER_WAIT_MS = 5000;
const TRIGGER_LOOK_MS = 100;

/**
 * The IIO devices and triggers under one sysfs root, reached through one DeviceAccess (this
 * machine's by default). Cheap to refresh: `devices()` describes, `findDevice` and `triggers()`
 * hand out objects (Device, Trigger) that hold this context.
 */
export class IioContext {
  readonly access: DeviceAccess;
  /** The open chardev of each device in use, by devPath: shared by every user of the device here. */
  readonly #handles = new Map<string, DeviceHandle>();
  constructor(readonly root: string = SYSFS_IIO, readonly devRoot: string = '/dev', access?: DeviceAccess) {
    // Loaded on use: the local access runs the streams, whose modules load this one.
    this.access = access ?? (require('./local-access') as typeof import('./local-access')).localAccess;
  }

  /**
   * Every IIO device, in number order. A device that cannot be described is listed with its
   * `error` (and no channels) rather than hiding the others; an unreadable sysfs root throws.
   */
  devices(): Device[] {
    return this.deviceIds()
      .map((id) => this.readDevice(id))
      .filter((d): d is DeviceInfo => d !== null)
      .map((d) => new Device(this, d));
  }

  /** One reference to `device`'s chardev, opened by the first user (see Device.openHandle). */
  handleOf(device: DeviceInfo): DeviceHandle {
    const h = this.#handles.get(device.devPath);
    if (h?.isOpen) return h.retain();
    const opened = DeviceHandle.open(device, () => {
      if (this.#handles.get(device.devPath) === opened) this.#handles.delete(device.devPath);
    });
    this.#handles.set(device.devPath, opened);
    return opened;
  }

  /** Chardevs this context holds open (for leak checks). */
  openHandles(): number {
    return this.#handles.size;
  }

  /** The `iio:deviceN` directories, in number order. */
  private deviceIds(): string[] {
    return listDir(this.root)
      .map((e) => /^iio:device(\d+)$/.exec(e.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => m[0]);
  }

  /** A device's name and label only (cheap); null when it vanished; `error` when they cannot be read. */
  identify(id: string): DeviceHead | null {
    const dir = path.join(this.root, id);
    let name: string | undefined;
    try {
      name = readText(path.join(dir, 'name'));
      if (name === undefined) return null;
      return { id, name, label: readText(path.join(dir, 'label')) };
    } catch (e) {
      return { id, name: name ?? '', error: e instanceof IioError ? e : fromNodeError(e as NodeJS.ErrnoException, { device: id }) };
    }
  }

  /** Every trigger, in number order. */
  triggers(): Trigger[] {
    return listDir(this.root)
      .map((e) => /^trigger(\d+)$/.exec(e.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => new Trigger(this, { id: m[0], name: readText(path.join(this.root, m[0], 'name')) ?? '', sysfsPath: path.join(this.root, m[0]) }));
  }

  findTrigger(name: string): Trigger | undefined {
    return this.triggers().find((t) => t.name === name);
  }

  /**
   * Waits for a trigger called `name` to exist (another part of the same program may still be
   * creating it) and returns it; ENOENT (naming `device`, whose trigger it is to be) after
   * `timeoutMs`, or as soon as `stillWanted` says no.
   */
  async waitForTrigger(name: string, opts: { timeoutMs?: number; stillWanted?: () => boolean; device?: string } = {}): Promise<Trigger> {
    const end = Date.now() + (opts.timeoutMs ?? TRIGGER_WAIT_MS);
    for (;;) {
      const t = this.findTrigger(name);
      if (t) return t;
      if (Date.now() > end || (opts.stillWanted && !opts.stillWanted())) {
        throw new IioError({ code: 'ENOENT', errno: 2, device: opts.device, detail: `no IIO trigger named "${name}"` });
      }
      await new Promise((r) => setTimeout(r, TRIGGER_LOOK_MS));
    }
  }

  /**
   * The device matching a selector: by label and/or name (all given fields must match), else by id.
   * Throws EINVAL on an empty selector; the device's own `error` when it matches but could not be
   * described; when none matches, the error of a device whose name could not be read (it may be
   * the one), else ENOENT naming the selector.
   */
  findDevice(sel: DeviceSelector): Device {
    if (!sel.name && !sel.label && !sel.id) {
      throw invalid('no IIO device selected: give a name, a label or an id');
    }
    // Match on name and label alone, then describe only the device found: a full discovery of
    // every device (channels, scan types) for each lookup is what a dozen config nodes cannot afford.
    const devices = this.deviceIds().map((id) => this.identify(id)).filter((d): d is DeviceHead => d !== null);
    const byNameLabel =
      sel.name || sel.label ? devices.find((d) => (!sel.name || d.name === sel.name) && (!sel.label || d.label === sel.label)) : undefined;
    const head = byNameLabel ?? (sel.id ? devices.find((d) => d.id === sel.id) : undefined);
    const what = [sel.name && `name "${sel.name}"`, sel.label && `label "${sel.label}"`, sel.id && `id ${sel.id}`].filter(Boolean).join(', ');
    const found = head ? this.readDevice(head.id) : null;
    if (found?.error) throw found.error;
    if (found) return new Device(this, found);
    const unnamed = devices.find((d) => d.error && !d.name);
    if (unnamed?.error) {
      const e = unnamed.error;
      throw new IioError({ code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, device: unnamed.id, detail: `looking for the IIO device with ${what}`, cause: e });
    }
    throw new IioError({ code: 'ENOENT', errno: 2, path: this.root, detail: `no IIO device with ${what}` });
  }

  /** Reads one device's description; null when it vanished meanwhile; with `error` when it cannot be described. */
  readDevice(id: string): DeviceInfo | null {
    const sysfsPath = path.join(this.root, id);
    const m = /^iio:device(\d+)$/.exec(id);
    const base = { id, number: m ? Number(m[1]) : -1, sysfsPath, devPath: path.join(this.devRoot, id) };
    let name: string | undefined;
    let label: string | undefined;
    try {
      name = readText(path.join(sysfsPath, 'name'));
      if (name === undefined) return null;
      label = readText(path.join(sysfsPath, 'label'));
      return { ...base, name, label, ...this.describe(sysfsPath) };
    } catch (e) {
      const device = label ?? name ?? id;
      const error = e instanceof IioError ? withDevice(e, device) : fromNodeError(e as NodeJS.ErrnoException, { device });
      return { ...base, name: name ?? '', label, channels: [], buffers: [], events: [], attributes: [], triggerable: false, error };
    }
  }

  /** Channels, buffers, events and attributes of the device at `sysfsPath`. Throws what it cannot read. */
  private describe(sysfsPath: string): Pick<DeviceInfo, 'channels' | 'buffers' | 'events' | 'attributes' | 'triggerable'> {
    const entries = listDir(sysfsPath);
    const files = entries.filter(isAttrFile).map((e) => e.name);
    const channels = new Map<string, ChannelInfo>();
    const shared: SharedAttr[] = [];
    const deviceAttrs: string[] = [];
    const p = nameParser();

    for (const file of files) {
      const a = p.parseAttribute(file);
      if (!a) {
        deviceAttrs.push(file);
      } else if (a.scope === 'channel' || (a.scope === 'type' && !a.differential && !a.available && OWN_INFOS.has(a.info))) {
        this.addChannelAttr(channels, a, file);
      } else {
        // Shared by type or direction (`in_voltage_scale`, `in_voltage-voltage_scale`,
        // `in_sampling_frequency`): resolved once all channels are known.
        shared.push({ ...a, file });
      }
    }

    const buffers = this.readBuffers(sysfsPath, entries);
    for (const b of buffers) {
      for (const el of b.scanElements) {
        if (el.channel === 'timestamp' && !channels.has(`${el.direction}_timestamp`)) {
          channels.set(`${el.direction}_timestamp`, { direction: el.direction, id: 'timestamp', type: 'timestamp', attributes: {}, available: {} });
        }
        const ch = channels.get(`${el.direction}_${el.channel}`);
        if (ch && ch.scanIndex === undefined) {
          ch.scanIndex = el.index;
          ch.scanType = el.typeString;
        }
      }
    }
    foldExtInfo(channels);

    for (const s of shared) {
      const sharers = [...channels.values()].filter((c) => sharedBy(s, c));
      if (sharers.length === 0) {
        if (s.scope === 'type' && !s.differential) {
          // A non-indexed channel (`in_temp_offset`) whose raw value is absent: a channel of its own.
          this.addChannelAttr(channels, s, s.file);
        } else {
          deviceAttrs.push(s.file);
        }
        continue;
      }
      for (const ch of sharers) {
        const table = s.available ? ch.available : ch.attributes;
        table[s.info] ??= s.file;
      }
    }
    for (const ch of channels.values()) {
      if (!ch.attributes.label) continue;
      try {
        ch.label = readText(path.join(sysfsPath, ch.attributes.label));
      } catch {
        // A driver's read_label may fail for some channels: a label is not worth the device.
      }
    }

    return {
      channels: [...channels.values()].sort(compareChannels),
      buffers,
      events: this.readEvents(sysfsPath),
      attributes: deviceAttrs.sort(),
      triggerable: kernel().exists(path.join(sysfsPath, 'trigger', 'current_trigger')),
    };
  }

  private addChannelAttr(channels: Map<string, ChannelInfo>, a: ChannelId & { info: string; available: boolean }, file: string): void {
    const key = `${a.direction}_${a.id}`;
    let ch = channels.get(key);
    if (!ch) {
      ch = { ...channelIdOnly(a), attributes: {}, available: {} };
      channels.set(key, ch);
    }
    (a.available ? ch.available : ch.attributes)[a.info] = file;
  }

  private readBuffers(sysfsPath: string, entries: DirEntry[]): BufferInfo[] {
    const dirs = entries
      .map((e) => /^buffer(\d+)$/.exec(e.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ index: Number(m[1]), dir: m[0], scanDir: m[0] }))
      .sort((a, b) => a.index - b.index);
    if (dirs.length === 0 && entries.some((e) => e.name === 'buffer')) {
      dirs.push({ index: 0, dir: 'buffer', scanDir: 'scan_elements' });
    }
    return dirs.map(({ index, dir, scanDir }) => {
      const scanElements = this.readScanElements(sysfsPath, scanDir);
      const attributes = listDir(path.join(sysfsPath, dir))
        .filter((e) => isAttrFile(e) && !/_(en|index|type)$/.test(e.name))
        .map((e) => e.name)
        .sort();
      const direction = scanElements[0]?.direction ?? (readText(path.join(sysfsPath, dir, 'direction')) === 'out' ? 'out' : 'in');
      return { index, dir, scanDir, direction, scanElements, attributes };
    });
  }

  private readScanElements(sysfsPath: string, scanDir: string): ScanElementInfo[] {
    const dir = path.join(sysfsPath, scanDir);
    const p = nameParser();
    const out: ScanElementInfo[] = [];
    for (const e of listDir(dir)) {
      const m = /^(.+)_index$/.exec(e.name);
      if (!m) continue;
      const a = p.parseAttribute(`${m[1]}_en`);
      const index = Number(readText(path.join(dir, e.name)));
      const typeFile = path.join(dir, `${m[1]}_type`);
      const typeString = readText(typeFile);
      if (!a || !Number.isInteger(index) || !typeString) continue;
      let type: ScanType;
      try {
        type = parseScanType(typeString);
      } catch (err) {
        throw new IioError({ code: 'EINVAL', path: typeFile, message: `${typeFile}: ${(err as Error).message}`, cause: err });
      }
      out.push({ channel: a.id, direction: a.direction, index, type, typeString, enableAttr: `${scanDir}/${m[1]}_en` });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  private readEvents(sysfsPath: string): EventInfo[] {
    const events = new Map<string, { ev: EventInfo; ch: ChannelId }>();
    const shared: Array<ParsedEventAttr & { file: string }> = [];
    const p = nameParser();
    const add = (a: ParsedEventAttr, file: string) => {
      const key = `${a.direction}_${a.id}_${a.eventType}_${a.eventDirection}`;
      let e = events.get(key);
      if (!e) {
        e = { ev: { channel: a.id, direction: a.direction, type: a.eventType, eventDirection: a.eventDirection, attributes: {} }, ch: channelIdOnly(a) };
        events.set(key, e);
      }
      e.ev.attributes[a.info] ??= `events/${file}`;
    };
    for (const e of listDir(path.join(sysfsPath, 'events'))) {
      if (!isAttrFile(e)) continue;
      const a = p.parseEventAttribute(e.name);
      if (!a) continue;
      if (a.scope === 'channel') add(a, e.name);
      else shared.push({ ...a, file: e.name });
    }
    // Shared ones (`in_accel_mag_rising_value`, `in_voltage-voltage_thresh_rising_hysteresis`) go
    // to every event of the same kind on the channels they are shared by; with none, they are an
    // event of their own (a non-indexed channel's `in_temp_thresh_rising_en`).
    for (const s of shared) {
      const sharers = [...events.values()].filter(({ ev, ch }) => ev.type === s.eventType && ev.eventDirection === s.eventDirection && sharedBy(s, ch));
      if (sharers.length === 0) add(s, s.file);
      for (const { ev } of sharers) ev.attributes[s.info] ??= `events/${s.file}`;
    }
    return [...events.values()].map(({ ev }) => ev);
  }
}

const byName = new Intl.Collator('en', { numeric: true });

function compareChannels(a: ChannelInfo, b: ChannelInfo): number {
  const ai = a.scanIndex ?? Number.MAX_SAFE_INTEGER;
  const bi = b.scanIndex ?? Number.MAX_SAFE_INTEGER;
  return a.direction.localeCompare(b.direction) || ai - bi || byName.compare(a.id, b.id);
}

