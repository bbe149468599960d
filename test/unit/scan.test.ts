import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { expectCode } from '../lib/expect';
import {
  ScanDecoder, ScanElementSpec, ScanType, computeLayout, encodeScans, encodeScansInto, formatScanType, kernelAlign,
  parseScanType, rawArrayKind,
} from '../../src/scan';
import { EMU_ADC_CHANNELS, emuAdcBlock, emuAdcLayout, emuAdcRaw } from '../lib/emu-pattern';

function el(name: string, index: number, type: string, isTimestamp?: boolean): ScanElementSpec {
  return { name, index, type: parseScanType(type), ...(isTimestamp === undefined ? {} : { isTimestamp }) };
}

describe('scan', () => {
  describe('type grammar', () => {
    const cases: Array<[string, ScanType]> = [
      ['le:u12/16>>4', { endian: 'le', signed: false, realBits: 12, storageBits: 16, repeat: 1, shift: 4 }],
      ['be:s16/16>>0', { endian: 'be', signed: true, realBits: 16, storageBits: 16, repeat: 1, shift: 0 }],
      ['le:s24/32>>8', { endian: 'le', signed: true, realBits: 24, storageBits: 32, repeat: 1, shift: 8 }],
      ['le:u16/16X4>>0', { endian: 'le', signed: false, realBits: 16, storageBits: 16, repeat: 4, shift: 0 }],
      ['le:s64/64>>0', { endian: 'le', signed: true, realBits: 64, storageBits: 64, repeat: 1, shift: 0 }],
      ['be:u8/8>>0', { endian: 'be', signed: false, realBits: 8, storageBits: 8, repeat: 1, shift: 0 }],
      ['le:s18/32X3>>14', { endian: 'le', signed: true, realBits: 18, storageBits: 32, repeat: 3, shift: 14 }],
    ];
    for (const [text, type] of cases) {
      it(`parses and formats ${text}`, () => {
        assert.deepEqual(parseScanType(text), type);
        assert.deepEqual(parseScanType(text + '\n'), type);
        assert.equal(formatScanType(type), text);
      });
    }

    it('accepts X1 but formats repeat 1 without X, as the kernel prints it', () => {
      const t = parseScanType('le:u16/16X1>>0');
      assert.equal(t.repeat, 1);
      assert.equal(formatScanType(t), 'le:u16/16>>0');
    });

    const invalid = [
      '', 'garbage', 'le:u12/16', 'LE:u12/16>>4', 'le:x12/16>>4', 'me:u12/16>>4', 'le:u12/12>>0', 'le:u12/24>>0',
      'le:u17/16>>0', 'le:u0/16>>0', 'le:u12/16>>5', 'le:u16/16X0>>0', 'le:u12/16>>4 ', ' le:u12/16>>4',
      'le:u12/16>>4\n\n', 'le:u12/16>>-1', 'le:u16/16x4>>0', 'le:u12/16>>4\0',
    ];
    for (const text of invalid) {
      it(`rejects ${JSON.stringify(text)} naming the string`, () => {
        expectCode(() => parseScanType(text), 'EINVAL', /invalid scan type/);
        try {
          parseScanType(text);
        } catch (e) {
          assert.ok((e as Error).message.includes(JSON.stringify(text)));
        }
      });
    }

    it('rejects non-strings', () => {
      expectCode(() => parseScanType(undefined as unknown as string), 'EINVAL');
      expectCode(() => parseScanType(16 as unknown as string), 'EINVAL');
    });

    it('chooses array sizes by realBits', () => {
      assert.equal(rawArrayKind(parseScanType('le:u12/16>>4')), 'u16');
      assert.equal(rawArrayKind(parseScanType('le:s8/8>>0')), 'i16');
      assert.equal(rawArrayKind(parseScanType('le:s24/32>>8')), 'i32');
      assert.equal(rawArrayKind(parseScanType('le:u32/64>>0')), 'u32');
      assert.equal(rawArrayKind(parseScanType('le:s40/64>>0')), 'i64');
    });
  });

  describe('layout', () => {
    it('kernel doc example: u16 then 64-bit timestamp → 0 and 8, 16 bytes', () => {
      const layout = computeLayout([el('voltage0', 0, 'le:u16/16>>0'), el('timestamp', 1, 'le:s64/64>>0')]);
      assert.equal(layout.scanBytes, 16);
      assert.deepEqual(layout.elements.map((e) => [e.name, e.offset, e.bytes, e.isTimestamp]), [
        ['voltage0', 0, 2, false], ['timestamp', 8, 8, true],
      ]);
      assert.equal(layout.timestampOffset, 8);
    });

    it('sorts by index, puts the timestamp last and pads to the largest element', () => {
      const layout = computeLayout([
        el('ts', 9, 'le:s64/64>>0', true), el('b', 3, 'le:s24/32>>8'), el('a', 1, 'le:u8/8>>0'), el('c', 4, 'le:u16/16>>0'),
      ]);
      assert.deepEqual(layout.elements.map((e) => [e.name, e.offset]), [['a', 0], ['b', 4], ['c', 8], ['ts', 16]]);
      assert.equal(layout.scanBytes, 24);
      const small = computeLayout([el('a', 0, 'le:u8/8>>0'), el('b', 1, 'le:u16/16>>0'), el('c', 2, 'le:u8/8>>0')]);
      assert.deepEqual(small.elements.map((e) => e.offset), [0, 2, 4]);
      assert.equal(small.scanBytes, 6);
      assert.equal(small.timestampOffset, undefined);
    });

    it('repeat elements are storagebits/8 × repeat bytes, aligned to that size', () => {
      const layout = computeLayout([el('v', 0, 'le:u16/16>>0'), el('q', 1, 'le:s16/16X4>>0')]);
      assert.deepEqual(layout.elements.map((e) => [e.offset, e.bytes]), [[0, 2], [8, 8]]);
      assert.equal(layout.scanBytes, 16);
    });

    it('puts the timestamp in the last 8 bytes when an element is wider than 8 bytes', () => {
      const layout = computeLayout([el('q', 0, 'le:u32/32X4>>0'), el('timestamp', 1, 'le:s64/64>>0')]);
      assert.equal(layout.scanBytes, 32);
      assert.equal(layout.timestampOffset, 24);
      assert.equal(layout.elements[1].offset, 24);
    });

    it('mirrors the kernel mask-based ALIGN for non-power-of-two sizes', () => {
      assert.equal(kernelAlign(1, 6), 2);
      assert.equal(kernelAlign(4, 6), 8);
      assert.equal(kernelAlign(8, 6), 8);
      assert.equal(kernelAlign(13, 8), 16);
      assert.equal(kernelAlign(16, 8), 16);
      const layout = computeLayout([el('a', 0, 'le:u8/8>>0'), el('xyz', 1, 'le:s16/16X3>>0')]);
      assert.deepEqual(layout.elements.map((e) => e.offset), [0, 2]);
      assert.equal(layout.scanBytes, 8);
    });

    it('matches the emulator layout: all channels in 40 bytes', () => {
      const layout = computeLayout(EMU_ADC_CHANNELS.map((c) => el(c.name, c.index, c.type)));
      const emu = emuAdcLayout(EMU_ADC_CHANNELS.map((c) => c.name));
      assert.equal(layout.scanBytes, 40);
      assert.equal(emu.scanBytes, 40);
      for (const e of layout.elements) assert.equal(e.offset, emu.offsets.get(e.name), e.name);
      assert.deepEqual(layout.elements.map((e) => e.offset), [0, 2, 4, 8, 16, 24, 26, 28, 32]);
      assert.deepEqual(layout.elements.map((e) => e.typeString), EMU_ADC_CHANNELS.map((c) => c.type));
    });

    it('rejects duplicate or negative indexes and a non-64-bit timestamp', () => {
      expectCode(() => computeLayout([el('a', 0, 'le:u8/8>>0'), el('b', 0, 'le:u8/8>>0')]), 'EINVAL', /used twice/);
      expectCode(() => computeLayout([el('a', -1, 'le:u8/8>>0')]), 'EINVAL');
      expectCode(() => computeLayout([el('timestamp', 1, 'le:s32/32>>0')]), 'EINVAL', /timestamp/);
    });

    it('an empty selection has no bytes and cannot be decoded', () => {
      assert.equal(computeLayout([]).scanBytes, 0);
      expectCode(() => new ScanDecoder(computeLayout([])), 'EINVAL');
    });
  });

  describe('decoding', () => {
    it('shift discards junk below it, unsigned and signed', () => {
      const layout = computeLayout([el('u', 0, 'le:u12/16>>4'), el('s', 1, 'le:s12/16>>4')]);
      const block = Buffer.alloc(8);
      block.writeUInt16LE((0xabc << 4) | 0xf, 0);
      block.writeUInt16LE((0x800 << 4) | 0x5, 2);
      block.writeUInt16LE((0x001 << 4) | 0xa, 4);
      block.writeUInt16LE((0xfff << 4) | 0x3, 6);
      const d = new ScanDecoder(layout).decode(block);
      assert.equal(d.scans, 2);
      assert.ok(d.channels.u instanceof Uint16Array);
      assert.ok(d.channels.s instanceof Int16Array);
      assert.deepEqual([...d.channels.u], [0xabc, 0x001]);
      assert.deepEqual([...d.channels.s], [-2048, -1]);
    });

    it('big-endian and little-endian 16-bit', () => {
      const layout = computeLayout([el('be', 0, 'be:s16/16>>0'), el('le', 1, 'le:s16/16>>0')]);
      const block = Buffer.from([0xff, 0xfe, 0xff, 0xfe, 0x12, 0x34, 0x12, 0x34]);
      const d = new ScanDecoder(layout).decode(block);
      assert.deepEqual([...d.channels.be], [-2, 0x1234]);
      assert.deepEqual([...d.channels.le], [-257, 0x3412]);
    });

    it('signed 24 in 32 with shift 8', () => {
      const layout = computeLayout([el('v', 0, 'le:s24/32>>8')]);
      const block = Buffer.alloc(12);
      block.writeUInt32LE(((0x800000 << 8) | 0x7f) >>> 0, 0);
      block.writeUInt32LE(((0x7fffff << 8) | 0xff) >>> 0, 4);
      block.writeUInt32LE(((0xfffffe << 8) | 0x01) >>> 0, 8);
      const d = new ScanDecoder(layout).decode(block);
      assert.ok(d.channels.v instanceof Int32Array);
      assert.deepEqual([...d.channels.v], [-8388608, 8388607, -2]);
    });

    it('32-bit unsigned full range and big-endian 24-bit', () => {
      const layout = computeLayout([el('u', 0, 'le:u32/32>>0'), el('b', 1, 'be:u24/32>>0')]);
      const block = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xaa, 0x12, 0x34, 0x56]);
      const d = new ScanDecoder(layout).decode(block);
      assert.ok(d.channels.u instanceof Uint32Array);
      assert.deepEqual([...d.channels.u], [0xffffffff]);
      assert.deepEqual([...d.channels.b], [0x123456]);
    });

    it('8-bit storage', () => {
      const layout = computeLayout([el('a', 0, 'le:s8/8>>0'), el('b', 1, 'le:u6/8>>2')]);
      const d = new ScanDecoder(layout).decode(Buffer.from([0x80, 0xff, 0x7f, 0x07]));
      assert.deepEqual([...d.channels.a], [-128, 127]);
      assert.deepEqual([...d.channels.b], [63, 1]);
    });

    it('64-bit values, full and partial, with shift, into BigInt arrays', () => {
      const layout = computeLayout([
        el('s', 0, 'le:s64/64>>0'), el('u', 1, 'be:u64/64>>0'), el('p', 2, 'le:s40/64>>8'), el('q', 3, 'be:u48/64>>12'),
      ]);
      const block = Buffer.alloc(64);
      const rows: Array<[bigint, bigint, bigint, bigint]> = [
        [-1234567890123456789n, 0xfedcba9876543210n, -549755813888n, 0xffffffffffffn],
        [9223372036854775807n, 1n, 549755813887n, 0x800000000001n],
      ];
      rows.forEach(([s, u, p, q], i) => {
        block.writeBigInt64LE(s, i * 32);
        block.writeBigUInt64BE(u, i * 32 + 8);
        block.writeBigUInt64LE((BigInt.asUintN(40, p) << 8n) | 0xabn, i * 32 + 16);
        block.writeBigUInt64BE((q << 12n) | 0xfffn, i * 32 + 24);
      });
      const d = new ScanDecoder(layout).decode(block);
      assert.ok(d.channels.s instanceof BigInt64Array);
      assert.ok(d.channels.u instanceof BigUint64Array);
      assert.deepEqual([...d.channels.s], [rows[0][0], rows[1][0]]);
      assert.deepEqual([...d.channels.u], [rows[0][1], rows[1][1]]);
      assert.deepEqual([...d.channels.p], [rows[0][2], rows[1][2]]);
      assert.deepEqual([...d.channels.q], [rows[0][3], rows[1][3]]);
    });

    it('at most 32 bits in 64-bit storage go to 32-bit arrays, also with a shift beyond 32', () => {
      const layout = computeLayout([el('a', 0, 'le:s32/64>>16'), el('b', 1, 'be:u20/64>>40')]);
      const block = Buffer.alloc(16);
      block.writeBigUInt64LE((BigInt.asUintN(32, -5n) << 16n) | 0xffffn, 0);
      block.writeBigUInt64BE((0xabcden << 40n) | 0xffffffffffn, 8);
      const d = new ScanDecoder(layout).decode(block);
      assert.ok(d.channels.a instanceof Int32Array);
      assert.ok(d.channels.b instanceof Uint32Array);
      assert.deepEqual([...d.channels.a], [-5]);
      assert.deepEqual([...d.channels.b], [0xabcde]);
    });

    it('repeat: scans × repeat values, interleaved per scan', () => {
      const layout = computeLayout([el('q', 0, 'le:s16/16X4>>0'), el('t', 1, 'le:s64/64>>0')]);
      assert.equal(layout.scanBytes, 16);
      const block = Buffer.alloc(32);
      for (let s = 0; s < 2; s++) {
        for (let r = 0; r < 4; r++) block.writeInt16LE(s * 10 + r - 5, s * 16 + r * 2);
        block.writeBigInt64LE(BigInt(1000 + s), s * 16 + 8);
      }
      const d = new ScanDecoder(layout).decode(block);
      assert.deepEqual([...d.channels.q], [-5, -4, -3, -2, 5, 6, 7, 8]);
      assert.deepEqual([...d.channels.t], [1000n, 1001n]);
      assert.equal(d.timestamps, undefined);
    });

    it('puts the timestamp element in timestamps, not channels', () => {
      const layout = computeLayout([el('voltage0', 0, 'le:u16/16>>0'), el('timestamp', 1, 'le:s64/64>>0')]);
      const block = Buffer.alloc(32);
      block.writeUInt16LE(7, 0);
      block.writeBigInt64LE(1_700_000_000_000_000_000n, 8);
      block.writeUInt16LE(8, 16);
      block.writeBigInt64LE(-3n, 24);
      const dec = new ScanDecoder(layout);
      const d = dec.decode(block);
      assert.deepEqual(Object.keys(d.channels), ['voltage0']);
      assert.deepEqual([...d.timestamps!], [1_700_000_000_000_000_000n, -3n]);
      assert.deepEqual([...dec.decodeTimestamps(block)], [1_700_000_000_000_000_000n, -3n]);
    });

    it('ignores a partial trailing scan and clamps the scan count', () => {
      const layout = computeLayout([el('v', 0, 'le:u16/16>>0'), el('w', 1, 'le:u16/16>>0')]);
      const dec = new ScanDecoder(layout);
      const block = Buffer.from([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]);
      const d = dec.decode(block);
      assert.equal(d.scans, 2);
      assert.deepEqual([...d.channels.v], [1, 3]);
      assert.equal(dec.decode(block, 1).scans, 1);
      assert.equal(dec.decode(block, 99).scans, 2);
      assert.equal(dec.decode(block.subarray(0, 3)).scans, 0);
      expectCode(() => dec.decode(block, -1), 'EINVAL');
    });

    it('decodes from a subarray at a non-zero byte offset', () => {
      const layout = computeLayout([el('v', 0, 'be:s16/16>>0')]);
      const backing = Buffer.from([0xaa, 0xff, 0xfe, 0x00, 0x05]);
      const d = new ScanDecoder(layout).decode(backing.subarray(1));
      assert.deepEqual([...d.channels.v], [-2, 5]);
    });

    it('fills a reused output block and rejects one of the wrong shape', () => {
      const layout = computeLayout([el('v', 0, 'le:s16/16>>0'), el('timestamp', 1, 'le:s64/64>>0')]);
      const dec = new ScanDecoder(layout);
      const out = dec.allocate(4);
      const block = Buffer.alloc(32);
      block.writeInt16LE(-9, 0);
      block.writeInt16LE(9, 16);
      const d = dec.decode(block, undefined, out);
      assert.equal(d, out);
      assert.equal(d.scans, 2);
      assert.equal(d.channels.v.length, 4);
      assert.deepEqual([...d.channels.v.subarray(0, 2)], [-9, 9]);
      expectCode(() => dec.decode(block, undefined, dec.allocate(1)), 'EINVAL', /at least 2/);
      expectCode(() => dec.decode(block, undefined, { scans: 0, channels: { v: new Int32Array(8) }, timestamps: new BigInt64Array(8) }), 'EINVAL', /Int16Array/);
    });

    it('scaled output: (raw + offset) × scale', () => {
      const layout = computeLayout([el('v', 0, 'le:u12/16>>4'), el('t', 1, 'le:s16/16>>0'), el('w', 2, 'le:s40/64>>0')]);
      const dec = new ScanDecoder(layout, { scales: { v: { scale: 0.805664 }, t: { scale: 62.5, offset: -100 } } });
      const block = Buffer.alloc(16);
      block.writeUInt16LE((4095 << 4) | 3, 0);
      block.writeInt16LE(-20, 2);
      block.writeBigInt64LE(-(2n ** 39n), 8);
      const d = dec.decodeScaled(block);
      assert.ok(d.channels.v instanceof Float64Array);
      assert.equal(d.channels.v[0], 4095 * 0.805664);
      assert.equal(d.channels.t[0], (-20 - 100) * 62.5);
      assert.equal(d.channels.w[0], -(2 ** 39));
      const reused = dec.allocateScaled(2);
      assert.equal(dec.decodeScaled(block, undefined, reused), reused);
      assert.equal(reused.scans, 1);
    });
  });

  describe('encoding', () => {
    const types = ['le:u12/16>>4', 'be:s16/16>>0', 'le:s24/32>>8', 'le:u16/16X4>>0', 'le:s8/8>>0', 'be:s40/64>>8', 'le:u64/64>>0', 'le:s32/64>>3'];
    const layout = computeLayout([...types.map((t, i) => el(`c${i}`, i, t)), el('timestamp', types.length, 'le:s64/64>>0')]);

    function rangeOf(t: ScanType): [bigint, bigint] {
      return t.signed ? [-(1n << BigInt(t.realBits - 1)), (1n << BigInt(t.realBits - 1)) - 1n] : [0n, (1n << BigInt(t.realBits)) - 1n];
    }

    it('round-trips extremes and pseudo-random values through decode', () => {
      const scans = 50;
      const values: Record<string, Array<number | bigint>> = {};
      let seed = 12345;
      const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
      for (const e of layout.elements) {
        if (e.isTimestamp) continue;
        const [min, max] = rangeOf(e.type);
        const wide = e.type.realBits > 32;
        const list: Array<number | bigint> = [];
        for (let i = 0; i < scans * e.type.repeat; i++) {
          const v = i === 0 ? min : i === 1 ? max : i === 2 ? 0n : min + ((BigInt(next()) << 33n) ^ BigInt(next())) % (max - min + 1n);
          list.push(wide ? v : Number(v));
        }
        values[e.name] = list;
      }
      const block = encodeScans(layout, values, scans);
      assert.equal(block.length, scans * layout.scanBytes);
      const d = new ScanDecoder(layout).decode(block);
      assert.equal(d.scans, scans);
      for (const [name, list] of Object.entries(values)) {
        assert.deepEqual([...d.channels[name]].map(String), list.map(String), name);
      }
      assert.deepEqual([...d.timestamps!], new Array(scans).fill(0n));
    });

    it('the typed-array gathers agree with the DataView path, and a block at an odd offset (copied for them) decodes the same, raw and scaled, in both byte orders', () => {
      const kinds = ['le:u12/16>>4', 'be:u12/16>>4', 'le:s12/16>>0', 'be:s16/16>>0', 'le:u16/16X3>>0', 'be:s24/32>>8', 'le:u32/32>>0', 'be:u32/32>>0', 'be:s32/32>>0', 'le:s8/8>>0', 'le:u6/8>>2', 'le:s12/32>>4', 'le:u64/64>>0', 'be:s64/64>>0'];
      const l = computeLayout([...kinds.map((t, i) => el(`k${i}`, i, t)), el('timestamp', kinds.length, 'le:s64/64>>0')]);
      const scans = 64;
      const aligned = Buffer.alloc(scans * l.scanBytes);
      let seed = 99;
      for (let i = 0; i < aligned.length; i++) aligned[i] = (seed = (seed * 1103515245 + 12345) % 2147483648) >>> 16;
      aligned.fill(0xff, 0, l.scanBytes); // all ones: the extremes of every type
      const odd = new Uint8Array(new ArrayBuffer(aligned.length + 1), 1);
      odd.set(aligned);
      const scales = Object.fromEntries(kinds.map((_, i) => [`k${i}`, { scale: 0.25 + i, offset: i - 3 }]));
      const dec = new ScanDecoder(l, { scales });
      const general = new ScanDecoder(l, { scales });
      (general as unknown as { loops: unknown[] }).loops = [null, null]; // no scan loop: the DataView path
      const fast = dec.decode(aligned);
      const slow = general.decode(odd);
      const fastScaled = dec.decodeScaled(aligned);
      const slowScaled = general.decodeScaled(odd);
      const oddFast = dec.decode(odd);
      for (const [i, t] of kinds.entries()) {
        const name = `k${i}`;
        assert.deepEqual([...oddFast.channels[name]], [...fast.channels[name]], `${name} ${t} at an odd offset`);
        assert.equal(fast.channels[name].constructor, slow.channels[name].constructor, name);
        assert.deepEqual([...fast.channels[name]], [...slow.channels[name]], `${name} ${t}`);
        assert.deepEqual([...fastScaled.channels[name]], [...slowScaled.channels[name]], `${name} ${t} scaled`);
        const { scale, offset } = scales[name];
        if (!/64\//.test(t)) assert.deepEqual([...fastScaled.channels[name]], [...fast.channels[name]].map((v) => (Number(v) + offset) * scale), `${name} ${t} scaled = (raw + offset) × scale`);
      }
      // The first scan is all ones: each type's own extreme.
      assert.deepEqual(kinds.map((_, i) => fast.channels[`k${i}`][0]), [4095, 4095, -1, -1, 65535, -1, 4294967295, 4294967295, -1, -1, 63, -1, 18446744073709551615n, -1n]);
    });

    it('where code generation is disallowed (node --disallow-code-generation-from-strings) the general path decodes the same values', () => {
      const script = `const { computeLayout, parseScanType, ScanDecoder } = require(${JSON.stringify(require.resolve('../../src/scan'))});
        const l = computeLayout([['a', 'le:u12/16>>4'], ['b', 'be:s16/16>>0'], ['c', 'le:s24/32>>8']].map(([name, t], index) => ({ name, index, type: parseScanType(t) })));
        const d = new ScanDecoder(l).decode(Buffer.from('f0ff0180fffffffff0ff0180ffffff7f', 'hex'));
        process.stdout.write(JSON.stringify(Object.values(d.channels).map((a) => Array.from(a))));`;
      const run = (flags: string[]) => JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
      assert.deepEqual(run(['--disallow-code-generation-from-strings']), run([]));
      assert.deepEqual(run([]), [[4095, 4095], [384, 384], [-1, 8388607]]);
    });

    it('writes shifted values and leaves the bits below the shift zero', () => {
      const l = computeLayout([el('v', 0, 'le:u12/16>>4'), el('b', 1, 'be:s16/16>>0')]);
      const block = encodeScans(l, { v: [0xabc], b: [-2] }, 1);
      assert.deepEqual([...block], [0xc0, 0xab, 0xff, 0xfe]);
    });

    it('accepts numbers for 64-bit channels and bigints for narrow ones', () => {
      const l = computeLayout([el('a', 0, 'le:s64/64>>0'), el('b', 1, 'le:s16/16>>0')]);
      const block = encodeScans(l, { a: [-5], b: [7n] }, 1);
      assert.equal(block.readBigInt64LE(0), -5n);
      assert.equal(block.readInt16LE(8), 7);
    });

    it('range-checks values naming the channel', () => {
      const l = computeLayout([el('voltage0', 0, 'le:u12/16>>4'), el('accel_x', 1, 'le:s16/16>>0')]);
      expectCode(() => encodeScans(l, { voltage0: [4096], accel_x: [0] }, 1), 'ERANGE', /voltage0/);
      expectCode(() => encodeScans(l, { voltage0: [-1], accel_x: [0] }, 1), 'ERANGE', /voltage0/);
      expectCode(() => encodeScans(l, { voltage0: [0], accel_x: [32768] }, 1), 'ERANGE', /accel_x/);
      expectCode(() => encodeScans(l, { voltage0: [0], accel_x: [-32769n] }, 1), 'ERANGE', /accel_x/);
      expectCode(() => encodeScans(l, { voltage0: [1.5], accel_x: [0] }, 1), 'EINVAL', /voltage0/);
      expectCode(() => encodeScans(l, { voltage0: [NaN], accel_x: [0] }, 1), 'EINVAL', /voltage0/);
      const wide = computeLayout([el('w', 0, 'le:s64/64>>0')]);
      expectCode(() => encodeScans(wide, { w: [2 ** 60] }, 1), 'EINVAL', /bigint/);
      expectCode(() => encodeScans(wide, { w: [2n ** 63n] }, 1), 'ERANGE', /w/);
    });

    it('rejects missing channels and too few values', () => {
      const l = computeLayout([el('voltage0', 0, 'le:u16/16>>0'), el('q', 1, 'le:u16/16X2>>0')]);
      expectCode(() => encodeScans(l, { q: [1, 2] }, 1), 'EINVAL', /no values for channel voltage0/);
      expectCode(() => encodeScans(l, { voltage0: [1, 2], q: [1, 2, 3] }, 2), 'EINVAL', /q has 3 values, 4 needed/);
      expectCode(() => encodeScans(l, { voltage0: [1], q: [1, 2] }, 1.5), 'EINVAL');
    });

    it('encodes into a reused buffer at an offset', () => {
      const l = computeLayout([el('v', 0, 'le:u16/16>>0')]);
      const buf = Buffer.alloc(8, 0xee);
      assert.equal(encodeScansInto(buf, l, { v: [1, 2, 3] }, 3, 2), 6);
      assert.deepEqual([...buf], [0xee, 0xee, 1, 0, 2, 0, 3, 0]);
      expectCode(() => encodeScansInto(buf, l, { v: [1, 2, 3, 4] }, 4, 2), 'EINVAL', /cannot hold/);
    });
  });

  describe('emulator pattern (what the VM tests rely on)', () => {
    it('emuAdcRaw follows the formula and wraps signed values', () => {
      assert.equal(emuAdcRaw(0, 0, 12, false), 0);
      assert.equal(emuAdcRaw(1, 0, 16, true), 961);
      assert.equal(emuAdcRaw(0, 1, 12, false), 17);
      assert.equal(emuAdcRaw(3, 200, 24, true), (3 * 961 + 200 * 65537) % 2 ** 24 - 2 ** 24);
      assert.equal(emuAdcRaw(8, 40, 16, true), 8 * 961 + 40 * 257);
      assert.equal(emuAdcRaw(10, 100, 16, true), 10 * 961 + 100 * 257 - 65536);
      assert.equal(emuAdcRaw(2, 1e9, 16, false), (2 * 961 + 1e9 * 257) % 65536);
    });

    function checkBlock(names: string[], first: number, scans: number): void {
      const specs = EMU_ADC_CHANNELS.filter((c) => names.includes(c.name)).map((c) => el(c.name, c.index, c.type));
      const layout = computeLayout(specs);
      const block = emuAdcBlock(names, first, scans);
      assert.equal(block.length, layout.scanBytes * scans);
      const d = new ScanDecoder(layout).decode(block);
      assert.equal(d.scans, scans);
      for (const c of EMU_ADC_CHANNELS) {
        if (!names.includes(c.name) || c.name === 'timestamp') continue;
        const got = d.channels[c.name];
        for (let s = 0; s < scans; s++) {
          for (let r = 0; r < c.repeat; r++) {
            const want = emuAdcRaw(c.slot + r, first + s, c.bits, c.signed);
            assert.equal(Number(got[s * c.repeat + r]), want, `${c.name}[${r}] scan ${first + s}`);
          }
        }
      }
      if (names.includes('timestamp')) assert.deepEqual([...d.timestamps!], new Array(scans).fill(0n));
    }

    it('decodes every value of 3000 scans of all channels exactly', () => {
      checkBlock(EMU_ADC_CHANNELS.map((c) => c.name), 0, 3000);
    });

    it('decodes subsets of channels from later scan numbers exactly', () => {
      checkBlock(['voltage3', 'accel_y', 'timestamp'], 65530, 100);
      checkBlock(['voltage0', 'voltage2', 'voltage4'], 123456, 300);
      checkBlock(['voltage2'], 7, 10);
    });
  });
});
