/**
 * Scan elements: the `_type` grammar, the layout of one scan in a buffer
 * (as the kernel's iio_compute_scan_bytes sees it), and decoding/encoding of
 * whole blocks of scans without per-sample allocation.
 */
import { IioError, invalid } from './errors';
import { NATIVE_LE } from './uapi';

// ---------------------------------------------------------------------------
// Type grammar

/** A scan element's format: `[be|le]:[s|u]bits/storagebits[Xrepeat]>>shift`. */
export interface ScanType {
  endian: 'le' | 'be';
  signed: boolean;
  /** Significant bits of one value. */
  realBits: number;
  /** Bits one value occupies in the buffer: 8, 16, 32 or 64. */
  storageBits: number;
  /** Values per element (e.g. a quaternion has 4); 1 for most channels. */
  repeat: number;
  /** Right shift that aligns the value's lowest bit. */
  shift: number;
}

// The kernel prints "%s:%c%d/%dX%d>>%u" (X part only when repeat > 1).
const SCAN_TYPE_PATTERN = /^(be|le):([su])(\d{1,2})\/(\d{1,2})(?:X(\d{1,3}))?>>(\d{1,2})\n?$/;
const STORAGE_BITS = new Set([8, 16, 32, 64]);
/** struct iio_scan_type.repeat is a u8. */
const MAX_REPEAT = 255;

/** Parses a scan element `_type` string; throws IioError EINVAL naming the string. */
export function parseScanType(text: string): ScanType {
  const m = typeof text === 'string' ? SCAN_TYPE_PATTERN.exec(text) : null;
  if (!m) throw invalid(`invalid scan type ${JSON.stringify(text)}: expected [be|le]:[s|u]bits/storagebits[Xrepeat]>>shift`);
  const type: ScanType = {
    endian: m[1] as 'le' | 'be',
    signed: m[2] === 's',
    realBits: Number(m[3]),
    storageBits: Number(m[4]),
    repeat: m[5] === undefined ? 1 : Number(m[5]),
    shift: Number(m[6]),
  };
  checkScanType(type, JSON.stringify(text));
  return type;
}

/** Throws IioError EINVAL when a ScanType cannot describe real kernel data. */
export function checkScanType(t: ScanType, what = formatScanTypeUnchecked(t)): void {
  const fail = (why: string) => invalid(`invalid scan type ${what}: ${why}`);
  if (t.endian !== 'le' && t.endian !== 'be') throw fail('endian must be le or be');
  if (!STORAGE_BITS.has(t.storageBits)) throw fail('storagebits must be 8, 16, 32 or 64');
  if (!Number.isInteger(t.realBits) || t.realBits < 1 || t.realBits > t.storageBits) throw fail('bits must be 1..storagebits');
  if (!Number.isInteger(t.shift) || t.shift < 0 || t.realBits + t.shift > t.storageBits) throw fail('bits + shift exceed storagebits');
  if (!Number.isInteger(t.repeat) || t.repeat < 1 || t.repeat > MAX_REPEAT) throw fail(`repeat must be 1..${MAX_REPEAT}`);
}

function formatScanTypeUnchecked(t: ScanType): string {
  const repeat = t.repeat > 1 ? `X${t.repeat}` : '';
  return `${t.endian}:${t.signed ? 's' : 'u'}${t.realBits}/${t.storageBits}${repeat}>>${t.shift}`;
}

/** Formats a ScanType exactly as the kernel prints it (without the newline). */
export function formatScanType(t: ScanType): string {
  checkScanType(t);
  return formatScanTypeUnchecked(t);
}

/** Bytes one element occupies: storagebits/8 × repeat (iio_storage_bytes_for_si). */
export function elementBytes(t: ScanType): number {
  return (t.storageBits / 8) * t.repeat;
}

// ---------------------------------------------------------------------------
// Layout

/** An enabled scan element, as discovery reports it. */
export interface ScanElementSpec {
  /** Channel name used as key in decoded blocks, e.g. 'in_voltage0'. */
  name: string;
  /** The element's `_index`. */
  index: number;
  type: ScanType;
  /** The s64 timestamp element; defaults to name 'timestamp' or 'in_timestamp'. */
  isTimestamp?: boolean;
}

/** One element's place in a scan. */
export interface ScanElementLayout {
  name: string;
  index: number;
  type: ScanType;
  /** The type as the kernel prints it, e.g. `le:s24/32>>8`. */
  typeString: string;
  /** Byte offset inside the scan. */
  offset: number;
  /** storagebits/8 × repeat. */
  bytes: number;
  isTimestamp: boolean;
}

