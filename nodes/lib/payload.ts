// Turning decoded blocks and events into message payloads that survive the Debug sidebar, JSON
// and Node-RED's message cloning: no raw BigInt anywhere; 64-bit nanosecond timestamps as exact
// decimal strings plus a millisecond number.
import type { DecodedBlock, ScaledBlock, RawArray } from '../../src/scan';

export type OutputShape = 'arrays' | 'objects' | 'raw';

/** ns timestamps → exact decimal strings and millisecond numbers. */
export function timestampsOut(ts: BigInt64Array, scans: number): { timestamp: string[]; timestampMs: number[] } {
  return { timestamp: timestampStrings(ts, scans), timestampMs: timestampsMs(ts, scans) };
}

/** ns timestamps → milliseconds. */
function timestampsMs(ts: BigInt64Array, scans: number): number[] {
  const ms = new Array<number>(scans);
  const halves = new Uint32Array(ts.buffer, ts.byteOffset, scans * 2);
  const lo = NATIVE_LE ? 0 : 1;
  for (let i = 0; i < scans; i++) ms[i] = ((halves[2 * i + 1 - lo] | 0) * TWO_POW_32 + halves[2 * i + lo]) / 1e6;
  return ms;
}

/** ns timestamps → exact decimal strings. */
function timestampStrings(ts: BigInt64Array, scans: number): string[] {
  const timestamp = new Array<string>(scans);
  if (scans === 0) return timestamp;
  // Scans of a block lie close together: each string is its second's digits (converted from
  // BigInt once per second crossed) and its nanoseconds past that second, computed exactly in
  // doubles from the 32-bit halves. No BigInt per scan.
  const halves = new Uint32Array(ts.buffer, ts.byteOffset, scans * 2);
  const lo = NATIVE_LE ? 0 : 1;
  const hi0 = halves[1 - lo] | 0;
  const lo0 = halves[lo];
  let prefix = '';
  let anchorD = 0; // offset (ns from ts[0]) of the scan the prefix was taken from
  let anchorFrac = -1; // its ns past the second; -1: no anchor yet
  for (let i = 0; i < scans; i++) {
    const hi = halves[2 * i + 1 - lo] | 0;
    const low = halves[2 * i + lo];
    const d = (hi - hi0) * TWO_POW_32 + (low - lo0); // exact while a safe integer
    let frac = anchorFrac + (d - anchorD);
    if (anchorFrac < 0 || frac < 0 || frac >= 1e9 || !Number.isSafeInteger(d)) {
      const t = ts[i];
      if (t < 0n || !Number.isSafeInteger(d)) {
        timestamp[i] = t.toString();
        continue;
      }
      const sec = t / NS_PER_S;
      prefix = sec === 0n ? '' : sec.toString();
      anchorFrac = frac = Number(t - sec * NS_PER_S);
      anchorD = d;
    }
    const digits = '' + frac; // (cheaper than String() and slice: 3× in a block of 1638)
    timestamp[i] = prefix === '' ? digits : prefix + ZEROS[9 - digits.length] + digits; // 9 digits, zero-padded
  }
  return timestamp;
}

/**
 * Defines `key` on `obj` as computed when first read, then an ordinary property (also when
 * assigned first). JSON, the Debug sidebar and Node-RED's message cloning all read it like any other.
 */
function lazyProperty(obj: Record<string, unknown>, key: string, compute: () => unknown): void {
  const settle = (target: object, value: unknown) => Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(obj, key, {
    get(this: object) {
      const value = compute();
      settle(this, value);
      return value;
    },
    set(this: object, value: unknown) {
      settle(this, value);
    },
    enumerable: true,
    configurable: true,
  });
}

const NS_PER_S = 1000000000n;
/** Zeros that pad nanoseconds past the second to 9 digits. */
const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000', '00000000', '000000000'];
const TWO_POW_32 = 4294967296;
const NATIVE_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** 64-bit channel values are kept exact as strings; everything else stays a typed array. */
function jsonSafe(values: RawArray | Float64Array): ArrayLike<number> | string[] {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return Array.from(values, (v) => v.toString());
  return values;
}

/** `{channel: TypedArray, …, timestamp: string[], timestampMs: number[]}` */
export function toArrays(block: DecodedBlock | ScaledBlock): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(block.channels)) out[name] = jsonSafe(values);
  if (block.timestamps) {
    // The exact strings cost more than the decoding of all channels (a string per scan): built
    // only when a flow reads them, from a copy (the caller may reuse the block's arrays).
    const ts = block.timestamps.slice(0, block.scans);
    lazyProperty(out, 'timestamp', () => timestampStrings(ts, ts.length));
    out.timestampMs = timestampsMs(ts, ts.length);
  }
  return out;
}

/** `[{channel: value | value[] (repeat), …, timestamp, timestampMs}, …]` */
export function toObjects(block: DecodedBlock | ScaledBlock, repeats: Record<string, number>): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = new Array(block.scans);
  const entries = Object.entries(block.channels).map(([name, values]) => [name, jsonSafe(values), repeats[name] ?? 1] as const);
  const ts = block.timestamps ? timestampsOut(block.timestamps, block.scans) : null;
  for (let i = 0; i < block.scans; i++) {
    const row: Record<string, unknown> = {};
    for (const [name, values, repeat] of entries) {
      row[name] = repeat === 1 ? values[i] : Array.prototype.slice.call(values, i * repeat, (i + 1) * repeat);
    }
    if (ts) {
      row.timestamp = ts.timestamp[i];
      row.timestampMs = ts.timestampMs[i];
    }
    rows[i] = row;
  }
  return rows;
}
