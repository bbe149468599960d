// Parsing IIO sysfs attribute names into channel, info and event parts, exactly as the kernel
// builds them (__iio_device_attr_init in industrialio-core.c). Pure string logic: tested on the host.
//
// A channel attribute is `{in|out}_` + one of (postfix = `[{modifier}_][{extend}_]{info}`):
//   separate, indexed        {type}{index}_{postfix}                    in_voltage0_raw, in_accel0_x_raw
//   separate, differential   {type}{index}-{type}{index2}_{postfix}     in_voltage0-voltage1_raw
//   separate, non-indexed    {type}_{postfix}                           in_temp_raw, in_accel_x_raw
//   shared by type           {type}_{info}                              in_voltage_scale, in_accel_scale
//   shared by type, differential channels only
//                            {type}-{type}_{info}                       in_voltage-voltage_scale
//   shared by direction      {info}                                     in_sampling_frequency
// each optionally followed by `_available`. Shared names never carry a modifier or an extend name
// (in_accel_x_scale is accel_x's own scale). A non-indexed channel's own unmodified attributes look
// exactly like shared-by-type ones (`in_temp_scale`): the parser says `type`, discovery decides.
// Shared by all (`sampling_frequency`) has no direction prefix: a device attribute, not parsed here.
// The extend name (`in_voltage4_supply_raw`) is recognised only before a known info name
// (CHAN_INFO_NAMES); anything else after the channel is the info (a driver's ext_info name).
//
// Event attributes (under events/) have the same channel part with the postfix
// `[{modifier}_][{extend}_]{event type}[_{event direction}]_{event info}`: in_temp_thresh_rising_value,
// in_voltage0-voltage1_thresh_rising_en, in_accel_x&y&z_mag_rising_value, shared
// in_accel_mag_rising_value, in_voltage-voltage_thresh_rising_hysteresis, in_thresh_rising_period.
import { CHAN_INFO_NAMES, EVENT_DIRECTION_NAMES, EVENT_INFO_NAMES, EVENT_TYPE_NAMES } from './uapi';

/**
 * Which channels an attribute belongs to: `channel` its own; `type` every channel of that type
 * and direction (with `differential`: only the differential ones; without: only the single-ended
 * ones); `direction` every channel of that direction.
 */
export type AttrScope = 'channel' | 'type' | 'direction';

/** A channel's identity as sysfs spells it. */
export interface ChannelId {
  direction: 'in' | 'out';
  /**
   * `voltage0`, `accel_x`, `temp`, `voltage0-voltage1`, `voltage4_supply`; for a shared attribute
   * just the type (`voltage`), `voltage-voltage` when shared by differential channels, and the
   * empty string when shared by direction.
   */
  id: string;
  /** `voltage`, `accel`…; empty when shared by direction. */
  type: string;
  index?: number;
  /** The second channel of a differential pair. */
  index2?: number;
  /** A differential channel (`voltage0-voltage1`) or an attribute shared by them (`voltage-voltage`). */
  differential?: boolean;
  modifier?: string;
  /** The driver's extend name (`supply` in `in_voltage4_supply_raw`): part of the channel's id. */
  extendName?: string;
}

export interface ParsedChannelAttr extends ChannelId {
  /** What follows the channel: `raw`, `scale`, `en`, or a driver's own name. */
  info: string;
  available: boolean;
  scope: AttrScope;
}

export interface ParsedEventAttr extends ChannelId {
  eventType: string;
  /** `rising`, `falling`, `either`, `singletap`…; `none` when the name has no direction. */
  eventDirection: string;
  /** `en`, `value`, `hysteresis`…, or a driver's own name (`value_available`). */
  info: string;
  scope: AttrScope;
}

const byLength = (a: string, b: string) => b.length - a.length;
// Sysfs spellings: the kernel prints no direction for IIO_EV_DIR_NONE.
const EVENT_TYPES = [...EVENT_TYPE_NAMES].sort(byLength);
const EVENT_DIRECTIONS = EVENT_DIRECTION_NAMES.filter((d) => d !== 'none').sort(byLength);
const CHAN_INFOS = [...CHAN_INFO_NAMES].sort(byLength);
const EVENT_INFOS = [...EVENT_INFO_NAMES].sort(byLength);

interface Head {
  channel: ChannelId;
  scope: AttrScope;
  /** What follows the channel (and its modifier), without the separating `_`. */
  rest: string;
}

export class ChannelNameParser {
  private readonly types: string[];
  private readonly modifiers: string[];

  /** `types` and `modifiers` are the kernel's sysfs names (uapi tables). */
  constructor(types: Iterable<string>, modifiers: Iterable<string>) {
    // Longest first, so `anglvel` wins over `angl` and `x&y&z` over `x`.
    this.types = [...types].sort(byLength);
    this.modifiers = [...modifiers].filter((m) => m.length > 0).sort(byLength);
  }

  /** Parses a channel attribute file name (`in_voltage0_raw`). Null when the name is not one. */
  parseAttribute(file: string): ParsedChannelAttr | null {
    const head = this.parseHead(file);
    if (!head || !head.rest || head.rest === 'available') return null;
    let rest = head.rest;
    let available = false;
    if (rest.endsWith('_available')) {
      available = true;
      rest = rest.slice(0, -'_available'.length);
    }
    if (!rest) return null;
    const { channel } = head;
    let { scope } = head;
    if (scope === 'direction') {
      // Only the core's info names are ever shared by direction; `in_bogus0_raw` is not one.
      return CHAN_INFOS.includes(rest) ? { ...channel, info: rest, available, scope } : null;
    }
    let info = rest;
    const split = splitExtend(rest, CHAN_INFOS);
    if (split && (scope === 'channel' || !channel.differential)) {
      // Shared names never carry an extend name: with one it is a (non-indexed) channel's own.
      info = split.info;
      withExtend(channel, split.extend);
      scope = 'channel';
    }
    return { ...channel, info, available, scope };
  }

