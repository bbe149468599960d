/**
 * sysfs attributes: name validation (nothing from a message may leave the
 * device's directory), value parsing and formatting in the kernel's text
 * conventions, and sync (discovery, setup) and async (runtime) I/O.
 */
import * as path from 'node:path';
import { IioError, IioErrorContext, describeValue, fromNodeError, invalid } from './errors';
import { kernel } from './local-backend';

// ---------------------------------------------------------------------------
// Names

/** Most path segments an attribute name may have (e.g. `events/in_temp0_thresh_rising_en`, `buffer0/in_x/en`). */
export const MAX_ATTRIBUTE_DEPTH = 3;
const SEGMENT_PATTERN = /^[A-Za-z0-9_.:-]+$/;
/** NAME_MAX. */
const MAX_SEGMENT_LENGTH = 255;

/**
 * Returns `name` when it is a relative path of 1..3 plain segments inside a
 * sysfs directory; otherwise throws IioError EINVAL naming the attribute.
 */
export function validateAttributeName(name: unknown, device?: string): string {
  const reject = (why: string) =>
    new IioError({ code: 'EINVAL', device, attribute: typeof name === 'string' ? name : undefined, detail: `invalid attribute name ${describe(name)}: ${why}` });
  if (typeof name !== 'string') throw reject('not a string');
  if (name.length === 0) throw reject('empty');
  if (name.startsWith('/')) throw reject('absolute paths are not allowed');
  const segments = name.split('/');
  if (segments.length > MAX_ATTRIBUTE_DEPTH) throw reject(`more than ${MAX_ATTRIBUTE_DEPTH} path segments`);
  for (const segment of segments) {
    if (segment === '') throw reject('empty path segment');
    if (segment === '.' || segment === '..') throw reject(`"${segment}" is not allowed`);
    if (segment.length > MAX_SEGMENT_LENGTH) throw reject('segment too long');
    if (!SEGMENT_PATTERN.test(segment)) throw reject('only letters, digits and _ . : - are allowed');
  }
  return name;
}

const describe = (value: unknown) => describeValue(value);

// ---------------------------------------------------------------------------
// Values

/** What a `*_available` attribute offers. */
export type Available =
  | { kind: 'list'; values: string[]; numbers: number[] | null }
  | { kind: 'range'; min: number; step: number; max: number };

/** Anything `formatValue` can write. */
export type AttributeValue = string | number | bigint | boolean;

const INT_PATTERN = /^[+-]?\d+$/;
const HEX_PATTERN = /^0x[0-9a-f]+$/i;
// IIO prints fixed point ("-0.805664"); accept exponents and a bare integer as well.
const FLOAT_PATTERN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const TRUE_WORDS = new Set(['1', 'y', 'yes', 'on', 'true']);
const FALSE_WORDS = new Set(['0', 'n', 'no', 'off', 'false']);
/** sysfs stores take at most one page. */
const MAX_WRITE_LENGTH = 4096;

function cannotParse(text: string, as: string, ctx: IioErrorContext): IioError {
  return invalid(`cannot parse ${describe(text)} as ${as}`, ctx);
}

/** Parses a decimal (or 0x hex) integer attribute; EINVAL on garbage, ERANGE beyond 2^53. */
export function parseIntAttr(text: string, ctx: IioErrorContext = {}): number {
  const t = String(text).trim();
  let value: number;
  if (INT_PATTERN.test(t)) value = Number(t);
  else if (HEX_PATTERN.test(t)) value = parseInt(t.slice(2), 16);
  else throw cannotParse(t, 'an integer', ctx);
  if (!Number.isSafeInteger(value)) throw invalid(`${t} is beyond 2^53: read it as a string`, { ...ctx, code: 'ERANGE' });
  return value;
}

/** Parses an IIO fixed-point value ("0.805664", "-0.5", "62.500000", "1e-3"). */
export function parseFloatAttr(text: string, ctx: IioErrorContext = {}): number {
  const t = String(text).trim();
  if (!FLOAT_PATTERN.test(t)) throw cannotParse(t, 'a number', ctx);
  return Number(t);
}

/** Parses a boolean as kstrtobool does ("1"/"0", "Y"/"N", "on"/"off"). */
export function parseBoolAttr(text: string, ctx: IioErrorContext = {}): boolean {
  const t = String(text).trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  throw cannotParse(t, 'a boolean', ctx);
}

