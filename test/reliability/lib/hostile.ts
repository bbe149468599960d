// Hostile values for message fields: wrong types, extreme numbers, BigInt, circular objects,
// typed arrays, big Buffers, strings with NUL and path tricks. Heavy values (4 MiB Buffers) are
// rationed by the caller so a run stays inside its time budget.
import { Rng } from './seed';

/** One shared 4 MiB Buffer: the helper's spies keep every message, so never allocate many. */
export const BIG = Buffer.alloc(4 << 20, 0x5a);

function circular(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  o.list = [o];
  return o;
}

const STRINGS = [
  '', ' ', 'start', 'stop', ' START ', 'Stop\n', 'fire', 'x', '0', '-1', '1e3', '0x10', 'NaN', 'true',
  '\0', 'a\0b', 'start\0', '../../etc/passwd', '..', '.', '/', '//', 'a/../../b', '\u202e', '💥', 'ä'.repeat(300),
  'x'.repeat(5000), '%s%n%x', '${payload}', '__proto__', 'constructor', 'toString', 'iio:device0', 'trigger0',
];

const NUMBERS = [0, -0, 1, -1, 2, 7, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 5e-324, 0.5, -3.7, 1e-9, NaN, Infinity, -Infinity];

/** A plain hostile value (never the 4 MiB Buffer: see `heavy`). */
export function hostile(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, 13)) {
    case 0:
      return rng.pick([undefined, null, true, false]);
    case 1:
    case 2:
      return rng.pick(NUMBERS);
    case 3:
      return rng.pick([0n, 1n, -1n, 2n ** 64n, -(2n ** 63n) - 1n]);
    case 4:
    case 5:
      return rng.pick(STRINGS);
    case 6:
      return String.fromCharCode(...Array.from({ length: rng.int(1, 12) }, () => rng.int(0, 0x7f)));
    case 7:
      return circular();
    case 8:
      return depth > 1 ? {} : { value: hostile(rng, depth + 1), enable: hostile(rng, depth + 1), hysteresis: hostile(rng, depth + 1), period: hostile(rng, depth + 1) };
    case 9:
      return depth > 1 ? [] : Array.from({ length: rng.int(0, 5) }, () => hostile(rng, depth + 1));
    case 10:
      return rng.pick([new Int16Array(rng.int(0, 9)), new Float64Array([NaN, 1e300]), new BigInt64Array(3), new Uint8Array(7)]);
    case 11:
      return Buffer.alloc(rng.pick([0, 1, 3, 4, 5, 40, 1023, 4096]), rng.int(0, 255));
    case 12:
      return rng.pick([new Date(NaN), new Map([[1, 2]]), new Set([1]), () => 1, Symbol('s'), Object.create(null)]);
    default:
      return Array.from({ length: rng.int(0, 2000) }, () => rng.int(-40000, 40000));
  }
}

/**
 * For values that are slow by design (a 4 MiB payload, 10 000 fires): exactly `count` of them,
 * spread evenly over a run of `total` messages, so every run has them and none has more.
 */
export class Heavy {
  private next = 0;
  private readonly at: number[];
  constructor(count: number, total: number) {
    this.at = Array.from({ length: count }, (_, k) => Math.floor(((k + 1) * total) / (count + 1)));
  }
  /** True once for each planned position that message number `i` has reached. */
  due(i: number): boolean {
    if (this.next >= this.at.length || i < this.at[this.next]) return false;
    this.next++;
    return true;
  }
}
