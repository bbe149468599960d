// Message payloads from decoded blocks: exact timestamp strings (built when first read), numbers
// for the rest, and payloads that JSON, Node-RED's cloning and assignment treat as plain objects.
import { strict as assert } from 'node:assert';
import { toArrays, toObjects, timestampsOut } from '../../nodes/lib/payload';
import type { DecodedBlock } from '../../src/scan';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { util } = require('@node-red/util') as { util: { cloneMessage: <T>(m: T) => T } };

/** A block of `ts` timestamps and one channel counting up. */
function block(ts: bigint[]): DecodedBlock {
  return { scans: ts.length, channels: { voltage0: Int16Array.from(ts, (_, i) => i - 2) }, timestamps: BigInt64Array.from(ts) };
}

describe('payloads', () => {
  // Across a second boundary, a zero-padded fraction, an exact value above 2^53, and negative.
  const times = [1700000000999999999n, 1700000001000000000n, 1700000001000000007n, 9007199254740993123n, 5n, -3n];

  it('arrays: every timestamp an exact decimal string, timestampMs the same instant in ms', () => {
    const p = toArrays(block(times));
    assert.deepEqual(p.timestamp, times.map(String));
    assert.deepEqual(p.timestampMs, times.map((t) => Number(t) / 1e6));
    assert.deepEqual(Array.from(p.voltage0 as Int16Array), [-2, -1, 0, 1, 2, 3]);
    assert.deepEqual(Object.keys(p), ['voltage0', 'timestamp', 'timestampMs']);
  });

  it('the strings are built when first read and kept; JSON, cloneMessage and spread see them; assignment replaces them', () => {
    const b = block(times);
    const p = toArrays(b);
    assert.equal(typeof Object.getOwnPropertyDescriptor(p, 'timestamp')!.get, 'function', 'not built before it is read');
    b.timestamps!.fill(0n); // the caller reuses its block: the payload keeps its own instants
    const json = JSON.parse(JSON.stringify(p));
    assert.deepEqual(json.timestamp, times.map(String));
    assert.equal(Object.getOwnPropertyDescriptor(p, 'timestamp')!.value, p.timestamp, 'a plain property once read');
    assert.equal(p.timestamp, p.timestamp, 'built once');

    const q = toArrays(block(times));
    const clone = util.cloneMessage({ payload: q }).payload as Record<string, unknown>;
    assert.deepEqual(clone.timestamp, times.map(String));
    assert.deepEqual({ ...toArrays(block(times)) }.timestamp, times.map(String));

    const r = toArrays(block(times));
    r.timestamp = 'mine';
    assert.equal(r.timestamp, 'mine');
    assert.deepEqual(Object.keys(r), ['voltage0', 'timestamp', 'timestampMs']);
  });

  it('objects: one row per scan with the same exact strings', () => {
    const rows = toObjects(block(times), {});
    assert.deepEqual(rows.map((r) => r.timestamp), times.map(String));
    assert.deepEqual(rows.map((r) => r.voltage0), [-2, -1, 0, 1, 2, 3]);
    assert.deepEqual(timestampsOut(BigInt64Array.from(times), times.length).timestamp, times.map(String));
  });

  it('no timestamp channel: no timestamp properties', () => {
    const p = toArrays({ scans: 2, channels: { v: new Uint16Array([1, 2]) } });
    assert.deepEqual(Object.keys(p), ['v']);
  });
});
