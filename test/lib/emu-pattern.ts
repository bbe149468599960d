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
