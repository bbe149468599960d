/**
 * Errors of the IIO core: one class, carrying the errno name, the number, the
 * syscall and what it acted on, so a Catch node can tell EBUSY from ENOENT.
 */
import * as os from 'node:os';

/** What an IioError is about; every field is optional except the code. */
export interface IioErrorOptions {
  /** errno name ('EBUSY') or project code ('EINVAL', 'ERANGE'); derived from errno when omitted. */
  code?: string;
  /** positive errno of a failed syscall; 0 (default) when the error did not come from one. */
  errno?: number;
  /** syscall or operation, e.g. 'open', 'read', 'ioctl IIO_BUFFER_GET_FD'. */
  syscall?: string;
  /** file the operation acted on. */
  path?: string;
  /** device label for humans (name or label of the IIO device). */
  device?: string;
  /** sysfs attribute name, relative to its directory. */
  attribute?: string;
  /** extra human text, e.g. 'invalid scan type "le:x"'; composed into the standard message. */
  detail?: string;
  /** the whole message, verbatim, replacing the composed one. */
  message?: string;
  /** the underlying error, if any. */
  cause?: unknown;
}

/** Context added when wrapping an error from Node's fs or from libc. */
export interface IioErrorContext {
  syscall?: string;
  path?: string;
  device?: string;
  attribute?: string;
  detail?: string;
}

const errnoByName: Readonly<Record<string, number>> = os.constants.errno as Record<string, number>;

// Aliases share a number; the reverse map keeps the name Linux tools print.
const PREFERRED_NAMES = new Set(['EAGAIN', 'EOPNOTSUPP', 'EDEADLK']);

const errnoNameByNumber: ReadonlyMap<number, string> = (() => {
  const map = new Map<number, string>();
  for (const [name, value] of Object.entries(errnoByName)) {
    if (!map.has(value) || PREFERRED_NAMES.has(name)) map.set(value, name);
  }
  return map;
})();

// glibc's strerror wording for the codes this project meets.
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  ENOTTY: 'Inappropriate ioctl for device',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ERANGE: 'Numerical result out of range',
  ENOSYS: 'Function not implemented',
  EOPNOTSUPP: 'Operation not supported',
  ETIMEDOUT: 'Connection timed out',
  EPIPE: 'Broken pipe',
  EPROTO: 'Protocol error',
  ECONNRESET: 'Connection reset by peer',
  ECONNREFUSED: 'Connection refused',
  EHOSTUNREACH: 'No route to host',
  ECANCELED: 'Operation canceled',
};

/** errno name for a (positive or negative) errno number; 'EUNKNOWN' when Node does not know it. */
export function errnoName(errno: number): string {
  return errnoNameByNumber.get(Math.abs(errno)) ?? 'EUNKNOWN';
}

/** errno number for a name ('EBUSY' → 16); 0 when the name is not an errno. */
export function errnoFromCode(code: string): number {
  return Object.prototype.hasOwnProperty.call(errnoByName, code) ? errnoByName[code] : 0;
}

/** Short strerror-like text for a code; the code itself when not in the table. */
export function errnoText(code: string): string {
  return ERRNO_TEXT[code] ?? code;
}

/** An IIO failure: which syscall, on which file of which device, with which errno. */
export class IioError extends Error {
  /** errno name ('ENOENT') or project code ('EINVAL', 'ERANGE'). */
  readonly code: string;
  /** positive errno, 0 when not from a syscall. */
  readonly errno: number;
  readonly syscall?: string;
  readonly path?: string;
  readonly device?: string;
  readonly attribute?: string;

  constructor(options: IioErrorOptions) {
    const errno = Math.abs(options.errno ?? 0);
    const code = options.code ?? (errno ? errnoName(errno) : 'EIO');
    super(options.message ?? formatMessage(code, options), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IioError';
    this.code = code;
    this.errno = errno;
    if (options.syscall !== undefined) this.syscall = options.syscall;
    if (options.path !== undefined) this.path = options.path;
    if (options.device !== undefined) this.device = options.device;
    if (options.attribute !== undefined) this.attribute = options.attribute;
  }
}

// "ioctl IIO_BUFFER_GET_FD on /dev/iio:device1 (emu-adc) failed: EBUSY (Device or resource busy)"
function formatMessage(code: string, o: IioErrorOptions): string {
  const target = o.path ?? o.attribute;
  const where = (target ? ` on ${target}` : '') + (o.device ? ` (${o.device})` : '');
  const reason = `${code} (${errnoText(code)})`;
  if (o.syscall) return `${o.syscall}${where} failed: ${reason}${o.detail ? `: ${o.detail}` : ''}`;
  return `${o.detail ?? 'IIO operation failed'}${where}: ${reason}`;
}

/** Wraps an fs/Node error (keeping its code and errno) with IIO context. */
export function fromNodeError(err: NodeJS.ErrnoException, ctx: IioErrorContext = {}): IioError {
  if (err instanceof IioError) return err;
  const code = typeof err.code === 'string' && err.code ? err.code : undefined;
  const errno = typeof err.errno === 'number' ? Math.abs(err.errno) : code ? errnoFromCode(code) : 0;
  return new IioError({
    code: code ?? (errno ? errnoName(errno) : 'EIO'),
    errno,
    syscall: ctx.syscall ?? err.syscall,
    path: ctx.path ?? err.path,
    device: ctx.device,
    attribute: ctx.attribute,
    // Real syscall errors carry errno; anything else keeps its own words.
    detail: ctx.detail ?? (typeof err.errno === 'number' ? undefined : err.message),
    cause: err,
  });
}

/**
 * Any thrown value as an IioError — the one normaliser. An IioError stays as it is; an fs/Node
 * error keeps its errno; a TypeError or RangeError (from a value a message carried: bad input,
 * not I/O) becomes EINVAL; anything else EIO. `device` names the device where the error does not.
 */
export function toIioError(err: unknown, device?: string): IioError {
  if (err instanceof IioError) return err;
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((err as NodeJS.ErrnoException).code!)) {
    return fromNodeError(err as NodeJS.ErrnoException, { device });
  }
  const code = err instanceof TypeError || err instanceof RangeError ? 'EINVAL' : 'EIO';
  return new IioError({ code, device, detail: err instanceof Error ? err.message : describeValue(err), cause: err });
}

/** A project-level validation error (errno 0) with a code such as 'EINVAL' or 'ERANGE'. */
export function invalid(detail: string, ctx: IioErrorContext & { code?: string } = {}): IioError {
  return new IioError({ ...ctx, code: ctx.code ?? 'EINVAL', detail });
}

/** True when `e` is an IioError, optionally with the given code. */
export function isIioError(e: unknown, code?: string): e is IioError {
  return e instanceof IioError && (code === undefined || e.code === code);
}

/**
 * A short, safe description of any value for an error message: never throws (BigInt, circular
 * objects), never walks or copies a large payload (a 4 MiB Buffer is "a Buffer of 4194304 bytes").
 */
export function describeValue(value: unknown, max = 80): string {
  const cut = (t: string) => (t.length > max ? `${t.slice(0, max)}…` : t);
  switch (typeof value) {
    case 'string':
      return JSON.stringify(cut(value));
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${cut(value.toString())}n`;
    case 'symbol':
    case 'function':
      return `a ${typeof value}`;
  }
  if (value === null) return 'null';
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  const keys = Object.keys(value as object);
  return `an object with keys ${cut(keys.slice(0, 8).join(', '))}${keys.length > 8 ? ', …' : ''}`;
}
