// The poll reactor when the process runs out of file descriptors (EMFILE): it must back off,
// keep the event loop running, tell each owner once, and work again once fds are free.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { Reactor, GIVE_UP_AFTER, RETRY_FIRST_MS, RETRY_MAX_MS } from '../../src/reactor';
import { POLLIN } from '../../src/libc';
import { IioError } from '../../src/errors';
import { sleep, waitFor } from '../lib/hw';

describe('reactor under fd exhaustion', function () {
  this.timeout(60000);
  const held: number[] = [];

  /** Opens /dev/null until open() fails with EMFILE. */
  function exhaustFds(): void {
    for (;;) {
      try {
        held.push(fs.openSync('/dev/null', 'r'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EMFILE') return;
        throw err;
      }
      if (held.length > 1_000_000) throw new Error('no fd limit in sight');
    }
  }
  const release = () => {
    for (const fd of held.splice(0)) fs.closeSync(fd);
  };
  afterEach(release);

  it('EMFILE: backs off (a 200 ms timer still fires), tells the owner once, drops the watch, and recovers', async () => {
    const r = new Reactor();
    exhaustFds();
    const watched = held[held.length - 1];
    const errors: unknown[] = [];
    let ready = 0;
    let timerAt = 0;
    const t0 = Date.now();
    const timer = setTimeout(() => (timerAt = Date.now() - t0), 200);
    r.watch(
      watched,
      POLLIN,
      () => ready++,
      (err) => {
        errors.push(err);
        // Without a back-off this sink is called in a tight loop that starves the event loop:
        // end it (no watches, no loop) so the test can report the count instead of hanging.
        if (errors.length >= 1000) void r.unwatch(watched);
      },
    );
    try {
      await waitFor(() => errors.length > 0 && r.size === 0, 'the reactor to give up', 30000);
      await sleep(RETRY_MAX_MS + 200); // any further report would come within the longest back-off
    } finally {
      clearTimeout(timer);
      release();
    }
    assert.equal(errors.length, 1, `onError was called ${errors.length} times`);
    const e = errors[0] as IioError;
    assert.ok(e instanceof IioError);
    assert.equal(e.code, 'EMFILE');
    assert.equal(e.syscall, 'eventfd');
    assert.ok(timerAt > 0, 'the 200 ms timer never fired: the event loop starved');
    let backoff = 0;
    for (let i = 0; i < GIVE_UP_AFTER - 1; i++) backoff += Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** i);
    assert.ok(Date.now() - t0 >= backoff, 'it gave up without backing off');
    assert.equal(ready, 0);
    // With fds free again the same reactor works: a new watch is polled.
    const fd = fs.openSync('/dev/null', 'r');
    try {
      r.watch(fd, POLLIN, () => {
        ready++;
        void r.unwatch(fd);
      }, (err) => errors.push(err));
      await waitFor(() => ready === 1 && r.size === 0, 'a poll after recovery');
      assert.equal(errors.length, 1);
    } finally {
      await r.unwatch(fd);
      fs.closeSync(fd);
    }
  });
});