/** Where every enabled element sits in one scan. */
export interface ScanLayout {
  /** Bytes per scan, padding included. */
  scanBytes: number;
  /** Elements in buffer order (ascending index, timestamp last). */
  elements: readonly ScanElementLayout[];
  /** Offset of the timestamp element, when enabled. */
  timestampOffset?: number;
}

/**
 * The kernel's ALIGN: `(x + a - 1) & ~(a - 1)`. Exact for power-of-two `a`;
 * for other sizes (repeat 3 × 2 bytes = 6) it is what the kernel computes,
 * not a multiple of `a`, and we mirror it so offsets agree with the kernel.
 */
export function kernelAlign(x: number, a: number): number {
  if (a <= 0) return x;
  return (x + a - 1) & ~(a - 1);
}

function isTimestampSpec(e: ScanElementSpec): boolean {
  return e.isTimestamp ?? (e.name === 'timestamp' || e.name === 'in_timestamp');
}

/**
 * Lays out enabled elements as iio_compute_scan_bytes does: in ascending index
 * (the timestamp last), each aligned to its own size, the scan padded to a
 * multiple of its largest element. The timestamp sits in the last 8 bytes,
 * where the kernel's push helper writes it.
 */
export function computeLayout(enabled: readonly ScanElementSpec[]): ScanLayout {
  const seen = new Set<number>();
  for (const e of enabled) {
    if (!Number.isInteger(e.index) || e.index < 0) throw invalid(`scan element ${e.name}: invalid index ${String(e.index)}`);
    if (seen.has(e.index)) throw invalid(`scan element ${e.name}: index ${e.index} used twice`);
    seen.add(e.index);
    checkScanType(e.type, `${formatScanTypeUnchecked(e.type)} of ${e.name}`);
  }
  const ordered = [...enabled].sort((a, b) => Number(isTimestampSpec(a)) - Number(isTimestampSpec(b)) || a.index - b.index);
  const elements: ScanElementLayout[] = [];
  let bytes = 0;
  let largest = 0;
  let timestampOffset: number | undefined;
  for (const e of ordered) {
    const length = elementBytes(e.type);
    largest = Math.max(largest, length);
    const offset = kernelAlign(bytes, length);
    bytes = offset + length;
    const isTimestamp = isTimestampSpec(e);
    if (isTimestamp) timestampOffset = offset;
    if (isTimestamp && (e.type.storageBits !== 64 || e.type.repeat !== 1)) {
      throw invalid(`timestamp element ${e.name} must be 64-bit without repeat, got ${formatScanTypeUnchecked(e.type)}`);
    }
    elements.push({ name: e.name, index: e.index, type: { ...e.type }, typeString: formatScanTypeUnchecked(e.type), offset, bytes: length, isTimestamp });
  }
  const scanBytes = kernelAlign(bytes, largest);
  if (timestampOffset !== undefined) {
    // iio_push_to_buffers_with_timestamp() stores the timestamp in the scan's last 8 bytes.
    // That is its aligned offset unless an element is wider than 8 bytes (e.g. u32X4).
    timestampOffset = scanBytes - 8;
    elements[elements.length - 1].offset = timestampOffset;
  }
  const layout: ScanLayout = { scanBytes, elements };
  if (timestampOffset !== undefined) layout.timestampOffset = timestampOffset;
  return layout;
}

// ---------------------------------------------------------------------------
// Decoding

/** Typed array holding one channel's raw values. */
export type RawArray = Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** Raw values of a block. For repeat > 1 a channel holds scans × repeat values, scan by scan. */
export interface DecodedBlock {
  /** Whole scans decoded; arrays reused through `out` may be longer. */
  scans: number;
  channels: Record<string, RawArray>;
  /** The timestamp element (ns), when enabled. */
  timestamps?: BigInt64Array;
}

/** Scaled values, (raw + offset) × scale per channel. */
export interface ScaledBlock {
  scans: number;
  channels: Record<string, Float64Array>;
  timestamps?: BigInt64Array;
}

/** A channel's sysfs `_scale` and `_offset`. */
export interface ChannelScale {
  scale: number;
  offset?: number;
}

/** ScanDecoder options. */
export interface ScanDecoderOptions {
  /** Per channel name; channels without an entry scale by 1 with offset 0. */
  scales?: Record<string, ChannelScale>;
}

type ArrayKind = 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64';

