// One poll loop for every fd the process waits on. A single poll(2) runs on libuv's thread pool
// (never one blocked thread per node); an eventfd wakes it when the set of fds changes. Handlers
// run on the main thread and must do non-blocking work only (drain the fd, then return).
import { POLLFD_SIZE, POLLIN, POLLNVAL, clearPollRevents, decodePollRevents, encodePollfdInto, encodeU64 } from './uapi';
import { kernel } from './local-backend';
import type { Backend } from './backend';

/** Zero-timeout polls on the main thread after a dispatch, before waiting on the thread pool again. */
const SYNC_ROUNDS = 8;
/** While those find nothing, they are tried once every SYNC_PROBE wake-ups. */
const SYNC_PROBE = 8;
/**
 * When the loop itself fails (EMFILE for its eventfd, ENOMEM or EINVAL from poll) it retries after
 * RETRY_FIRST_MS, doubling up to RETRY_MAX_MS, so the event loop keeps running meanwhile. After
 * GIVE_UP_AFTER failures in a row its watches cannot recover: they are dropped and each owner is
 * told once. About 1.3 s in all: long enough for a transient shortage to pass.
 */
export const RETRY_FIRST_MS = 10;
export const RETRY_MAX_MS = 1000;
export const GIVE_UP_AFTER = 8;

export type ReadyHandler = (revents: number) => void;
export type HandlerErrorSink = (err: unknown) => void;

interface Watch {
  fd: number;
  events: number;
  onReady: ReadyHandler;
  onError: HandlerErrorSink;
  afterBatch?: () => void;
}

export class Reactor {
  private watches = new Map<number, Watch>();
  private wakeFd = -1;
  private loop: Promise<void> | null = null;
  private polling = false;
  /** Set while the loop waits for the check phase between dispatch and the next poll. */
  private yielding: Promise<void> | null = null;
  private afterPoll: Array<() => void> = [];
  private changed = true;
  private pollfds = Buffer.alloc(0);
  private polled: Watch[] = [];
  /** fd → its index in `polled`. */
  private slots = new Map<number, number>();
  private readonly wakeWord = encodeU64(1);
  private readonly drainWord = Buffer.alloc(8);
  /** Ready fds found by the last zero-timeout polls, and wake-ups since they were last tried. */
  private syncHits = 1;
  private syncSkipped = 0;
  /** Loop failures in a row, and the pending retry after the last one. */
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  /** The backend of the running loop (its wake fd and polls belong to it). */
  private k: Backend = kernel();

  /** @param backend the backend to poll through; by default the core's current one, taken as each loop starts. */
  constructor(private readonly backend?: Backend) {}

  /**
   * Calls `onReady(revents)` whenever `fd` is ready for `events` (level-triggered, so the handler
   * must consume what made it ready, or `pause` the fd). A handler that throws reports to `onError`.
   * `afterBatch`, if given, runs once after all the fds that were ready in one poll have been
   * handled (shared by several fds, it runs once): a pool of fds can act on the whole batch.
   */
  watch(fd: number, events: number, onReady: ReadyHandler, onError: HandlerErrorSink, afterBatch?: () => void): void {
    this.watches.set(fd, { fd, events, onReady, onError, afterBatch });
    this.changed = true;
    this.kick();
  }

  /** Changes what a watched fd waits for; 0 pauses it (poll then ignores it). */
  setEvents(fd: number, events: number): void {
    const w = this.watches.get(fd);
    if (!w || w.events === events) return;
    w.events = events;
    const slot = this.slots.get(fd);
    if (!this.polling && !this.changed && slot !== undefined && this.polled[slot] === w) {
      // Between polls the set can be edited in place: no rebuild for a block paused and resumed.
      this.writeSlot(slot, w);
      return;
    }
    this.changed = true;
    this.kick();
  }

  /**
   * Stops watching `fd`. Resolves once no poll in flight still refers to it, so the caller may then
   * close it without the poll thread ever seeing a reused fd number.
   */
  unwatch(fd: number): Promise<void> {
    if (!this.watches.delete(fd)) return Promise.resolve();
    this.changed = true;
    // Between polls: settled once the loop has gone on (and, with nothing left, closed its wake fd).
    if (!this.polling) return this.yielding ? this.yielding.then(() => undefined) : Promise.resolve();
    const settled = new Promise<void>((resolve) => this.afterPoll.push(resolve));
    this.wake();
    return settled;
  }

  /** Resolves once the loop has ended (nothing watched) and closed its wake fd. */
  async whenIdle(): Promise<void> {
    while (this.loop || this.retry) await (this.loop ?? new Promise((r) => setTimeout(r, RETRY_FIRST_MS)));
  }

  /** Number of fds being watched (for tests and status). */
  get size(): number {
    return this.watches.size;
  }

  private kick(): void {
    if (this.loop) {
      if (this.polling) this.wake();
      return;
    }
    if (this.retry) return; // backing off: the retry polls the set as it is then
    this.loop = this.run()
      .catch((err) => this.failed(err))
      .finally(() => {
        this.loop = null;
        if (this.watches.size > 0 && !this.retry) this.kick(); // watched while the old loop was ending
      });
  }

