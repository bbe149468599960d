// Transports: how blocks move between a buffer and userspace. Three strategies behind one pair of
// entry points — DMABUF (blocks shared with the device), ADI's mmap block API (blocks the kernel
// allocates, Analog Devices kernels only) and read()/write() on the buffer fd — and the one place
// that decides which runs and when `auto` falls back.
import { IioError, invalid, describeValue } from './errors';
import { CaptureStream, OutputStream, TimestampGaps, BufferStream } from './buffer';
import { DmabufCapture, DmabufCaptureOptions, DmabufOutput, DmabufOutputOptions, fallsBackToReadWrite } from './dmabuf';
import { BlockCapture, BlockOutput, isBlockUnsupported } from './block';
import type { ScanLayout } from './scan';
import type { Device } from './device';
import type { RemoteCapture } from './iiod/capture';

/**
 * What a user asks for. `read` and `write` both name the file-I/O transport (read() in, write()
 * out); `block` is ADI's mmap block API.
 */
export type TransportChoice = 'auto' | 'read' | 'write' | 'dmabuf' | 'block';
/** What runs: DMABUF, ADI's mmap blocks, or read()/write() on the buffer fd. */
export type TransportKind = 'dmabuf' | 'block' | 'read' | 'write' | 'iiod';

const CHOICES: readonly TransportChoice[] = ['auto', 'read', 'write', 'dmabuf', 'block'];

/** A configured transport; anything unknown (or empty) is `auto`. */
export function transportChoice(v: unknown): TransportChoice {
  return CHOICES.includes(v as TransportChoice) ? (v as TransportChoice) : 'auto';
}

/** The name status texts and docs use: `DMABUF`, `mmap blocks`, `read()`, `write()`. */
export function transportLabel(kind: TransportKind): string {
  return kind === 'dmabuf' ? 'DMABUF' : kind === 'block' ? 'mmap blocks' : kind === 'iiod' ? 'iiod' : `${kind}()`;
}

interface Opened<S> {
  stream: S;
  kind: 'dmabuf' | 'block' | 'file';
  /** Why `auto` passed over DMABUF, if it did (the errno name). */
  fallback?: string;
  /** Why `auto` then passed over the mmap block API, if it did (mainline kernels: EINVAL or ENOTTY). */
  blockFallback?: string;
}

/**
 * The fallback order, for both directions: `auto` is DMABUF, then ADI's mmap blocks, then file
 * I/O, each step only when the previous transport is not to be had here (fallsBackToReadWrite,
 * isBlockUnsupported), never on a real failure. `dmabuf`, `block`, `read` and `write` never fall back.
 */
function open<S extends BufferStream>(choice: TransportChoice, dmabuf: () => S, block: () => S, fileIo: () => S): Opened<S> {
  if (!CHOICES.includes(choice)) throw invalid(`transport ${describeValue(choice)}: use auto, read, write, dmabuf or block`);
  if (choice === 'read' || choice === 'write') return { stream: started(fileIo()), kind: 'file' };
  if (choice === 'block') return { stream: started(block()), kind: 'block' };
  let fallback: string;
  try {
    return { stream: started(dmabuf()), kind: 'dmabuf' };
  } catch (err) {
    if (choice === 'dmabuf' || !fallsBackToReadWrite(err)) throw err;
    fallback = (err as IioError).code;
  }
  try {
    return { stream: started(block()), kind: 'block', fallback };
  } catch (err) {
    if (!isBlockUnsupported(err)) throw err;
    return { stream: started(fileIo()), kind: 'file', fallback, blockFallback: (err as IioError).code };
  }
}

function started<S extends BufferStream>(s: S): S {
  s.start();
  return s;
}

export interface Input {
  stream: (CaptureStream | DmabufCapture | BlockCapture | RemoteCapture) & { overruns: number; gaps: TimestampGaps; close(): Promise<void> };
  /** `iiod`: a board's buffer over the network (src/iiod). */
  transport: 'dmabuf' | 'block' | 'read' | 'iiod';
  /** Why `auto` passed over DMABUF, if it did (the errno name). */
  fallback?: string;
  /** Why `auto` then passed over the mmap block API, if it did. */
  blockFallback?: string;
}

/** What both results carry besides the stream: the fallback reasons `auto` met. */
function reasons(r: Opened<unknown>): { fallback?: string; blockFallback?: string } {
  return { ...(r.fallback && { fallback: r.fallback }), ...(r.blockFallback && { blockFallback: r.blockFallback }) };
}

