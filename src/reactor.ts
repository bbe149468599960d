// One poll loop for every fd the process waits on. A single poll(2) runs on libuv's thread pool
// (never one blocked thread per node); an eventfd wakes it when the set of fds changes. Handlers
// run on the main thread and must do non-blocking work only (drain the fd, then return).
import { closeFd, eventFd, pollAsync, pollNow, readInto, writeFrom, POLLFD_SIZE, POLLIN, POLLNVAL } from './libc';

/** Zero-timeout polls on the main thread after a dispatch, before waiting on the thread pool again. */
const SYNC_ROUNDS = 8;

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
  private afterPoll: Array<() => void> = [];
  private changed = true;
  private pollfds = Buffer.alloc(0);
  private polled: Watch[] = [];
  /** fd → its index in `polled`. */
  private slots = new Map<number, number>();
  private readonly wakeWord = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);
  private readonly drainWord = Buffer.alloc(8);

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

  isWatched(fd: number): boolean {
    return this.watches.has(fd);
  }

  /**
   * Stops watching `fd`. Resolves once no poll in flight still refers to it, so the caller may then
   * close it without the poll thread ever seeing a reused fd number.
   */
  unwatch(fd: number): Promise<void> {
    if (!this.watches.delete(fd)) return Promise.resolve();
    this.changed = true;
    if (!this.polling) return Promise.resolve();
    const settled = new Promise<void>((resolve) => this.afterPoll.push(resolve));
    this.wake();
    return settled;
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
    this.loop = this.run()
      .catch((err) => {
        for (const w of this.watches.values()) w.onError(err);
      })
      .finally(() => {
        this.loop = null;
        if (this.watches.size > 0) this.kick(); // watched while the old loop was ending
      });
  }

  private wake(): void {
    if (this.wakeFd >= 0) writeFrom(this.wakeFd, this.wakeWord, 8);
  }

  /** A paused watch keeps its slot with fd −1, which poll(2) skips. */
  private writeSlot(slot: number, w: Watch): void {
    const off = (slot + 1) * POLLFD_SIZE;
    this.pollfds.writeInt32LE(w.events === 0 ? -1 : w.fd, off);
    this.pollfds.writeInt16LE(w.events, off + 4);
  }

  private rebuild(): void {
    this.polled = [...this.watches.values()];
    this.slots = new Map(this.polled.map((w, i) => [w.fd, i]));
    this.pollfds = Buffer.alloc((this.polled.length + 1) * POLLFD_SIZE);
    this.pollfds.writeInt32LE(this.wakeFd, 0);
    this.pollfds.writeInt16LE(POLLIN, 4);
    this.polled.forEach((w, i) => this.writeSlot(i, w));
    this.changed = false;
  }

  private preparePollSet(): void {
    if (this.changed) this.rebuild();
    else for (let off = 6; off < this.pollfds.length; off += POLLFD_SIZE) this.pollfds.writeInt16LE(0, off);
  }

  private async run(): Promise<void> {
    this.wakeFd = eventFd();
    try {
      while (this.watches.size > 0) {
        this.preparePollSet();
        this.polling = true;
        let failure: unknown = null;
        try {
          await pollAsync(this.pollfds, this.polled.length + 1, -1);
        } catch (err) {
          failure = err;
        }
        this.polling = false;
        for (const settle of this.afterPoll.splice(0)) settle();
        if (failure) {
          for (const w of this.watches.values()) w.onError(failure);
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        if (this.pollfds.readInt16LE(6) !== 0) readInto(this.wakeFd, this.drainWord, 8);
        this.dispatch();
        // Busy streams are usually ready again by now: a zero-timeout poll on this thread is far
        // cheaper than another round trip through the thread pool. Bounded, to keep the loop fair.
        for (let i = 0; i < SYNC_ROUNDS && this.watches.size > 0; i++) {
          this.preparePollSet();
          if (pollNow(this.pollfds, this.polled.length + 1) === 0) break;
          if (this.pollfds.readInt16LE(6) !== 0) readInto(this.wakeFd, this.drainWord, 8);
          this.dispatch();
        }
      }
    } finally {
      // Drop the last poll set: its handlers would otherwise keep closed streams (and their data) alive.
      this.polled = [];
      this.slots.clear();
      this.changed = true;
      const fd = this.wakeFd;
      this.wakeFd = -1;
      closeFd(fd);
      for (const settle of this.afterPoll.splice(0)) settle();
    }
  }

  private dispatch(): void {
    const batchEnds = new Map<() => void, HandlerErrorSink>();
    this.polled.forEach((w, i) => {
      const revents = this.pollfds.readInt16LE((i + 1) * POLLFD_SIZE + 6) & 0xffff;
      if (revents === 0 || this.watches.get(w.fd) !== w) return; // unwatched meanwhile
      if (revents & POLLNVAL) {
        // Closed without unwatch: stop polling it rather than spin.
        this.watches.delete(w.fd);
        this.changed = true;
      }
      if (w.afterBatch) batchEnds.set(w.afterBatch, w.onError);
      guarded(() => w.onReady(revents), w.onError);
    });
    for (const [end, onError] of batchEnds) guarded(end, onError);
  }
}

/** Runs a handler; what it throws goes to its error sink, and a failing sink is ignored. */
function guarded(fn: () => void, onError: HandlerErrorSink): void {
  try {
    fn();
  } catch (err) {
    try {
      onError(err);
    } catch {
      /* a failing error sink must not stop the loop that every other node relies on */
    }
  }
}

/** The process's one reactor. */
export const reactor = new Reactor();