  /** Parses an event attribute file name (`in_temp_thresh_rising_value`). Null when the name is not one. */
  parseEventAttribute(file: string): ParsedEventAttr | null {
    const head = this.parseHead(file);
    if (!head) return null;
    const { channel, rest } = head;
    // The event type starts the postfix or follows an extend name at a `_` boundary (shared
    // names never carry an extend name).
    const starts = [0];
    if (head.scope === 'channel' || (head.scope === 'type' && !channel.differential)) {
      for (let i = rest.indexOf('_'); i >= 0; i = rest.indexOf('_', i + 1)) starts.push(i + 1);
    }
    for (const at of starts) {
      const ev = parseEventPostfix(rest.slice(at));
      if (!ev) continue;
      if (at === 0) return { ...channel, ...ev, scope: head.scope };
      withExtend(channel, rest.slice(0, at - 1));
      return { ...channel, ...ev, scope: 'channel' };
    }
    return null;
  }

  private parseHead(file: string): Head | null {
    const m = /^(in|out)_(.+)$/.exec(file);
    if (!m) return null;
    const direction = m[1] as 'in' | 'out';
    let s = m[2];
    const type = this.matchWord(s, this.types);
    if (!type) return { channel: { direction, id: '', type: '' }, scope: 'direction', rest: s };
    s = s.slice(type.length);
    const channel: ChannelId = { direction, id: type, type };
    let scope: AttrScope = 'type';
    const idx = /^(\d+)(?:-([a-z]+)(\d+))?/.exec(s);
    if (idx) {
      if (idx[2] !== undefined && idx[2] !== type) return null;
      channel.index = Number(idx[1]);
      if (idx[3] !== undefined) {
        channel.index2 = Number(idx[3]);
        channel.differential = true;
      }
      s = s.slice(idx[0].length);
      scope = 'channel';
    } else if (s.startsWith(`-${type}_`)) {
      // `in_voltage-voltage_scale`: shared by the differential channels of this type.
      channel.differential = true;
      s = s.slice(type.length + 1);
    }
    // A differential pair has no modifier (the kernel keeps the second index where it would be).
    if (s.startsWith('_') && !channel.differential) {
      const mod = this.matchWord(s.slice(1), this.modifiers);
      if (mod) {
        channel.modifier = mod;
        s = s.slice(1 + mod.length);
        scope = 'channel';
      }
    }
    if (s !== '' && !s.startsWith('_')) return null;
    channel.id = channelIdOf(channel);
    return { channel, scope, rest: s.slice(1) };
  }

  /** The longest of `words` that `s` starts with, followed by a digit, `_`, `-` or the end. */
  private matchWord(s: string, words: string[]): string | null {
    for (const w of words) {
      if (!s.startsWith(w)) continue;
      const next = s.charAt(w.length);
      if (next === '' || next === '_' || next === '-' || (next >= '0' && next <= '9')) return w;
    }
    return null;
  }
}

/** `voltage0-voltage1`, `accel_x`, `voltage4_supply`, `voltage-voltage`, `voltage`. */
function channelIdOf(c: ChannelId): string {
  let id = c.type;
  if (c.index !== undefined) id += c.index;
  if (c.differential) id += `-${c.type}${c.index2 ?? ''}`;
  if (c.modifier) id += `_${c.modifier}`;
  if (c.extendName) id += `_${c.extendName}`;
  return id;
}

function withExtend(channel: ChannelId, extend: string): void {
  channel.extendName = extend;
  channel.id = channelIdOf(channel);
}

/** `supply_raw` → extend `supply`, info `raw` (the longest known info that ends the string). */
function splitExtend(rest: string, infos: readonly string[]): { extend: string; info: string } | null {
  if (infos.includes(rest)) return null; // `peak_raw` is an info, not extend `peak` + `raw`
  for (const info of infos) {
    if (rest.length > info.length + 1 && rest.endsWith(`_${info}`)) {
      return { extend: rest.slice(0, -(info.length + 1)), info };
    }
  }
  return null;
}

/** `thresh_rising_value`, `change_value` (no direction) → its parts; null when it is not an event postfix. */
function parseEventPostfix(s: string): { eventType: string; eventDirection: string; info: string } | null {
  const eventType = EVENT_TYPES.find((t) => s.startsWith(`${t}_`));
  if (!eventType) return null;
  const afterType = s.slice(eventType.length + 1);
  const eventDirection = EVENT_DIRECTIONS.find((d) => afterType.startsWith(`${d}_`) && afterType.length > d.length + 1);
  if (eventDirection) return { eventType, eventDirection, info: afterType.slice(eventDirection.length + 1) };
  // No direction in the name (IIO_EV_DIR_NONE, e.g. `in_steps_change_value`): the rest must be an info.
  const info = EVENT_INFOS.find((i) => afterType === i || afterType.startsWith(`${i}_`));
  return info ? { eventType, eventDirection: 'none', info: afterType } : null;
}