// Everything the inner loops need, precomputed per element.
interface ElementPlan {
  readonly name: string;
  readonly offset: number;
  /** Bytes of one value: 1, 2, 4 or 8. */
  readonly width: number;
  readonly repeat: number;
  readonly littleEndian: boolean;
  readonly shift: number;
  readonly realBits: number;
  readonly signed: boolean;
  readonly kind: ArrayKind;
  readonly isTimestamp: boolean;
  readonly scale: number;
  readonly scaleOffset: number;
}

/** Array kind for a type: ≤16 bits → 16-bit arrays, ≤32 → 32-bit, else 64-bit BigInt arrays. */
export function rawArrayKind(t: ScanType): ArrayKind {
  const size = t.realBits <= 16 ? 16 : t.realBits <= 32 ? 32 : 64;
  return `${t.signed ? 'i' : 'u'}${size}` as ArrayKind;
}

function newRawArray(kind: ArrayKind, length: number): RawArray {
  switch (kind) {
    case 'i16': return new Int16Array(length);
    case 'u16': return new Uint16Array(length);
    case 'i32': return new Int32Array(length);
    case 'u32': return new Uint32Array(length);
    case 'i64': return new BigInt64Array(length);
    case 'u64': return new BigUint64Array(length);
  }
}

const RAW_ARRAY_CLASS = {
  i16: Int16Array, u16: Uint16Array, i32: Int32Array, u32: Uint32Array, i64: BigInt64Array, u64: BigUint64Array,
} as const;

// Keeps the low `bits` of v (after the shift), sign-extended when signed.
function extract32(v: number, bits: number, signed: boolean): number {
  const unused = 32 - bits;
  return signed ? (v << unused) >> unused : (v << unused) >>> unused;
}

function readNarrow(view: DataView, at: number, width: number, le: boolean): number {
  return width === 1 ? view.getUint8(at) : width === 2 ? view.getUint16(at, le) : view.getUint32(at, le);
}

const TWO_POW_32 = 4294967296;

/**
 * One pass over a block's scans that reads every element a typed-array view of the block can
 * read (≤ 32-bit words at aligned offsets, either byte order; 64-bit words in the host's order):
 * JavaScript generated for one layout, with the offsets, shifts and widths as constants and no
 * branch per value. Per value it runs a fraction of the instructions of a general loop, which
 * counts most where instructions are dear (QEMU emulation, small ARM cores).
 */
interface ScanLoop {
  run: (views: BlockViews, scans: number, outs: ArrayLike<number>[], k: Float64Array) => void;
  /** Per plan: whether the loop decodes it (else the general path does). */
  covers: readonly boolean[];
  /** Byte alignment the block must have (the widest view the loop reads). */
  align: number;
  /** Per plan: scale and offset, for the scaled loop (k[2i], k[2i + 1]). */
  k: Float64Array;
  /** The views of the block it reads. */
  views: ViewName[];
}

/** The block seen as arrays of its storage words; only the ones a loop reads are made. */
interface BlockViews {
  u8?: Uint8Array;
  s8?: Int8Array;
  u16?: Uint16Array;
  s16?: Int16Array;
  u32?: Uint32Array;
  s32?: Int32Array;
}

const VIEW_TYPES = { u8: Uint8Array, s8: Int8Array, u16: Uint16Array, s16: Int16Array, u32: Uint32Array, s32: Int32Array } as const;
type ViewName = keyof typeof VIEW_TYPES;

/** Whether the scan loop can decode `p`, and how it reads one of its words (JavaScript source). */
function wordReader(p: ElementPlan, scanBytes: number, scaled: boolean): ((word: number, used: Set<ViewName>) => string) | null {
  const { width, offset, shift, realBits, signed, repeat } = p;
  const ints = [width, offset, shift, realBits, repeat, scanBytes];
  if (!ints.every((n) => Number.isInteger(n) && n >= 0) || repeat < 1 || offset % width !== 0 || scanBytes % width !== 0) return null;
  const counter = `a${width}`;
  if (width === 8) {
    // Whole 64-bit words in host order, copied as two 32-bit halves (timestamps; raw 64-bit channels).
    if (p.littleEndian !== NATIVE_LE || shift !== 0 || realBits !== 64 || (scaled && !p.isTimestamp)) return null;
    return (half, used) => (used.add('u32'), `u32[a4 + ${offset / 4 + half}]`);
  }
  if (width !== 1 && width !== 2 && width !== 4) return null;
  const bits = width * 8;
  const swap = width > 1 && p.littleEndian !== NATIVE_LE;
  const unused = 32 - Math.min(realBits, 32);
  return (word, used) => {
    const at = `${counter} + ${offset / width + word}`;
    if (!swap && shift === 0 && realBits === bits) {
      const view: ViewName = `${signed ? 's' : 'u'}${bits}` as ViewName;
      used.add(view);
      return `${view}[${at}]`;
    }
    const view: ViewName = `u${bits}` as ViewName;
    used.add(view);
    let x = `${view}[${at}]`;
    if (swap && width === 2) x = `((${x} & 255) << 8 | ${x} >>> 8)`;
    if (swap && width === 4) x = `((${x} & 255) << 24 | (${x} & 65280) << 8 | (${x} >>> 8) & 65280 | ${x} >>> 24)`;
    return `((${x} >>> ${shift}) << ${unused}) ${signed ? '>>' : '>>>'} ${unused}`;
  };
}

