// Event thresholds in engineering units: the units of the channel's scaled value,
// (raw + offset) × scale (m°C, mV, m/s²… per the sysfs ABI), converted to and from the raw units
// most drivers' event attributes take.
import { IioError } from './errors';

export interface ChannelScaling {
  /** The channel's `_scale` (1 when it has none). */
  scale: number;
  /** The channel's `_offset` (0 when it has none). */
  offset: number;
}

/** `value` is a level (offset applies); `hysteresis` is a distance (scale only); `period` is seconds (not converted). */
export type EventSetting = 'value' | 'hysteresis' | 'period';

function parseNumber(text: string, what: string): number {
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n)) throw new IioError({ code: 'EINVAL', detail: `${what} must be a number, not ${JSON.stringify(text)}` });
  return n;
}

/** A number as sysfs takes it: an integer, or up to 6 decimals (the kernel's micro fixed point). */
export function formatAttr(n: number, integer: boolean): string {
  if (integer) return String(Math.round(n) + 0); // + 0: no "-0"
  const s = n.toFixed(6).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

/**
 * The raw attribute text for a setting given in engineering units. `integer`: the attribute holds
 * integers (its current text has no decimal point), so the result is rounded to the nearest.
 */
export function toRawSetting(setting: EventSetting, scaled: string, s: ChannelScaling, integer: boolean): string {
  if (setting === 'period') return scaled.trim();
  const v = parseNumber(scaled, setting);
  if (!Number.isFinite(s.scale) || s.scale === 0) {
    throw new IioError({ code: 'EINVAL', detail: `the channel's scale is ${s.scale}: ${setting} cannot be converted from engineering units (use raw units)` });
  }
  const raw = setting === 'value' ? v / s.scale - s.offset : Math.abs(v / s.scale);
  return formatAttr(raw, integer);
}

/** A raw setting (attribute text) in engineering units, for display. */
export function fromRawSetting(setting: EventSetting, raw: string, s: ChannelScaling): number {
  const r = parseNumber(raw, setting);
  if (setting === 'period') return r;
  return setting === 'value' ? (r + s.offset) * s.scale : Math.abs(r * s.scale);
}