/** Starts capture on `device` with the chosen transport. */
export function openInput(device: Device, opts: DmabufCaptureOptions, choice: TransportChoice = 'auto'): Input {
  const r = open<CaptureStream | DmabufCapture | BlockCapture>(choice, () => new DmabufCapture(device, opts), () => new BlockCapture(device, opts), () => new CaptureStream(device, opts));
  return { stream: r.stream, transport: r.kind === 'file' ? 'read' : r.kind, ...reasons(r) };
}

/**
 * A running output, the same whatever the transport: `write` takes at most one block, or returns
 * false (taking nothing) until `onDrain`. A cyclic block is repeated until the next write or close:
 * by the device over DMABUF, by keeping the kernel buffer topped up over write().
 */
export interface Output {
  readonly transport: 'dmabuf' | 'block' | 'write' | 'iiod';
  /** Why `auto` passed over DMABUF, if it did. */
  readonly fallback?: string;
  /** Why `auto` then passed over the mmap block API, if it did. */
  readonly blockFallback?: string;
  readonly layout: ScanLayout;
  readonly running: boolean;
  /** Blocks accepted and not yet taken by the device (write()), or blocks queued in the kernel (DMABUF). */
  readonly queued: number;
  write(data: Buffer, cyclic?: boolean): boolean;
  close(): Promise<void>;
}

/** Starts output on `device` with the chosen transport. `opts.blocks` bounds the queue of either. */
export function openOutput(device: Device, opts: DmabufOutputOptions, choice: TransportChoice = 'auto'): Output {
  const limit = opts.blocks ?? 4;
  const file = new FileOutput(opts, limit);
  const r = open<OutputStream | DmabufOutput | BlockOutput>(
    choice,
    () => new DmabufOutput(device, opts),
    () => new BlockOutput(device, opts),
    () => file.attach(new OutputStream(device, { ...opts, queueLimit: limit, onDrain: () => file.drained() })),
  );
  if (r.stream instanceof OutputStream) return Object.assign(file, reasons(r));
  return Object.assign(new BlockPoolOutput(r.stream, r.kind === 'block' ? 'block' : 'dmabuf', limit), reasons(r));
}

/** DMABUF or mmap-block output: the device repeats a cyclic block itself. */
class BlockPoolOutput implements Output {
  fallback?: string;
  blockFallback?: string;
  constructor(private readonly s: DmabufOutput | BlockOutput, readonly transport: 'dmabuf' | 'block', private readonly blocks: number) {}
  get layout() { return this.s.layout; }
  get running() { return this.s.running; }
  get queued() { return this.blocks - this.s.available; }
  write(data: Buffer, cyclic = false): boolean { return this.s.write(data, cyclic); }
  close(): Promise<void> { return this.s.close(); }
}

/** write() output: takes a block only while the queue has room; repeats a cyclic block itself. */
class FileOutput implements Output {
  readonly transport = 'write';
  fallback?: string;
  blockFallback?: string;
  private s: OutputStream | null = null;
  private cyclic: Buffer | null = null;
  constructor(private readonly opts: DmabufOutputOptions, private readonly limit: number) {}
  attach(s: OutputStream): OutputStream {
    this.s = s;
    return s;
  }
  get layout() { return this.s!.layout; }
  get running() { return this.s?.running ?? false; }
  get queued() { return this.s?.queued ?? 0; }
  write(data: Buffer, cyclic = false): boolean {
    if (this.s!.running && this.s!.queued >= this.limit) return false;
    // The stream keeps the Buffer until the kernel took it: never the caller's own memory.
    const copy = Buffer.from(data);
    this.s!.write(copy);
    this.cyclic = cyclic ? copy : null;
    this.topUp();
    return true;
  }
  /** The kernel took some: refill with the cyclic block, then tell the caller. */
  drained(): void {
    // The caller first: a new cyclic block waiting for room must not lose it to the old one's repeats.
    this.opts.onDrain?.();
    this.topUp();
  }
  private topUp(): void {
    while (this.cyclic && this.s!.running && this.s!.queued < this.limit) this.s!.write(this.cyclic);
  }
  close(): Promise<void> {
    this.cyclic = null;
    return this.s?.close() ?? Promise.resolve();
  }
}