/** Builds the scan loop for `plans` (null when it would decode none of them). */
function compileScanLoop(plans: readonly ElementPlan[], scanBytes: number, scaled: boolean): ScanLoop | null {
  const used = new Set<ViewName>();
  const covers: boolean[] = [];
  const lines: string[] = [];
  let align = 1;
  plans.forEach((p, i) => {
    const read = wordReader(p, scanBytes, scaled);
    covers.push(read !== null);
    if (!read) return;
    align = Math.max(align, Math.min(p.width, 4));
    for (let r = 0; r < p.repeat; r++) {
      const at = p.repeat === 1 ? 's' : `s * ${p.repeat} + ${r}`;
      if (p.width === 8) {
        lines.push(`o${i}[2 * (${at})] = ${read(2 * r, used)};`, `o${i}[2 * (${at}) + 1] = ${read(2 * r + 1, used)};`);
      } else {
        const value = read(r, used);
        lines.push(scaled ? `o${i}[${at}] = ((${value}) + k[${2 * i + 1}]) * k[${2 * i}];` : `o${i}[${at}] = ${value};`);
      }
    }
  });
  if (!covers.some(Boolean)) return null;
  const widths = [1, 2, 4].filter((w) => [...used].some((v) => VIEW_TYPES[v].BYTES_PER_ELEMENT === w));
  const body = [
    '"use strict";',
    ...[...used].map((v) => `const ${v} = views.${v};`),
    ...plans.map((_, i) => (covers[i] ? `const o${i} = outs[${i}];` : '')).filter(Boolean),
    `for (let s = 0${widths.map((w) => `, a${w} = 0`).join('')}; s < n; s++${widths.map((w) => `, a${w} += ${scanBytes / w}`).join('')}) {`,
    ...lines.map((l) => `  ${l}`),
    '}',
  ].join('\n');
  const k = new Float64Array(2 * plans.length);
  plans.forEach((p, i) => {
    k[2 * i] = p.scale;
    k[2 * i + 1] = p.scaleOffset;
  });
  // The source holds only integers computed above and fixed names: nothing from outside.
  let run: ScanLoop['run'];
  try {
    run = new Function('views', 'n', 'outs', 'k', body) as ScanLoop['run'];
  } catch {
    return null; // code generation disallowed (--disallow-code-generation-from-strings): the general path
  }
  return { run, covers, align, k, views: [...used] };
}

/** The views of `block` a loop reads. */
function blockViews(block: Uint8Array, names: Iterable<ViewName>): BlockViews {
  const views: BlockViews = {};
  for (const name of names) {
    const Type = VIEW_TYPES[name];
    (views as Record<string, unknown>)[name] = new Type(block.buffer as ArrayBuffer, block.byteOffset, Math.floor(block.byteLength / Type.BYTES_PER_ELEMENT));
  }
  return views;
}

/** Decodes blocks of scans laid out by computeLayout into typed arrays. */
export class ScanDecoder {
  readonly layout: ScanLayout;
  private readonly plans: readonly ElementPlan[];
  // Scratch for 64-bit values: read() writes [lo, hi] here instead of returning an object.
  private readonly pair = new Uint32Array(2);

  constructor(layout: ScanLayout, options: ScanDecoderOptions = {}) {
    if (!Number.isInteger(layout.scanBytes) || layout.scanBytes <= 0) throw invalid('scan layout has no enabled element');
    this.layout = layout;
    this.plans = layout.elements.map((e) => {
      const s = options.scales?.[e.name];
      return {
        name: e.name,
        offset: e.offset,
        width: e.type.storageBits / 8,
        repeat: e.type.repeat,
        littleEndian: e.type.endian === 'le',
        shift: e.type.shift,
        realBits: e.type.realBits,
        signed: e.type.signed,
        kind: rawArrayKind(e.type),
        isTimestamp: e.isTimestamp,
        scale: s?.scale ?? 1,
        scaleOffset: s?.offset ?? 0,
      };
    });
  }

