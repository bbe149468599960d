// Channels as objects that hold their device: where their attributes live, and their value in the
// units of the sysfs ABI, (raw + offset) × scale, read in one place for every caller.
import { AttributeDir, parseFloatAttr } from './attr';
import { IioError } from './errors';
import type { ChannelScale } from './scan';
import type { ChannelInfo, DeviceInfo, TriggerInfo } from './context';

/** The attributes of a device's sysfs directory, named after the device in errors. */
export function attributesOf(device: DeviceInfo): AttributeDir {
  return new AttributeDir(device.sysfsPath, device.name);
}

/** The attributes of a trigger's sysfs directory. */
export function triggerAttributesOf(t: TriggerInfo): AttributeDir {
  return new AttributeDir(t.sysfsPath, t.name);
}

export class Channel {
  readonly attrs: AttributeDir;

  constructor(
    readonly device: DeviceInfo,
    readonly info: ChannelInfo,
  ) {
    this.attrs = attributesOf(device);
  }

  /** The device's channel `id`, an input one first (then any direction, or only `direction`); ENOENT naming both. */
  static find(device: DeviceInfo, id: string, direction?: 'in' | 'out'): Channel {
    const ch = direction
      ? device.channels.find((c) => c.id === id && c.direction === direction)
      : (device.channels.find((c) => c.id === id && c.direction === 'in') ?? device.channels.find((c) => c.id === id));
    if (!ch) throw new IioError({ code: 'ENOENT', errno: 2, device: device.name, detail: `${device.name} has no channel "${id}"` });
    return new Channel(device, ch);
  }

  get id(): string {
    return this.info.id;
  }

  /** The attribute file of an info name (`raw` → `in_voltage0_raw`; `scale_available` too); ENOENT when the channel has none. */
  file(info: string): string {
    const file = this.info.attributes[info] ?? this.info.available[info.replace(/_available$/, '')];
    if (!file) throw new IioError({ code: 'ENOENT', errno: 2, device: this.device.name, detail: `channel ${this.id} of ${this.device.name} has no "${info}" attribute` });
    return file;
  }

  /** Scale and offset now (1 and 0 where the channel has none). */
  readScaleSync(): Required<ChannelScale> {
    const a = this.info.attributes;
    return { scale: a.scale ? this.attrs.readFloatSync(a.scale) : 1, offset: a.offset ? this.attrs.readFloatSync(a.offset) : 0 };
  }

  async readScale(): Promise<Required<ChannelScale>> {
    const a = this.info.attributes;
    return { scale: a.scale ? await this.attrs.readFloat(a.scale) : 1, offset: a.offset ? await this.attrs.readFloat(a.offset) : 0 };
  }

  /** The value of `raw` (or another info) in SI-ish units; EINVAL when it is not a number (an empty answer included). */
  async readScaled(info = 'raw'): Promise<number> {
    const file = this.file(info);
    const raw = await this.attrs.readString(file);
    const { scale, offset } = await this.readScale();
    // Number('') would be 0: a driver's empty answer must not read as a plausible value.
    return (parseFloatAttr(raw, this.attrs.context(file)) + offset) * scale;
  }
}
