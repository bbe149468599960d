/**
 * The emulator's (harness/emu/emu_adc.c) sample pattern, written without
 * src/scan.ts so that host tests can prove the decoder against it and the
 * hardware tests can check every captured value.
 *
 *   raw(k, n)    = (k * 961 + n * (2^(bits-8) + 1)) mod 2^bits   (two's complement when signed)
 *   stored(k, n) = (raw << shift) | (n & ((1 << shift) - 1))     (junk below the shift)
 */

/** One emu-adc scan element; `slot` is the value slot k of its first value. */
export interface EmuAdcChannel {
  /** Channel id as discovery names it (`voltage0`, `accel_x`, `timestamp`). */
  name: string;
  index: number;
  /** The `_type` string the kernel prints. */
  type: string;
  slot: number;
  repeat: number;
  bits: number;
  storageBits: number;
  shift: number;
  signed: boolean;
  bigEndian: boolean;
}

function ch(name: string, index: number, slot: number, bits: number, storageBits: number, shift: number, repeat: number, signed: boolean, bigEndian = false): EmuAdcChannel {
  const type = `${bigEndian ? 'be' : 'le'}:${signed ? 's' : 'u'}${bits}/${storageBits}${repeat > 1 ? `X${repeat}` : ''}>>${shift}`;
  return { name, index, type, slot, repeat, bits, storageBits, shift, signed, bigEndian };
}

/** emu-adc's scan elements in scan-index order. */
export const EMU_ADC_CHANNELS: readonly EmuAdcChannel[] = [
  ch('voltage0', 0, 0, 12, 16, 4, 1, false),
  ch('voltage1', 1, 1, 16, 16, 0, 1, true),
  ch('voltage2', 2, 2, 16, 16, 0, 1, true, true),
  ch('voltage3', 3, 3, 24, 32, 8, 1, true),
  ch('voltage4', 4, 4, 16, 16, 0, 4, false),
  ch('accel_x', 5, 8, 16, 16, 0, 1, true),
  ch('accel_y', 6, 9, 16, 16, 0, 1, true),
  ch('accel_z', 7, 10, 16, 16, 0, 1, true),
  ch('timestamp', 8, -1, 64, 64, 0, 1, true),
];

/** The raw value of slot k in scan n, as a signed or unsigned number of `bits` bits. */
export function emuAdcRaw(k: number, n: number, bits: number, signed: boolean): number {
  const modulus = 2 ** bits;
  const step = 2 ** (bits - 8) + 1;
  // Reduce each term first so the products stay exact for any scan number.
  const unsigned = ((k * 961) % modulus + ((n % modulus) * step) % modulus) % modulus;
  return signed && unsigned >= modulus / 2 ? unsigned - modulus : unsigned;
}