  /** Whole scans in `byteLength` bytes; a partial trailing scan does not count. */
  scansIn(byteLength: number): number {
    return Math.floor(byteLength / this.layout.scanBytes);
  }

  /** Allocates a DecodedBlock able to hold `scans` scans (for reuse through decode's `out`). */
  allocate(scans: number): DecodedBlock {
    const block: DecodedBlock = { scans: 0, channels: {} };
    for (const p of this.plans) {
      if (p.isTimestamp) block.timestamps = new BigInt64Array(scans);
      else block.channels[p.name] = newRawArray(p.kind, scans * p.repeat);
    }
    return block;
  }

  /** Allocates a ScaledBlock able to hold `scans` scans. */
  allocateScaled(scans: number): ScaledBlock {
    const block: ScaledBlock = { scans: 0, channels: {} };
    for (const p of this.plans) {
      if (p.isTimestamp) block.timestamps = new BigInt64Array(scans);
      else block.channels[p.name] = new Float64Array(scans * p.repeat);
    }
    return block;
  }

  /** Raw values of every channel; `out` (from allocate) is filled in place when given. */
  decode(block: Uint8Array, scans?: number, out?: DecodedBlock): DecodedBlock {
    const count = this.countScans(block, scans);
    const target = out ?? this.allocate(count);
    const targets = this.plans.map((p) => {
      if (p.isTimestamp) return this.checkedTarget(target.timestamps, BigInt64Array, p, count);
      const type = RAW_ARRAY_CLASS[p.kind] as typeof Int32Array | typeof BigInt64Array;
      return this.checkedTarget<RawArray>(target.channels[p.name], type as typeof Int32Array, p, count);
    });
    this.fill(block, count, targets, false);
    target.scans = count;
    return target;
  }

  /** Values as (raw + offset) × scale in Float64Arrays; timestamps stay BigInt64Array. */
  decodeScaled(block: Uint8Array, scans?: number, out?: ScaledBlock): ScaledBlock {
    const count = this.countScans(block, scans);
    const target = out ?? this.allocateScaled(count);
    const targets = this.plans.map((p) => (p.isTimestamp ? this.checkedTarget(target.timestamps, BigInt64Array, p, count) : this.checkedTarget(target.channels[p.name], Float64Array, p, count)));
    this.fill(block, count, targets, true);
    target.scans = count;
    return target;
  }

  /** Where a misaligned block is copied for the scan loop (reused: decoding is synchronous). */
  private alignedCopy: Buffer | null = null;

  private aligned(block: Uint8Array): Uint8Array {
    if (!this.alignedCopy || this.alignedCopy.length < block.byteLength) this.alignedCopy = Buffer.allocUnsafeSlow(block.byteLength);
    this.alignedCopy.set(block);
    return this.alignedCopy.subarray(0, block.byteLength);
  }

  /** The scan loops, raw and scaled, built on first use (null: none applies to this layout). */
  private readonly loops: [ScanLoop | null | undefined, ScanLoop | null | undefined] = [undefined, undefined];

  /** Decodes `scans` scans of every element into `targets` (one per plan, checked). */
  private fill(block: Uint8Array, scans: number, targets: Array<RawArray | Float64Array>, scaled: boolean): void {
    const slot = scaled ? 1 : 0;
    if (this.loops[slot] === undefined) this.loops[slot] = compileScanLoop(this.plans, this.layout.scanBytes, scaled);
    const loop = this.loops[slot];
    const fast = loop !== null && loop !== undefined;
    if (fast) {
      if (block.byteOffset % loop.align !== 0) block = this.aligned(block); // e.g. a view of iiod's socket slab
      // 64-bit outputs are written as their two 32-bit halves.
      const outs = targets.map((t, i) => (loop.covers[i] && this.plans[i].width === 8 ? new Uint32Array(t.buffer, t.byteOffset, t.length * 2) : t) as ArrayLike<number>);
      loop.run(blockViews(block, loop.views), scans, outs, loop.k);
    }
    const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
    this.plans.forEach((p, i) => {
      if (fast && loop.covers[i]) return;
      const t = targets[i];
      if (t instanceof BigInt64Array || t instanceof BigUint64Array) this.decodeWideRaw(view, p, scans, t);
      else this.decodeNumbers(view, p, scans, t, scaled);
    });
  }

