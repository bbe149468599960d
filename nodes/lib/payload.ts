// Turning decoded blocks and events into message payloads that survive the Debug sidebar, JSON
// and Node-RED's message cloning: no raw BigInt anywhere; 64-bit nanosecond timestamps as exact
// decimal strings plus a millisecond number.
import type { DecodedBlock, ScaledBlock, RawArray } from '../../src/scan';

export type OutputShape = 'arrays' | 'objects' | 'raw';

/** ns timestamps → exact decimal strings and millisecond numbers. */
export function timestampsOut(ts: BigInt64Array, scans: number): { timestamp: string[]; timestampMs: number[] } {
  const timestamp = new Array<string>(scans);
  const timestampMs = new Array<number>(scans);
  for (let i = 0; i < scans; i++) {
    timestamp[i] = ts[i].toString();
    timestampMs[i] = Number(ts[i]) / 1e6;
  }
  return { timestamp, timestampMs };
}

/** 64-bit channel values are kept exact as strings; everything else stays a typed array. */
function jsonSafe(values: RawArray | Float64Array): ArrayLike<number> | string[] {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return Array.from(values, (v) => v.toString());
  return values;
}

/** `{channel: TypedArray, …, timestamp: string[], timestampMs: number[]}` */
export function toArrays(block: DecodedBlock | ScaledBlock): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(block.channels)) out[name] = jsonSafe(values);
  if (block.timestamps) Object.assign(out, timestampsOut(block.timestamps, block.scans));
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
