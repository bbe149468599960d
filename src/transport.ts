// Transports: how blocks move between a buffer and userspace. Two strategies behind one pair of
// entry points — DMABUF (blocks shared with the device) and read()/write() on the buffer fd — and
// the one place that decides which runs and when `auto` falls back. (ADI's block API would be a
// third strategy here.)
import { IioError, invalid, describeValue } from './errors';
import { CaptureStream, OutputStream, TimestampGaps, BufferStream } from './buffer';
import { DmabufCapture, DmabufCaptureOptions, DmabufOutput, DmabufOutputOptions, fallsBackToReadWrite } from './dmabuf';
import type { ScanLayout } from './scan';
import type { DeviceInfo } from './context';

/** What a user asks for. `read` and `write` both name the file-I/O transport (read() in, write() out). */
export type TransportChoice = 'auto' | 'read' | 'write' | 'dmabuf';
/** What runs: DMABUF, or read()/write() on the buffer fd. */
export type TransportKind = 'dmabuf' | 'read' | 'write';

const CHOICES: readonly TransportChoice[] = ['auto', 'read', 'write', 'dmabuf'];

/** A configured transport; anything unknown (or empty) is `auto`. */
export function transportChoice(v: unknown): TransportChoice {
  return CHOICES.includes(v as TransportChoice) ? (v as TransportChoice) : 'auto';
}

/** The name status texts and docs use: `DMABUF`, `read()`, `write()`. */
export function transportLabel(kind: TransportKind): string {
  return kind === 'dmabuf' ? 'DMABUF' : `${kind}()`;
}

/**
 * The fallback order, for both directions: DMABUF unless file I/O is asked for; under `auto`,
 * file I/O when DMABUF is not to be had here (fallsBackToReadWrite), never on a real failure.
 */
function open<S extends BufferStream>(choice: TransportChoice, dmabuf: () => S, fileIo: () => S): { stream: S; dmabuf: boolean; fallback?: string } {
  if (!CHOICES.includes(choice)) throw invalid(`transport ${describeValue(choice)}: use auto, read, write or dmabuf`);
  if (choice === 'read' || choice === 'write') return { stream: started(fileIo()), dmabuf: false };
  try {
    return { stream: started(dmabuf()), dmabuf: true };
  } catch (err) {
    if (choice === 'dmabuf' || !fallsBackToReadWrite(err)) throw err;
    return { stream: started(fileIo()), dmabuf: false, fallback: (err as IioError).code };
  }
}

function started<S extends BufferStream>(s: S): S {
  s.start();
  return s;
}

export interface Input {
  stream: (CaptureStream | DmabufCapture) & { overruns: number; gaps: TimestampGaps };
  transport: 'dmabuf' | 'read';
  /** Why `auto` fell back to read(), if it did (the errno name). */
  fallback?: string;
}

/** Starts capture on `device` with the chosen transport. */
export function openInput(device: DeviceInfo, opts: DmabufCaptureOptions, choice: TransportChoice = 'auto'): Input {
  const r = open<CaptureStream | DmabufCapture>(choice, () => new DmabufCapture(device, opts), () => new CaptureStream(device, opts));
  return { stream: r.stream, transport: r.dmabuf ? 'dmabuf' : 'read', ...(r.fallback && { fallback: r.fallback }) };
}

/**
 * A running output, the same whatever the transport: `write` takes at most one block, or returns
 * false (taking nothing) until `onDrain`. A cyclic block is repeated until the next write or stop:
 * by the device over DMABUF, by keeping the kernel buffer topped up over write().
 */
export interface Output {
  readonly transport: 'dmabuf' | 'write';
  /** Why `auto` fell back to write(), if it did. */
  readonly fallback?: string;
  readonly layout: ScanLayout;
  readonly running: boolean;
  /** Blocks accepted and not yet taken by the device (write()), or blocks queued in the kernel (DMABUF). */
  readonly queued: number;
  write(data: Buffer, cyclic?: boolean): boolean;
  stop(): Promise<void>;
}

/** Starts output on `device` with the chosen transport. `opts.blocks` bounds the queue of either. */
export function openOutput(device: DeviceInfo, opts: DmabufOutputOptions, choice: TransportChoice = 'auto'): Output {
  const limit = opts.blocks ?? 4;
  const file = new FileOutput(opts, limit);
  const r = open<OutputStream | DmabufOutput>(choice, () => new DmabufOutput(device, opts), () => file.attach(new OutputStream(device, { ...opts, queueLimit: limit, onDrain: () => file.drained() })));
  if (r.stream instanceof DmabufOutput) return new DmabufOutputAdapter(r.stream, limit);
  return Object.assign(file, { fallback: r.fallback });
}

class DmabufOutputAdapter implements Output {
  readonly transport = 'dmabuf';
  constructor(private readonly s: DmabufOutput, private readonly blocks: number) {}
  get layout() { return this.s.layout; }
  get running() { return this.s.running; }
  get queued() { return this.blocks - this.s.available; }
  write(data: Buffer, cyclic = false): boolean { return this.s.write(data, cyclic); }
  stop(): Promise<void> { return this.s.stop(); }
}

/** write() output: takes a block only while the queue has room; repeats a cyclic block itself. */
class FileOutput implements Output {
  readonly transport = 'write';
  fallback?: string;
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
  stop(): Promise<void> {
    this.cyclic = null;
    return this.s?.stop() ?? Promise.resolve();
  }
}
