// libiio's context description (iiod's PRINT) → devices, channels, scan elements, attributes and
// triggers, shaped like the local discovery (src/context.ts) where the two meet.
import { IioError, isIioError } from '../errors';
import { parseScanType, ScanType } from '../scan';
import { parseXml, XmlElement, XmlError } from './xml';

export interface RemoteScanElement {
  index: number;
  type: ScanType;
  /** The format in the kernel's words (`le:s12/16>>4`); libiio writes `S`/`U` when bits = storagebits. */
  typeString: string;
  /** The channel's `scale`, when the description has it. */
  scale?: number;
}

/** A channel attribute: its libiio name (`scale`) and sysfs file (`in_voltage_scale`). */
export interface RemoteAttribute {
  name: string;
  filename?: string;
}

export interface RemoteChannel {
  /** `voltage0`, `accel_x`, `timestamp`: what iiod's READ/WRITE name the channel by. */
  id: string;
  direction: 'in' | 'out';
  /** The extended name (`supply` for `in_voltage4_supply_raw`). */
  name?: string;
  scanElement?: RemoteScanElement;
  /** In description order; a name can appear twice (libiio lists shared files of differential channels). */
  attributes: RemoteAttribute[];
  /**
   * The channel's bit in iiod's OPEN mask and READBUF reply: its position in the device's channel
   * list, which libiio sorts by scan index (channels without one last) before describing it.
   */
  maskBit: number;
}

export interface RemoteDevice {
  /** `iio:device1` on the board. */
  id: string;
  name?: string;
  label?: string;
  channels: RemoteChannel[];
  attributes: string[];
  bufferAttributes: string[];
  debugAttributes: string[];
  /** Set when a channel's description cannot be used (an unknown scan format); the device is still listed. */
  error?: IioError;
}

export interface RemoteTrigger {
  /** `trigger0` */
  id: string;
  name: string;
  attributes: string[];
}

export interface RemoteContextInfo {
  name: string;
  description?: string;
  version: { major: number; minor: number; git: string };
  attributes: Record<string, string>;
  /** Every device that is not a trigger (libiio lists `iio_sysfs_trigger` among them). */
  devices: RemoteDevice[];
  /** Devices whose id starts with `trigger`, as libiio tells triggers apart. */
  triggers: RemoteTrigger[];
}

function protocol(detail: string): XmlError {
  return new XmlError(`context XML: ${detail}`);
}

function required(el: XmlElement, attr: string): string {
  const v = el.attrs[attr];
  if (v === undefined) throw protocol(`<${el.name}> without ${attr}`);
  return v;
}

/** libiio's format → the kernel's: the sign letter in lower case. */
export function kernelFormat(format: string): string {
  return format.replace(/^(be|le):([SU])/, (_m, endian: string, sign: string) => `${endian}:${sign.toLowerCase()}`);
}

/** Parses the PRINT reply into a context description; throws XmlError when it is not one. */
export function parseContextXml(text: string): RemoteContextInfo {
  const root = parseXml(text);
  if (root.name !== 'context') throw protocol(`root element <${root.name}>, expected <context>`);
  const info: RemoteContextInfo = {
    name: required(root, 'name'),
    version: {
      major: Number(root.attrs['version-major'] ?? NaN),
      minor: Number(root.attrs['version-minor'] ?? NaN),
      git: root.attrs['version-git'] ?? '',
    },
    attributes: Object.create(null) as Record<string, string>,
    devices: [],
    triggers: [],
  };
  if (root.attrs.description !== undefined) info.description = root.attrs.description;
  const ids = new Set<string>();
  for (const el of root.children) {
    if (el.name === 'context-attribute') {
      info.attributes[required(el, 'name')] = required(el, 'value');
    } else if (el.name === 'device') {
      const dev = parseDevice(el);
      if (ids.has(dev.id)) throw protocol(`device ${dev.id} described twice`);
      ids.add(dev.id);
      if (dev.id.startsWith('trigger')) info.triggers.push({ id: dev.id, name: dev.name ?? dev.id, attributes: dev.attributes });
      else info.devices.push(dev);
    }
    // Other elements: a newer libiio's additions, not ours to refuse.
  }
  return info;
}

function parseDevice(el: XmlElement): RemoteDevice {
  const dev: RemoteDevice = { id: required(el, 'id'), channels: [], attributes: [], bufferAttributes: [], debugAttributes: [] };
  if (el.attrs.name !== undefined) dev.name = el.attrs.name;
  if (el.attrs.label !== undefined) dev.label = el.attrs.label;
  for (const child of el.children) {
    switch (child.name) {
      case 'channel':
        dev.channels.push(parseChannel(child, dev.channels.length, (err) => {
          dev.error ??= new IioError({ code: 'EINVAL', device: dev.name ?? dev.id, detail: err.message, cause: err });
        }));
        break;
      case 'attribute':
        dev.attributes.push(required(child, 'name'));
        break;
      case 'buffer-attribute':
        dev.bufferAttributes.push(required(child, 'name'));
        break;
      case 'debug-attribute':
        dev.debugAttributes.push(required(child, 'name'));
        break;
    }
  }
  return dev;
}

/** A scan format this library cannot decode goes to `badFormat`; the channel keeps its place (and mask bit). */
function parseChannel(el: XmlElement, maskBit: number, badFormat: (err: IioError) => void): RemoteChannel {
  const type = required(el, 'type');
  if (type !== 'input' && type !== 'output') throw protocol(`channel type "${type}", expected input or output`);
  const ch: RemoteChannel = { id: required(el, 'id'), direction: type === 'input' ? 'in' : 'out', attributes: [], maskBit };
  if (el.attrs.name !== undefined) ch.name = el.attrs.name;
  for (const child of el.children) {
    if (child.name === 'attribute') {
      const a: RemoteAttribute = { name: required(child, 'name') };
      if (child.attrs.filename !== undefined) a.filename = child.attrs.filename;
      ch.attributes.push(a);
    } else if (child.name === 'scan-element') {
      const index = Number(required(child, 'index'));
      if (!Number.isInteger(index) || index < 0) throw protocol(`channel ${ch.id}: scan index "${child.attrs.index}"`);
      const typeString = kernelFormat(required(child, 'format'));
      let type: ScanType;
      try {
        type = parseScanType(typeString);
      } catch (err) {
        if (!isIioError(err, 'EINVAL')) throw err;
        badFormat(err);
        continue;
      }
      const se: RemoteScanElement = { index, type, typeString };
      if (child.attrs.scale !== undefined) se.scale = Number(child.attrs.scale);
      ch.scanElement = se;
    }
  }
  return ch;
}
