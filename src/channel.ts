// A channel of a device, holding its device: where its attributes live, and its value in the
// units of the sysfs ABI, (raw + offset) × scale, read in one place for every caller.
import { parseFloatAttr } from './attr';
import { IioError } from './errors';
import type { AttributeStore } from './attr';
import type { ChannelScale } from './scan';
import type { ChannelInfo } from './context';
import type { Device } from './device';

/** Its own enumerable fields are exactly its ChannelInfo; the device is a getter. */
export class Channel implements ChannelInfo {
  declare readonly direction: 'in' | 'out';
  declare readonly id: string;
  declare readonly type: string;
  declare readonly index?: number;
  declare readonly index2?: number;
  declare readonly differential?: boolean;
  declare readonly modifier?: string;
  declare readonly extendName?: string;
  declare readonly attributes: Record<string, string>;
  declare readonly available: Record<string, string>;
  declare readonly scanIndex?: number;
  declare readonly scanType?: string;
  declare readonly label?: string;
  readonly #device: Device;

  constructor(device: Device, info: ChannelInfo) {
    this.#device = device;
    Object.assign(this, info);
  }

  get device(): Device {
    return this.#device;
  }

  /** The device's attributes, where this channel's live. */
  get attrs(): AttributeStore {
    return this.#device.attrs;
  }

  /** The attribute file of an info name (`raw` → `in_voltage0_raw`; `scale_available` too); ENOENT when the channel has none. */
  file(info: string): string {
    const file = this.attributes[info] ?? this.available[info.replace(/_available$/, '')];
    if (!file) throw new IioError({ code: 'ENOENT', errno: 2, device: this.#device.name, detail: `channel ${this.id} of ${this.#device.name} has no "${info}" attribute` });
    return file;
  }

  /** Scale and offset now (1 and 0 where the channel has none). */
  readScaleSync(): Required<ChannelScale> {
    const a = this.attributes;
    return { scale: a.scale ? this.attrs.readFloatSync(a.scale) : 1, offset: a.offset ? this.attrs.readFloatSync(a.offset) : 0 };
  }

  async readScale(): Promise<Required<ChannelScale>> {
    const a = this.attributes;
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
