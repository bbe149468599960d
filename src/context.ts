// Discovery: the IIO context (a sysfs root) → devices → channels, buffers, events; and triggers.
// Reads sysfs only; nothing here opens a chardev.
import * as fs from 'fs';
import * as path from 'path';
import { ChannelNameParser, ChannelId } from './channel-name';
import { IioError, invalid } from './errors';
import { parseScanType, ScanType } from './scan';
import { channelTypeNames, modifierNames } from './uapi';

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

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

const isAttrFile = (e: fs.Dirent) => e.isFile() && !e.name.startsWith('.');

/** A view of the IIO devices and triggers under one sysfs root. Cheap to refresh. */
export class IioContext {
  constructor(readonly root: string = SYSFS_IIO, readonly devRoot: string = '/dev') {}

  /** Every IIO device, in number order. */
  devices(): DeviceInfo[] {
    return listDir(this.root)
      .map((e) => /^iio:device(\d+)$/.exec(e.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => this.readDevice(m[0]))
      .filter((d): d is DeviceInfo => d !== null);
  }

  /** Every trigger, in number order. */
  triggers(): TriggerInfo[] {
    return listDir(this.root)
      .map((e) => /^trigger(\d+)$/.exec(e.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => ({ id: m[0], name: readText(path.join(this.root, m[0], 'name')) ?? '', sysfsPath: path.join(this.root, m[0]) }));
  }

  findTrigger(name: string): TriggerInfo | undefined {
    return this.triggers().find((t) => t.name === name);
  }

  /**
   * The device matching a selector: by label and/or name (all given fields must match), else by id.
   * Throws ENOENT naming the selector when none matches, EINVAL on an empty selector.
   */
  findDevice(sel: DeviceSelector): DeviceInfo {
    if (!sel.name && !sel.label && !sel.id) {
      throw invalid('no IIO device selected: give a name, a label or an id');
    }
    const devices = this.devices();
    const byNameLabel =
      sel.name || sel.label ? devices.find((d) => (!sel.name || d.name === sel.name) && (!sel.label || d.label === sel.label)) : undefined;
    const found = byNameLabel ?? (sel.id ? devices.find((d) => d.id === sel.id) : undefined);
    if (!found) {
      const what = [sel.name && `name "${sel.name}"`, sel.label && `label "${sel.label}"`, sel.id && `id ${sel.id}`].filter(Boolean).join(', ');
      throw new IioError({ code: 'ENOENT', errno: 2, path: this.root, detail: `no IIO device with ${what}` });
    }
    return found;
  }

  /** Reads one device's description; null when it vanished meanwhile. */
  readDevice(id: string): DeviceInfo | null {
    const sysfsPath = path.join(this.root, id);
    const name = readText(path.join(sysfsPath, 'name'));
    if (name === undefined) return null;
    const entries = listDir(sysfsPath);
    const files = entries.filter(isAttrFile).map((e) => e.name);
    const channels = new Map<string, ChannelInfo>();
    const shared: Array<{ direction: string; type?: string; info: string; file: string; available: boolean }> = [];
    const deviceAttrs: string[] = [];
    const p = nameParser();

    for (const file of files) {
      const a = p.parseAttribute(file);
      if (!a) {
        // `in_sampling_frequency`-style attributes shared by direction have no type.
        const dirShared = /^(in|out)_(.+)$/.exec(file);
        if (dirShared) shared.push({ direction: dirShared[1], info: dirShared[2].replace(/_available$/, ''), file, available: file.endsWith('_available') });
        else deviceAttrs.push(file);
        continue;
      }
      const own = a.index !== undefined || a.modifier !== undefined;
      if (!own && (a.info !== 'raw' && a.info !== 'input' && a.info !== 'en')) {
        // Maybe a shared-by-type attribute (`in_voltage_scale`); resolved once all channels are known.
        shared.push({ direction: a.direction, type: a.type, info: a.info, file, available: a.available });
        continue;
      }
      this.addChannelAttr(channels, a, file);
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

    for (const s of shared) {
      const typeHasOwnChannel = s.type !== undefined && [...channels.values()].some((c) => c.direction === s.direction && c.type === s.type);
      if (s.type !== undefined && !typeHasOwnChannel) {
        // A non-indexed channel (`in_temp_offset`) whose raw value is absent: a channel of its own.
        this.addChannelAttr(channels, { direction: s.direction as 'in' | 'out', id: s.type, type: s.type, info: s.info, available: s.available }, s.file);
        continue;
      }
      for (const ch of channels.values()) {
        if (ch.direction !== s.direction || (s.type !== undefined && ch.type !== s.type)) continue;
        const table = s.available ? ch.available : ch.attributes;
        table[s.info] ??= s.file;
      }
    }
    for (const ch of channels.values()) {
      if (ch.attributes.label) ch.label = readText(path.join(sysfsPath, ch.attributes.label));
    }

    const m = /^iio:device(\d+)$/.exec(id);
    return {
      id,
      number: m ? Number(m[1]) : -1,
      name,
      label: readText(path.join(sysfsPath, 'label')),
      sysfsPath,
      devPath: path.join(this.devRoot, id),
      channels: [...channels.values()].sort(compareChannels),
      buffers,
      events: this.readEvents(sysfsPath),
      attributes: deviceAttrs.sort(),
      triggerable: fs.existsSync(path.join(sysfsPath, 'trigger', 'current_trigger')),
    };
  }

  private addChannelAttr(channels: Map<string, ChannelInfo>, a: ChannelId & { info: string; available: boolean }, file: string): void {
    const key = `${a.direction}_${a.id}`;
    let ch = channels.get(key);
    if (!ch) {
      ch = { direction: a.direction, id: a.id, type: a.type, attributes: {}, available: {} };
      if (a.index !== undefined) ch.index = a.index;
      if (a.index2 !== undefined) ch.index2 = a.index2;
      if (a.modifier !== undefined) ch.modifier = a.modifier;
      channels.set(key, ch);
    }
    (a.available ? ch.available : ch.attributes)[a.info] = file;
  }

  private readBuffers(sysfsPath: string, entries: fs.Dirent[]): BufferInfo[] {
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
      const typeString = readText(path.join(dir, `${m[1]}_type`));
      if (!a || !Number.isInteger(index) || !typeString) continue;
      out.push({ channel: a.id, direction: a.direction, index, type: parseScanType(typeString), typeString, enableAttr: `${scanDir}/${m[1]}_en` });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  private readEvents(sysfsPath: string): EventInfo[] {
    const events = new Map<string, EventInfo>();
    const p = nameParser();
    for (const e of listDir(path.join(sysfsPath, 'events'))) {
      if (!isAttrFile(e)) continue;
      const a = p.parseEventAttribute(e.name);
      if (!a) continue;
      const key = `${a.direction}_${a.id}_${a.eventType}_${a.eventDirection}`;
      let ev = events.get(key);
      if (!ev) {
        ev = { channel: a.id, direction: a.direction, type: a.eventType, eventDirection: a.eventDirection, attributes: {} };
        events.set(key, ev);
      }
      ev.attributes[a.info] = `events/${e.name}`;
    }
    return [...events.values()];
  }
}

const byName = new Intl.Collator('en', { numeric: true });

function compareChannels(a: ChannelInfo, b: ChannelInfo): number {
  const ai = a.scanIndex ?? Number.MAX_SAFE_INTEGER;
  const bi = b.scanIndex ?? Number.MAX_SAFE_INTEGER;
  return a.direction.localeCompare(b.direction) || ai - bi || byName.compare(a.id, b.id);
}