  /** Only the timestamps of a block (empty when no timestamp is enabled). */
  decodeTimestamps(block: Uint8Array, scans?: number, out?: BigInt64Array): BigInt64Array {
    const count = this.countScans(block, scans);
    const p = this.plans.find((plan) => plan.isTimestamp);
    if (!p) return out ?? new BigInt64Array(0);
    const target = this.checkedTarget(out ?? new BigInt64Array(count), BigInt64Array, p, count);
    this.decodeWideRaw(new DataView(block.buffer, block.byteOffset, block.byteLength), p, count, target);
    return target;
  }

  private countScans(block: Uint8Array, scans: number | undefined): number {
    if (!(block instanceof Uint8Array)) throw invalid('scan block must be a Buffer or Uint8Array');
    const available = this.scansIn(block.byteLength);
    if (scans === undefined) return available;
    if (!Number.isInteger(scans) || scans < 0) throw invalid(`invalid scan count ${String(scans)}`);
    return Math.min(scans, available);
  }

  private checkedTarget<T>(array: unknown, type: { new (length: number): T; name: string }, p: ElementPlan, scans: number): T {
    const needed = p.isTimestamp ? scans : scans * p.repeat;
    if (!(array instanceof type) || (array as unknown as ArrayLike<unknown>).length < needed) {
      throw invalid(`output array for ${p.name} must be a ${type.name} of at least ${needed} values`);
    }
    return array as T;
  }

  // Values that fit a JS number exactly (realBits ≤ 32), or any value when scaling.
  private decodeNumbers(view: DataView, p: ElementPlan, scans: number, out: { [i: number]: number }, scaled: boolean): void {
    const scanBytes = this.layout.scanBytes;
    const { width, repeat, littleEndian, shift, realBits, signed, scale, scaleOffset } = p;
    const wide = width === 8;
    let i = 0;
    for (let s = 0; s < scans; s++) {
      let at = s * scanBytes + p.offset;
      for (let r = 0; r < repeat; r++, at += width, i++) {
        let value: number;
        if (!wide) {
          value = extract32(readNarrow(view, at, width, littleEndian) >>> shift, Math.min(realBits, 32), signed);
        } else {
          this.readWide(view, at, p);
          value = realBits <= 32 ? extract32(this.pair[0], realBits, signed) : this.pairToNumber(signed);
        }
        out[i] = scaled ? (value + scaleOffset) * scale : value;
      }
    }
  }

  // 64-bit storage into a BigInt64Array/BigUint64Array, written as two u32 halves (no BigInt per value).
  private decodeWideRaw(view: DataView, p: ElementPlan, scans: number, out: BigInt64Array | BigUint64Array): void {
    const scanBytes = this.layout.scanBytes;
    const halves = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
    // Whole 64-bit values in host order at aligned offsets (timestamps): copied as two halves.
    if (p.littleEndian === NATIVE_LE && p.shift === 0 && p.realBits === 64 && view.byteOffset % 4 === 0 && p.offset % 4 === 0 && scanBytes % 4 === 0) {
      const src = new Uint32Array(view.buffer, view.byteOffset, Math.floor(view.byteLength / 4));
      const stride = scanBytes / 4;
      let i = 0;
      for (let s = 0, at = p.offset / 4; s < scans; s++, at += stride) {
        for (let r = 0; r < p.repeat; r++, i += 2) {
          halves[i] = src[at + 2 * r];
          halves[i + 1] = src[at + 2 * r + 1];
        }
      }
      return;
    }
    const loSlot = NATIVE_LE ? 0 : 1;
    let i = 0;
    for (let s = 0; s < scans; s++) {
      let at = s * scanBytes + p.offset;
      for (let r = 0; r < p.repeat; r++, at += 8, i++) {
        this.readWide(view, at, p);
        halves[2 * i + loSlot] = this.pair[0];
        halves[2 * i + 1 - loSlot] = this.pair[1];
      }
    }
  }

  // Reads one 64-bit value into this.pair as [lo, hi], shifted, masked and sign-extended to realBits.
  private readWide(view: DataView, at: number, p: ElementPlan): void {
    const le = p.littleEndian;
    let lo = view.getUint32(le ? at : at + 4, le);
    let hi = view.getUint32(le ? at + 4 : at, le);
    const shift = p.shift;
    if (shift >= 32) {
      lo = hi >>> (shift - 32);
      hi = 0;
    } else if (shift > 0) {
      lo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
      hi = hi >>> shift;
    }
    if (p.realBits <= 32) {
      lo = extract32(lo, p.realBits, p.signed);
      hi = p.signed && lo < 0 ? 0xffffffff : 0;
    } else {
      hi = extract32(hi, p.realBits - 32, p.signed);
    }
    this.pair[0] = lo;
    this.pair[1] = hi;
  }

