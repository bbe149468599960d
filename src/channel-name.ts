// Parsing IIO sysfs attribute names into channel, info and event parts, as the kernel builds them:
// {in|out}_{type}[index][-{type}{index}][_{modifier}][_{extend}]_{info}[_available]  and, under
// events/, ..._{event type}_{event direction}_{info}. Pure string logic: tested on the host.

/** A channel's identity as sysfs spells it. */
export interface ChannelId {
  direction: 'in' | 'out';
  /** `voltage0`, `accel_x`, `temp`, `voltage0-voltage1`; a shared attribute has just the type (`voltage`). */
  id: string;
  type: string;
  index?: number;
  /** The second channel of a differential pair. */
  index2?: number;
  modifier?: string;
}

export interface ParsedChannelAttr extends ChannelId {
  /** What follows the channel: `raw`, `scale`, `en`, `thresh_rising_value`, or a driver's own name. */
  info: string;
  available: boolean;
}

export interface ParsedEventAttr extends ChannelId {
  eventType: string;
  eventDirection: string;
  info: string;
}

const EVENT_TYPES = ['thresh_adaptive', 'mag_adaptive', 'mag_referenced', 'thresh', 'mag', 'roc', 'change', 'gesture'];
const EVENT_DIRECTIONS = ['either', 'rising', 'falling', 'none', 'singletap', 'doubletap'];

export class ChannelNameParser {
  private readonly types: string[];
  private readonly modifiers: string[];

  /** `types` and `modifiers` are the kernel's sysfs names (uapi tables). */
  constructor(types: Iterable<string>, modifiers: Iterable<string>) {
    // Longest first, so `anglvel` wins over `angl` and `x&y&z` over `x`.
    this.types = [...types].sort((a, b) => b.length - a.length);
    this.modifiers = [...modifiers].filter((m) => m.length > 0).sort((a, b) => b.length - a.length);
  }

  /** Parses a channel attribute file name (`in_voltage0_raw`). Null when the name is not one. */
  parseAttribute(file: string): ParsedChannelAttr | null {
    const head = this.parseHead(file);
    if (!head) return null;
    let info = head.rest;
    if (!info) return null;
    let available = false;
    if (info.endsWith('_available')) {
      available = true;
      info = info.slice(0, -'_available'.length);
    }
    return { ...head.channel, info, available };
  }

  /** Parses an event attribute file name (`in_temp_thresh_rising_value`). Null when the name is not one. */
  parseEventAttribute(file: string): ParsedEventAttr | null {
    const head = this.parseHead(file);
    if (!head) return null;
    for (const eventType of EVENT_TYPES) {
      if (!head.rest.startsWith(eventType + '_')) continue;
      const afterType = head.rest.slice(eventType.length + 1);
      for (const eventDirection of EVENT_DIRECTIONS) {
        if (afterType.startsWith(eventDirection + '_')) {
          const info = afterType.slice(eventDirection.length + 1);
          if (info) return { ...head.channel, eventType, eventDirection, info };
        }
      }
      // Some events have no direction in their name (e.g. `in_accel_change_value`).
      return { ...head.channel, eventType, eventDirection: 'none', info: afterType };
    }
    return null;
  }

  private parseHead(file: string): { channel: ChannelId; rest: string } | null {
    const m = /^(in|out)_(.+)$/.exec(file);
    if (!m) return null;
    const direction = m[1] as 'in' | 'out';
    let s = m[2];
    const type = this.matchWord(s, this.types);
    if (!type) return null;
    s = s.slice(type.length);
    let id = type;
    const channel: ChannelId = { direction, id, type };
    const idx = /^\d+/.exec(s);
    if (idx) {
      channel.index = Number(idx[0]);
      s = s.slice(idx[0].length);
      const diff = new RegExp(`^-${type}(\\d+)`).exec(s);
      if (diff) {
        channel.index2 = Number(diff[1]);
        s = s.slice(diff[0].length);
      }
    }
    if (s.startsWith('_')) {
      const mod = this.matchWord(s.slice(1), this.modifiers);
      if (mod) {
        channel.modifier = mod;
        s = s.slice(1 + mod.length);
      }
    }
    id = type + (channel.index ?? '') + (channel.index2 !== undefined ? `-${type}${channel.index2}` : '');
    if (channel.modifier) id += `_${channel.modifier}`;
    channel.id = id;
    if (s !== '' && !s.startsWith('_')) return null;
    return { channel, rest: s.slice(1) };
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