/** Parses a `*_available` attribute: "[min step max]" or a space-separated list. */
export function parseAvailable(text: string, ctx: IioErrorContext = {}): Available {
  const t = String(text).trim();
  if (t.startsWith('[')) {
    const parts = t.endsWith(']') ? t.slice(1, -1).trim().split(/\s+/) : [];
    if (parts.length !== 3 || !parts.every((p) => FLOAT_PATTERN.test(p))) throw cannotParse(t, 'a range [min step max]', ctx);
    const [min, step, max] = parts.map(Number);
    return { kind: 'range', min, step, max };
  }
  const values = t === '' ? [] : t.split(/\s+/);
  const numeric = values.every((v) => FLOAT_PATTERN.test(v));
  return { kind: 'list', values, numbers: numeric ? values.map(Number) : null };
}

/**
 * Text for a sysfs write: booleans as 1/0, numbers in plain decimal (the
 * kernel's fixed-point parser takes no exponent), bigints and strings as is.
 */
export function formatValue(value: AttributeValue, ctx: IioErrorContext = {}): string {
  switch (typeof value) {
    case 'boolean':
      return value ? '1' : '0';
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`cannot write ${value}`, ctx);
      return plainDecimal(value);
    case 'string':
      if (value.includes('\0')) throw invalid('value contains a NUL byte', ctx);
      if (Buffer.byteLength(value) > MAX_WRITE_LENGTH) throw invalid(`value longer than ${MAX_WRITE_LENGTH} bytes`, ctx);
      // An empty write() never reaches the driver; a lone newline does (e.g. detaching a trigger).
      return value === '' ? '\n' : value;
    default:
      throw invalid(`cannot write a ${value === null ? 'null' : typeof value}`, ctx);
  }
}

// Shortest round-trip digits of a finite number, without exponent: 1e-7 → "0.0000001".
function plainDecimal(value: number): string {
  const text = String(value);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, lead, fraction = '', exp] = m;
  const digits = lead + fraction;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

// ---------------------------------------------------------------------------
// I/O

function stripNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * What an object (device, trigger) offers for its attributes, wherever they live: a local sysfs
 * directory (AttributeDir) today, a remote context later. Names are relative to the object;
 * sync methods are for discovery and setup, async ones for nodes at runtime.
 */
export interface AttributeStore {
  /** The label errors name (the device's or trigger's name). */
  readonly device?: string;
  /** Error context for an attribute. */
  context(name: string): IioErrorContext;
  existsSync(name: string): boolean;
  readStringSync(name: string): string;
  readIntSync(name: string): number;
  readFloatSync(name: string): number;
  readBoolSync(name: string): boolean;
  readAvailableSync(name: string): Available;
  writeSync(name: string, value: AttributeValue): void;
  exists(name: string): Promise<boolean>;
  readString(name: string): Promise<string>;
  readInt(name: string): Promise<number>;
  readFloat(name: string): Promise<number>;
  readBool(name: string): Promise<boolean>;
  readAvailable(name: string): Promise<Available>;
  write(name: string, value: AttributeValue): Promise<void>;
}

/** The typed async reads, derived alike from a store's `readString` (local sysfs or a board's iiod). */
export abstract class TypedAttributeReads {
  abstract readString(name: string): Promise<string>;
  abstract context(name: string): IioErrorContext;

  /** Integer attribute. */
  async readInt(name: string): Promise<number> {
    return parseIntAttr(await this.readString(name), this.context(name));
  }

  /** Fixed-point attribute. */
  async readFloat(name: string): Promise<number> {
    return parseFloatAttr(await this.readString(name), this.context(name));
  }

  /** Boolean attribute. */
  async readBool(name: string): Promise<boolean> {
    return parseBoolAttr(await this.readString(name), this.context(name));
  }

  /** `*_available` attribute. */
  async readAvailable(name: string): Promise<Available> {
    return parseAvailable(await this.readString(name), this.context(name));
  }
}

/**
 * The attributes of one sysfs directory (a device, trigger, buffer…). Sync
 * methods are for discovery and setup; the async ones for nodes at runtime.
 */
export class AttributeDir extends TypedAttributeReads implements AttributeStore {
  /** @param dir absolute directory path; @param device label used in errors. */
  /** The directory with its symlinks resolved, once known. */
  private realDir: string | null = null;
  /** Names already checked to stay inside the directory (sysfs links do not move). */
  private readonly inside = new Set<string>();