  private pairToNumber(signed: boolean): number {
    const hi = signed ? this.pair[1] | 0 : this.pair[1];
    return hi * TWO_POW_32 + this.pair[0];
  }
}

// ---------------------------------------------------------------------------
// Encoding (output buffers)

/** Values per channel name; for repeat > 1, scans × repeat values scan by scan. */
export type ScanValues = Record<string, ArrayLike<number | bigint>>;

// Range of a type's values, as numbers and as bigints (for 64-bit inputs).
interface EncodePlan {
  readonly element: ScanElementLayout;
  readonly min: number;
  readonly max: number;
  readonly minBig: bigint;
  readonly maxBig: bigint;
}

function encodePlan(element: ScanElementLayout): EncodePlan {
  const { realBits, signed } = element.type;
  const minBig = signed ? -(1n << BigInt(realBits - 1)) : 0n;
  const maxBig = signed ? (1n << BigInt(realBits - 1)) - 1n : (1n << BigInt(realBits)) - 1n;
  return { element, min: Number(minBig), max: Number(maxBig), minBig, maxBig };
}

/** Bytes encodeScans produces for `scans` scans. */
export function encodedSize(layout: ScanLayout, scans: number): number {
  return layout.scanBytes * scans;
}

/** Encodes `scans` scans into a new zero-padded Buffer (inverse of ScanDecoder.decode). */
export function encodeScans(layout: ScanLayout, values: ScanValues, scans: number): Buffer {
  checkScanCount(scans);
  const buf = Buffer.alloc(encodedSize(layout, scans));
  encodeScansInto(buf, layout, values, scans);
  return buf;
}

function checkScanCount(scans: number): void {
  if (!Number.isInteger(scans) || scans < 0) throw invalid(`invalid scan count ${String(scans)}`);
}

/**
 * Encodes into a caller-owned buffer at byte `offset`; returns the bytes written.
 * Padding bytes are left as they are (zero them once when allocating).
 * Channels without values: the timestamp is written as 0, any other is EINVAL.
 */
