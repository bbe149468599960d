// The poll reactor on the fake backend: dispatch, pausing, unwatching while a poll is in flight,
// handler errors, and the loop's own failures (retry, then give up).
import { strict as assert } from 'node:assert';
import { Reactor, GIVE_UP_AFTER } from '../../src/reactor';
import { IioError } from '../../src/errors';
import { POLLIN, POLLNVAL, POLLOUT } from '../../src/uapi';
import { FakeBackend, until } from '../lib/fake-backend';

describe('reactor (fake backend)', () => {
  let fake: FakeBackend;
  let r: Reactor;
  const word = Buffer.alloc(8);
  const ring = (fd: number) => fake.write(fd, word, 8);
  const drain = (fd: number) => fake.read(fd, word, 8);
  const never = () => assert.fail('unexpected call');
  /** Watches a rung eventfd; the count of handler calls (each drains it). */
  const counted = (fd: number) => {
    const calls = { n: 0 };
    r.watch(fd, POLLIN, () => {
      drain(fd);
      calls.n++;
    }, never);
    ring(fd);
    return calls;
  };

  beforeEach(() => {
    fake = new FakeBackend();
    r = new Reactor(fake);
  });
  afterEach(async () => {
    assert.equal(r.size, 0, 'test left fds watched');
    await r.whenIdle();
    assert.equal(fake.openFds('eventfd'), 0, 'wake fd or test fds left open');
  });

  it('calls the handler with POLLIN when the fd becomes readable, and not before', async () => {
    const fd = fake.eventFd();
    const seen: number[] = [];
    r.watch(fd, POLLIN, (rev) => {
      seen.push(rev);
      drain(fd);
    }, never);
    await until(() => fake.pollsWaiting === 1, 'the loop to poll');
    assert.deepEqual(seen, []);
    ring(fd);
    await until(() => seen.length === 1, 'the handler');
    assert.deepEqual(seen, [POLLIN]);
    await r.unwatch(fd);
    fake.close(fd);
  });

  it('setEvents(fd, 0) pauses an fd and setEvents(fd, POLLIN) resumes it', async () => {
    const fd = fake.eventFd();
    let calls = 0;
    r.watch(fd, POLLIN, () => {
      calls++;
      r.setEvents(fd, 0); // consume nothing: a level-triggered fd would spin if not paused
    }, never);
    ring(fd);
    await until(() => calls === 1, 'the first call');
    await until(() => fake.pollsWaiting === 1, 'the loop to wait again');
    assert.equal(calls, 1);
    r.setEvents(fd, POLLIN);
    await until(() => calls === 2, 'the call after resuming');
    await r.unwatch(fd);
    fake.close(fd);
  });

  it('unwatch resolves only after the poll in flight has returned, and the handler is not called after it', async () => {
    const fd = fake.eventFd();
    let calls = 0;
    r.watch(fd, POLLIN, () => calls++, never);
    await until(() => fake.pollsWaiting === 1, 'the loop to poll');
    const done = r.unwatch(fd);
    assert.equal(r.size, 0);
    await done;
    assert.equal(fake.pollsWaiting, 0, 'the poll was woken through the eventfd');
    ring(fd);
    await new Promise((res) => setTimeout(res, 10));
    assert.equal(calls, 0);
    fake.close(fd);
  });

  it('reports a throwing handler to its own error sink and keeps serving the other fds', async () => {
    const bad = fake.eventFd();
    const good = fake.eventFd();
    const errors: unknown[] = [];
    let goodCalls = 0;
    r.watch(bad, POLLIN, () => {
      drain(bad);
      throw new IioError({ code: 'EIO', detail: 'handler broke' });
    }, (e) => errors.push(e));
    r.watch(good, POLLIN, () => {
      drain(good);
      goodCalls++;
    }, never);
    ring(bad);
    ring(good);
    await until(() => errors.length === 1 && goodCalls === 1, 'both fds handled');
    assert.equal((errors[0] as IioError).code, 'EIO');
    ring(good);
    await until(() => goodCalls === 2, 'the loop still running');
    await Promise.all([r.unwatch(bad), r.unwatch(good)]);
    fake.close(bad);
    fake.close(good);
  });

  it('survives an error sink that throws', async () => {
    const fd = fake.eventFd();
    let calls = 0;
    r.watch(fd, POLLIN, () => {
      drain(fd);
      calls++;
      throw new Error('handler');
    }, () => {
      throw new Error('sink');
    });
    ring(fd);
    await until(() => calls === 1, 'first call');
    ring(fd);
    await until(() => calls === 2, 'second call: the loop lives');
    await r.unwatch(fd);
    fake.close(fd);
  });

  it('drops an fd closed without unwatch (POLLNVAL) instead of spinning on it', async () => {
    const fd = fake.eventFd();
    const seen: number[] = [];
    r.watch(fd, POLLIN, (rev) => seen.push(rev), never);
    await until(() => fake.pollsWaiting === 1, 'the loop to poll');
    fake.close(fd);
    await until(() => r.size === 0, 'the watch to be dropped');
    assert.deepEqual(seen, [POLLNVAL]);
  });

  it('runs a shared afterBatch once after all the fds ready in one poll', async () => {
    const fds = [fake.eventFd(), fake.eventFd(), fake.eventFd()];
    const order: string[] = [];
    const after = () => order.push('batch');
    for (const fd of fds) r.watch(fd, POLLIN, () => {
      drain(fd);
      order.push(`fd${fds.indexOf(fd)}`);
    }, never, after);
    await until(() => fake.pollsWaiting === 1, 'the loop to poll');
    for (const fd of fds) fake.write(fd, word, 8);
    await until(() => order.includes('batch'), 'the batch end');
    assert.deepEqual(order, ['fd0', 'fd1', 'fd2', 'batch']);
    await Promise.all(fds.map((fd) => r.unwatch(fd)));
    fds.forEach((fd) => fake.close(fd));
  });

  it('waits for POLLOUT when asked for it', async () => {
    const fd = fake.eventFd(); // an eventfd is always writable
    const seen: number[] = [];
    r.watch(fd, POLLOUT, (rev) => {
      seen.push(rev);
      r.setEvents(fd, 0);
    }, never);
    await until(() => seen.length === 1, 'POLLOUT');
    assert.deepEqual(seen, [POLLOUT]);
    await r.unwatch(fd);
    fake.close(fd);
  });

  it('retries when the loop cannot start (EMFILE for its eventfd) and recovers without telling anyone', async () => {
    const fd = fake.eventFd();
    fake.fail('eventFd', 'EMFILE', 2);
    const calls = counted(fd);
    await until(() => calls.n === 1, 'the handler after two failed starts');
    await r.unwatch(fd);
    fake.close(fd);
  });

  it('retries a failing poll (ENOMEM)', async () => {
    fake.fail('poll', 'ENOMEM', 3);
    const fd = fake.eventFd();
    const calls = counted(fd);
    await until(() => calls.n === 1, 'the handler after three failed polls');
    await r.unwatch(fd);
    fake.close(fd);
  });

  it(`gives up after ${GIVE_UP_AFTER} failures in a row: every watch is dropped and its owner told once`, async function () {
    this.timeout(10000);
    const a = fake.eventFd();
    const b = fake.eventFd();
    fake.fail('eventFd', 'EMFILE', GIVE_UP_AFTER);
    const errors: string[] = [];
    r.watch(a, POLLIN, never, (e) => errors.push(`a:${(e as IioError).code}`));
    r.watch(b, POLLIN, never, (e) => errors.push(`b:${(e as IioError).code}`));
    await until(() => errors.length === 2, 'both owners told', 8000);
    assert.deepEqual(errors.sort(), ['a:EMFILE', 'b:EMFILE']);
    assert.equal(r.size, 0);
    // A new watch afterwards starts a fresh loop.
    let calls = 0;
    r.watch(a, POLLIN, () => {
      drain(a);
      calls++;
    }, never);
    ring(a);
    await until(() => calls === 1, 'a fresh loop');
    await r.unwatch(a);
    fake.close(a);
    fake.close(b);
  });

  it('closes its wake eventfd once nothing is watched', async () => {
    const fd = fake.eventFd();
    r.watch(fd, POLLIN, never, never);
    await until(() => fake.openFds('eventfd') === 2, 'the wake fd');
    await r.unwatch(fd);
    await r.whenIdle();
    assert.equal(fake.openFds('eventfd'), 1);
    fake.close(fd);
  });
});