  constructor(readonly dir: string, readonly device?: string) {
    super();
  }

  /**
   * Absolute path of a validated attribute name. Its real path must stay inside the directory:
   * sysfs is full of symlinks (`subsystem`, `device`, `driver`, `of_node`…) that lead to the
   * whole bus or driver, e.g. `subsystem/drivers_autoprobe`.
   */
  pathOf(name: string): string {
    const file = path.join(this.dir, validateAttributeName(name, this.device));
    if (this.inside.has(name)) return file;
    const real = realPathOf(file);
    if (real !== null) {
      this.realDir ??= realPathOf(this.dir);
      if (this.realDir !== null && !real.startsWith(`${this.realDir}/`)) {
        throw new IioError({ code: 'EINVAL', device: this.device, attribute: name, path: file, detail: `invalid attribute name ${describe(name)}: it leads out of ${this.dir} through a symlink (to ${real})` });
      }
      if (this.inside.size < 1024) this.inside.add(name);
    }
    return file;
  }

  /** Error context for an attribute. */
  context(name: string): IioErrorContext {
    return { path: path.join(this.dir, name), device: this.device, attribute: name };
  }

  /** True when the attribute exists. */
  existsSync(name: string): boolean {
    return kernel().exists(this.pathOf(name));
  }

  /** Attribute text without its trailing newline. */
  readStringSync(name: string): string {
    const file = this.pathOf(name);
    try {
      return stripNewline(kernel().readText(file));
    } catch (err) {
      throw fromNodeError(err as NodeJS.ErrnoException, { ...this.context(name), syscall: syscallOf(err, 'read') });
    }
  }

  /** Integer attribute. */
  readIntSync(name: string): number {
    return parseIntAttr(this.readStringSync(name), this.context(name));
  }

  /** Fixed-point attribute (scale, offset, sampling_frequency…). */
  readFloatSync(name: string): number {
    return parseFloatAttr(this.readStringSync(name), this.context(name));
  }

  /** Boolean attribute (enable, *_en). */
  readBoolSync(name: string): boolean {
    return parseBoolAttr(this.readStringSync(name), this.context(name));
  }

  /** `*_available` attribute. */
  readAvailableSync(name: string): Available {
    return parseAvailable(this.readStringSync(name), this.context(name));
  }

  /** Writes a value in one write(); the driver's refusal (EINVAL, EBUSY…) surfaces as IioError. */
  writeSync(name: string, value: AttributeValue): void {
    const file = this.pathOf(name);
    const text = formatValue(value, this.context(name));
    try {
      kernel().writeText(file, text);
    } catch (err) {
      throw fromNodeError(err as NodeJS.ErrnoException, { ...this.context(name), syscall: syscallOf(err, 'write') });
    }
  }

  /** True when the attribute exists. */
  async exists(name: string): Promise<boolean> {
    return kernel().existsAsync(this.pathOf(name));
  }

  /** Attribute text without its trailing newline. */
  async readString(name: string): Promise<string> {
    const file = this.pathOf(name);
    try {
      return stripNewline(await kernel().readTextAsync(file));
    } catch (err) {
      throw fromNodeError(err as NodeJS.ErrnoException, { ...this.context(name), syscall: syscallOf(err, 'read') });
    }
  }

  /** Writes a value in one write(). */
  async write(name: string, value: AttributeValue): Promise<void> {
    const file = this.pathOf(name);
    const text = formatValue(value, this.context(name));
    try {
      await kernel().writeTextAsync(file, text);
    } catch (err) {
      throw fromNodeError(err as NodeJS.ErrnoException, { ...this.context(name), syscall: syscallOf(err, 'write') });
    }
  }
}

/**
 * The real path of `file`, or of its directory plus its name when it does not exist (yet); null
 * when neither resolves (the caller's own open then reports ENOENT or EACCES).
 */
function realPathOf(file: string): string | null {
  try {
    return kernel().realpath(file);
  } catch {
    try {
      return path.join(kernel().realpath(path.dirname(file)), path.basename(file));
    } catch {
      return null;
    }
  }
}

// Node names the failing syscall ('open', 'read', 'write'); our own errors have none.
function syscallOf(err: unknown, fallback: string): string {
  const syscall = (err as NodeJS.ErrnoException | undefined)?.syscall;
  return typeof syscall === 'string' && syscall ? syscall : fallback;
}