  /** The loop failed: retry later (never at once: that would starve the event loop), or give up. */
  private failed(err: unknown): void {
    this.failures++;
    if (this.failures >= GIVE_UP_AFTER) {
      this.failures = 0;
      const dropped = [...this.watches.values()];
      this.watches.clear();
      this.changed = true;
      for (const w of dropped) report(w, err);
      return;
    }
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.failures - 1));
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.watches.size > 0) this.kick();
      else this.failures = 0;
    }, delay);
  }

  private wake(): void {
    try {
      if (this.wakeFd >= 0) this.k.write(this.wakeFd, this.wakeWord, 8);
    } catch {
      /* only a closed eventfd fails here, and then the loop is ending and rebuilds its set anyway */
    }
  }

  /** A paused watch keeps its slot with fd −1, which poll(2) skips. */
  private writeSlot(slot: number, w: Watch): void {
    encodePollfdInto(this.pollfds, slot + 1, w.events === 0 ? -1 : w.fd, w.events);
  }

  private rebuild(): void {
    this.polled = [...this.watches.values()];
    this.slots = new Map(this.polled.map((w, i) => [w.fd, i]));
    this.pollfds = Buffer.alloc((this.polled.length + 1) * POLLFD_SIZE);
    encodePollfdInto(this.pollfds, 0, this.wakeFd, POLLIN);
    this.polled.forEach((w, i) => this.writeSlot(i, w));
    this.changed = false;
  }

  private preparePollSet(): void {
    if (this.changed) this.rebuild();
    else clearPollRevents(this.pollfds);
  }

  private async run(): Promise<void> {
    try {
      this.k = this.backend ?? kernel();
      this.wakeFd = this.k.eventFd();
      while (this.watches.size > 0) {
        this.preparePollSet();
        this.polling = true;
        try {
          await this.k.poll(this.pollfds, this.polled.length + 1, -1);
        } finally {
          this.polling = false;
          for (const settle of this.afterPoll.splice(0)) settle();
        }
        this.failures = 0;
        if (decodePollRevents(this.pollfds, 0) !== 0) this.k.read(this.wakeFd, this.drainWord, 8);
        this.dispatch();
        // Busy streams are often ready again by now: a zero-timeout poll on this thread is
        // cheaper than another round trip through the thread pool. Bounded, to keep the loop
        // fair; and skipped while it keeps finding nothing (then it is a wasted call per wake-up),
        // tried again every SYNC_PROBE wake-ups.
        if (this.syncHits > 0 || ++this.syncSkipped >= SYNC_PROBE) {
          this.syncSkipped = 0;
          let hits = 0;
          for (let i = 0; i < SYNC_ROUNDS && this.watches.size > 0; i++) {
            this.preparePollSet();
            if (this.k.pollNow(this.pollfds, this.polled.length + 1) === 0) break;
            hits++;
            if (decodePollRevents(this.pollfds, 0) !== 0) this.k.read(this.wakeFd, this.drainWord, 8);
            this.dispatch();
          }
          this.syncHits = hits;
        }
        // Let what the handlers queued with setImmediate (Node-RED delivers messages so) run
        // before the next poll is submitted: that submission is an ffi-rs call, and before the
        // messages it would only add to their latency.
        if (this.watches.size === 0) break; // ends now: an unwatch may be waiting for the wake fd to close
        this.yielding = nextCheckPhase();
        await this.yielding;
        this.yielding = null;
      }
    } finally {
      // Drop the last poll set: its handlers would otherwise keep closed streams (and their data) alive.
      this.polled = [];
      this.slots.clear();
      this.changed = true;
      const fd = this.wakeFd;
      this.wakeFd = -1;
      if (fd >= 0) {
        try {
          this.k.close(fd);
        } catch {
          /* close releases the fd even when it reports an error */
        }
      }
      for (const settle of this.afterPoll.splice(0)) settle();
    }
  }

  private dispatch(): void {
    let batchEnds: Map<() => void, Watch> | null = null; // made only when a ready fd has one
    const polled = this.polled;
    for (let i = 0; i < polled.length; i++) {
      const w = polled[i];
      const revents = decodePollRevents(this.pollfds, i + 1);
      if (revents === 0 || this.watches.get(w.fd) !== w) continue; // unwatched meanwhile
      if (revents & POLLNVAL) {
        // Closed without unwatch: stop polling it rather than spin.
        this.watches.delete(w.fd);
        this.changed = true;
      }
      if (w.afterBatch) (batchEnds ??= new Map()).set(w.afterBatch, w);
      try {
        w.onReady(revents);
      } catch (err) {
        report(w, err);
      }
    }
    if (batchEnds === null) return;
    for (const [end, w] of batchEnds) {
      try {
        end();
      } catch (err) {
        report(w, err);
      }
    }
  }
}

const nextCheckPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

function report(w: Watch, err: unknown): void {
  try {
    w.onError(err);
  } catch {
    /* a failing error sink must not stop the loop that every other node relies on */
  }
}

/** The process's one reactor. */
export const reactor = new Reactor();