/** The stored (shifted, junk-filled) value of slot k in scan n, as an unsigned storage word. */
export function emuAdcStored(c: EmuAdcChannel, k: number, n: number): number {
  const raw = emuAdcRaw(k, n, c.bits, c.signed);
  const rawBits = raw < 0 ? raw + 2 ** c.bits : raw;
  const junk = n % 2 ** c.shift;
  return rawBits * 2 ** c.shift + junk;
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** Offsets and scan size for enabled channels (all emu sizes are powers of two). */
export function emuAdcLayout(enabledNames: readonly string[]): { scanBytes: number; offsets: Map<string, number> } {
  const offsets = new Map<string, number>();
  let bytes = 0;
  let largest = 0;
  for (const c of EMU_ADC_CHANNELS) {
    if (!enabledNames.includes(c.name)) continue;
    const size = (c.storageBits / 8) * c.repeat;
    bytes = alignUp(bytes, size);
    offsets.set(c.name, bytes);
    bytes += size;
    largest = Math.max(largest, size);
  }
  return { scanBytes: largest ? alignUp(bytes, largest) : 0, offsets };
}

/** The exact bytes emu-adc produces for scans firstScan.. with these channels enabled (timestamps 0). */
export function emuAdcBlock(enabledNames: readonly string[], firstScan: number, scans: number): Buffer {
  const { scanBytes, offsets } = emuAdcLayout(enabledNames);
  const block = Buffer.alloc(scanBytes * scans);
  for (let s = 0; s < scans; s++) {
    const n = firstScan + s;
    for (const c of EMU_ADC_CHANNELS) {
      const offset = offsets.get(c.name);
      if (offset === undefined || c.name === 'timestamp') continue;
      for (let r = 0; r < c.repeat; r++) {
        const at = s * scanBytes + offset + r * (c.storageBits / 8);
        const stored = emuAdcStored(c, c.slot + r, n);
        const bytes = c.storageBits / 8;
        if (c.bigEndian) block.writeUIntBE(stored, at, bytes);
        else block.writeUIntLE(stored, at, bytes);
      }
    }
  }
  return block;
}

/**
 * emu-mux (harness/emu/emu_mux.c): the same formula with k = scan index, one channel per scan.
 * `name` is the channel id as discovery names it.
 */
export const EMU_MUX_CHANNELS: readonly EmuAdcChannel[] = [
  ch('voltage0-voltage1', 0, 0, 16, 16, 0, 1, true),
  ch('voltage2-voltage3', 1, 1, 16, 16, 0, 1, true),
  ch('voltage0', 2, 2, 12, 16, 4, 1, true, true),
  ch('voltage1', 3, 3, 12, 16, 4, 1, true, true),
  ch('voltage4_supply', 4, 4, 16, 16, 0, 1, false),
  ch('accel_x', 5, 5, 16, 16, 0, 1, true),
  ch('timestamp', 6, -1, 64, 64, 0, 1, true),
];

/** emu-mux's `in_<chan>_raw`: raw(k, 0). */
export function emuMuxRawAttr(name: string): number {
  const c = EMU_MUX_CHANNELS.find((x) => x.name === name);
  if (!c || c.slot < 0) throw new Error(`emu-mux has no data channel ${name}`);
  return emuAdcRaw(c.slot, 0, c.bits, c.signed);
}

/** The raw values emu-mux captures on one channel for scans firstScan.. (what a decoder must return). */
export function emuMuxValues(name: string, firstScan: number, scans: number): number[] {
  const c = EMU_MUX_CHANNELS.find((x) => x.name === name);
  if (!c || c.slot < 0) throw new Error(`emu-mux has no data channel ${name}`);
  return Array.from({ length: scans }, (_, s) => emuAdcRaw(c.slot, firstScan + s, c.bits, c.signed));
}

/** What discovery must make of emu-mux: [id, scan index, scan type, attributes, available]. */
export const EMU_MUX_DISCOVERED: ReadonlyArray<[string, number, string, Record<string, string>, Record<string, string>]> = (() => {
  const sf = { sampling_frequency: 'in_sampling_frequency' };
  const diffAvail = { scale: 'in_voltage-voltage_scale_available' };
  return [
    ['voltage0-voltage1', 0, 'le:s16/16>>0', { raw: 'in_voltage0-voltage1_raw', scale: 'in_voltage-voltage_scale', ...sf }, diffAvail],
    ['voltage2-voltage3', 1, 'le:s16/16>>0', { raw: 'in_voltage2-voltage3_raw', scale: 'in_voltage-voltage_scale', ...sf }, diffAvail],
    ['voltage0', 2, 'be:s12/16>>4', { raw: 'in_voltage0_raw', scale: 'in_voltage_scale', ...sf }, {}],
    ['voltage1', 3, 'be:s12/16>>4', { raw: 'in_voltage1_raw', scale: 'in_voltage_scale', ...sf }, {}],
    ['voltage4_supply', 4, 'le:u16/16>>0', { raw: 'in_voltage4_supply_raw', scale: 'in_voltage4_supply_scale', label: 'in_voltage4_supply_label', ...sf }, {}],
    ['accel_x', 5, 'le:s16/16>>0', { raw: 'in_accel_x_raw', scale: 'in_accel_scale', ...sf }, {}],
    ['timestamp', 6, 'le:s64/64>>0', sf, {}],
  ];
})();

/** emu-mux's events as discovery must list them (sorted): [channel, type, direction, attributes]. */
export const EMU_MUX_EVENTS: ReadonlyArray<[string, string, string, Record<string, string>]> = [
  ['accel_x', 'mag', 'rising', { en: 'events/in_accel_x_mag_rising_en', value: 'events/in_accel_mag_rising_value' }],
  [
    'voltage0-voltage1', 'thresh', 'rising',
    {
      en: 'events/in_voltage0-voltage1_thresh_rising_en',
      value: 'events/in_voltage0-voltage1_thresh_rising_value',
      hysteresis: 'events/in_voltage-voltage_thresh_rising_hysteresis',
      period: 'events/in_thresh_rising_period',
    },
  ],
];

/**
 * The blocks' bytes with the timestamps zeroed (emuAdcBlock has 0 there; the kernel's clock does
 * not), after checking they rise: comparable with emuAdcBlock(enabledNames, …).
 */
export function emuAdcPatternBytes(blocks: readonly Buffer[], enabledNames: readonly string[]): Buffer {
  const { scanBytes, offsets } = emuAdcLayout(enabledNames);
  const data = Buffer.from(Buffer.concat(blocks));
  const at = offsets.get('timestamp');
  if (at === undefined) return data;
  let last = -1n;
  for (let off = 0; off < data.length; off += scanBytes) {
    const ts = data.readBigInt64LE(off + at);
    if (ts <= last) throw new Error(`timestamp ${ts} after ${last}: not rising`);
    last = ts;
    data.fill(0, off + at, off + at + 8);
  }
  return data;
}
