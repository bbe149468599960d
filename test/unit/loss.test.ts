// Counting lost scans from the timestamp channel (pure logic: blocks built by hand).
import { strict as assert } from 'assert';
import { TimestampGaps } from '../../src/buffer';
import { computeLayout, parseScanType } from '../../src/scan';

const layout = computeLayout([
  { name: 'voltage0', index: 0, type: parseScanType('le:s16/16>>0') },
  { name: 'timestamp', index: 1, type: parseScanType('le:s64/64>>0'), isTimestamp: true },
]);

/** A block of `scans` scans whose timestamps start at `t0` ns, `period` ns apart. */
function block(scans: number, t0: number, period: number): Buffer {
  const b = Buffer.alloc(scans * layout.scanBytes);
  for (let i = 0; i < scans; i++) b.writeBigInt64LE(BigInt(t0 + i * period), i * layout.scanBytes + layout.timestampOffset!);
  return b;
}

describe('TimestampGaps: scans lost in a gap, counted from the timestamps', () => {
  it('counts the missing periods of a flagged gap, and nothing for an unflagged one', () => {
    assert.equal(layout.scanBytes, 16);
    const gaps = new TimestampGaps(layout);
    assert.equal(gaps.observe(block(10, 0, 1000), 10, null), undefined);
    // Last scan at 9000; the next block starts at 15000: scans 10..14 (5) are missing.
    assert.equal(gaps.observe(block(10, 15000, 1000), 10, 0), 5);
    // A late trigger without a full buffer is not a loss: not counted.
    assert.equal(gaps.observe(block(10, 40000, 1000), 10, null), undefined);
    // A flagged block right after, without a gap: 0 lost.
    assert.equal(gaps.observe(block(10, 50000, 1000), 10, 0), 0);
    assert.equal(gaps.lost, 5);
  });

  it('counts a gap inside a block, with the period of the scans before it', () => {
    const gaps = new TimestampGaps(layout);
    const b = block(8, 0, 1000);
    // Scans 0..2 at 0, 1000, 2000; then 7 lost; scans at 10000.. (4 more periods after).
    for (let i = 3; i < 8; i++) b.writeBigInt64LE(BigInt(10000 + (i - 3) * 1000), i * layout.scanBytes + layout.timestampOffset!);
    assert.equal(gaps.observe(b, 8, 3), 7);
    assert.equal(gaps.lost, 7);
  });

  it('cannot count without a timestamp channel, or before it knows the period', () => {
    const noTs = new TimestampGaps(computeLayout([{ name: 'voltage0', index: 0, type: parseScanType('le:s16/16>>0') }]));
    assert.equal(noTs.observe(Buffer.alloc(20), 10, 0), undefined);
    const fresh = new TimestampGaps(layout);
    assert.equal(fresh.observe(block(4, 0, 1000), 4, 0), undefined);
    // Equal timestamps in a block (a device stamping whole blocks): no period, no count.
    const flat = new TimestampGaps(layout);
    flat.observe(block(4, 0, 0), 4, null);
    assert.equal(flat.observe(block(4, 9000, 0), 4, 0), undefined);
    assert.equal(flat.lost, 0);
  });
});