export function encodeScansInto(buf: Uint8Array, layout: ScanLayout, values: ScanValues, scans: number, offset = 0): number {
  checkScanCount(scans);
  const size = encodedSize(layout, scans);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > buf.byteLength) {
    throw invalid(`output buffer of ${buf.byteLength} bytes cannot hold ${scans} scans of ${layout.scanBytes} bytes at offset ${offset}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, size);
  for (const element of layout.elements) {
    const source = values[element.name];
    const needed = scans * element.type.repeat;
    if (source === undefined && element.isTimestamp) {
      for (let s = 0; s < scans; s++) writeWide(view, s * layout.scanBytes + element.offset, 0, 0, element.type);
      continue;
    }
    if (source === undefined || source === null || typeof source.length !== 'number') throw invalid(`no values for channel ${element.name}`);
    if (source.length < needed) throw invalid(`channel ${element.name} has ${source.length} values, ${needed} needed for ${scans} scans`);
    encodeElement(view, layout.scanBytes, encodePlan(element), source, scans);
  }
  return size;
}

function encodeElement(view: DataView, scanBytes: number, plan: EncodePlan, source: ArrayLike<number | bigint>, scans: number): void {
  const { element } = plan;
  const { repeat, storageBits, shift, realBits } = element.type;
  const width = storageBits / 8;
  const le = element.type.endian === 'le';
  let i = 0;
  for (let s = 0; s < scans; s++) {
    let at = s * scanBytes + element.offset;
    for (let r = 0; r < repeat; r++, at += width, i++) {
      const value = checkedValue(plan, source[i], i);
      if (width === 8) {
        split64(value);
        writeWide(view, at, split[0], split[1], element.type);
      } else {
        const stored = ((Number(value) << (32 - realBits)) >>> (32 - realBits) << shift) >>> 0;
        if (width === 1) view.setUint8(at, stored);
        else if (width === 2) view.setUint16(at, stored, le);
        else view.setUint32(at, stored, le);
      }
    }
  }
}

// Returns the value when it fits; the error text is built only on failure.
function checkedValue(plan: EncodePlan, value: number | bigint, i: number): number | bigint {
  if (typeof value === 'bigint') {
    if (value < plan.minBig || value > plan.maxBig) throw outOfRange(plan, value, i);
    return value;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(`${describeValue(plan, value, i)} is not an integer`);
  if (!Number.isSafeInteger(value)) throw invalid(`${describeValue(plan, value, i)} is beyond 2^53: pass a bigint`);
  if (value < plan.min || value > plan.max) throw outOfRange(plan, value, i);
  return value;
}

function describeValue(plan: EncodePlan, value: unknown, i: number): string {
  return `value ${String(value)} of channel ${plan.element.name} (item ${i})`;
}

function outOfRange(plan: EncodePlan, value: number | bigint, i: number): IioError {
  const where = describeValue(plan, value, i);
  return invalid(`${where} out of range ${plan.minBig}..${plan.maxBig} (${plan.element.typeString})`, { code: 'ERANGE' });
}

// Scratch for split64, so 64-bit encoding allocates nothing per value.
const split = new Uint32Array(2);

// Two's complement [lo, hi] of a 64-bit value, into `split`.
function split64(value: number | bigint): void {
  if (typeof value === 'bigint') {
    const u = BigInt.asUintN(64, value);
    split[0] = Number(u & 0xffffffffn);
    split[1] = Number(u >> 32n);
    return;
  }
  const hi = Math.floor(value / TWO_POW_32);
  split[0] = value - hi * TWO_POW_32;
  split[1] = hi >>> 0;
}

// Masks [lo, hi] to realBits, shifts left by `shift` and stores 8 bytes.
function writeWide(view: DataView, at: number, lo: number, hi: number, t: ScanType): void {
  if (t.realBits <= 32) {
    lo = (lo << (32 - t.realBits)) >>> (32 - t.realBits);
    hi = 0;
  } else {
    hi = (hi << (64 - t.realBits)) >>> (64 - t.realBits);
  }
  if (t.shift >= 32) {
    hi = (lo << (t.shift - 32)) >>> 0;
    lo = 0;
  } else if (t.shift > 0) {
    hi = ((hi << t.shift) | (lo >>> (32 - t.shift))) >>> 0;
    lo = (lo << t.shift) >>> 0;
  }
  const le = t.endian === 'le';
  view.setUint32(le ? at : at + 4, lo >>> 0, le);
  view.setUint32(le ? at + 4 : at, hi >>> 0, le);
}

/**
 * A payload → whole scans in the buffer's layout: per-channel arrays, one array, or a Buffer.
 * Only the first `maxScans` scans are encoded (what the caller can take now: the rest would be
 * dropped anyway, and encoding a huge payload would hold the event loop); `total` says how many
 * the payload held.
 */
export function encodePayload(layout: ScanLayout, payload: unknown, maxScans = Infinity): { data: Buffer; total: number } {
  if (Buffer.isBuffer(payload)) {
    if (payload.length === 0 || payload.length % layout.scanBytes !== 0) {
      throw new IioError({ code: 'EINVAL', detail: `a Buffer payload must hold whole ${layout.scanBytes}-byte scans, not ${payload.length} bytes` });
    }
    const total = payload.length / layout.scanBytes;
    return { data: payload.subarray(0, Math.min(total, maxScans) * layout.scanBytes), total };
  }
  const data = layout.elements.filter((e) => !e.isTimestamp);
  let values: Record<string, ArrayLike<number | bigint>>;
  if (Array.isArray(payload) || ArrayBuffer.isView(payload)) {
    if (data.length !== 1) throw new IioError({ code: 'EINVAL', detail: `an array payload needs exactly one enabled channel; ${data.length} are enabled: send {channel: [...]}` });
    values = { [data[0].name]: payload as unknown as ArrayLike<number> };
  } else if (payload && typeof payload === 'object') {
    values = payload as Record<string, ArrayLike<number | bigint>>;
  } else {
    throw new IioError({ code: 'EINVAL', detail: 'msg.payload must be per-channel arrays, an array, a typed array or a Buffer' });
  }
  const counts = data.map((e) => {
    const v = values[e.name];
    if (!v || typeof v.length !== 'number') throw new IioError({ code: 'EINVAL', detail: `msg.payload has no array for channel "${e.name}"` });
    return v.length / e.type.repeat;
  });
  const scans = counts[0];
  if (!Number.isInteger(scans) || scans < 1 || counts.some((c) => c !== scans)) {
    throw new IioError({ code: 'EINVAL', detail: `every channel needs the same number of samples (got ${data.map((e, i) => `${e.name}: ${counts[i]}`).join(', ')})` });
  }
  return { data: encodeScans(layout, values, Math.min(scans, maxScans)), total: scans };
}
