// The event-loop reader on a real kernel fd of the host (an eventfd: pollable, readable, an anon
// inode like IIO's buffer and event fds): reads land in the sink's memory, the caller's fd stays
// open and usable, close lets go of the duplicate, and a failing read or sink is an error, not a crash.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { localBackend as k } from '../../src/local-backend';
import { loopReadable, readOnLoop } from '../../src/loop-reader';
import { IioError } from '../../src/errors';

const openFds = () => fs.readdirSync('/proc/self/fd').length;
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('event-loop reader (host eventfd)', function () {
  before(function () {
    if (!loopReadable()) this.skip();
  });

  it('reads each value into the sink\'s buffer as it becomes readable; close releases only the duplicate', async () => {
    assert.equal(typeof k.readOnLoop, 'function');
    const fd = k.eventFd();
    const before = openFds();
    const buf = Buffer.alloc(8);
    const got: bigint[] = [];
    const errors: unknown[] = [];
    const r = readOnLoop(fd, { target: () => buf, onRead: (n) => got.push(n === 8 ? buf.readBigUInt64LE(0) : -1n), onError: (e) => errors.push(e) }, { path: 'eventfd' });
    assert.equal(openFds(), before + 1, 'one duplicate fd while reading');
    k.write(fd, u64(5n), 8);
    await tick();
    k.write(fd, u64(7n), 8);
    k.write(fd, u64(1n), 8); // an eventfd adds up: one read of 8
    await tick();
    assert.deepEqual(got, [5n, 8n]);
    await r.close();
    assert.equal(openFds(), before, 'the duplicate is closed');
    // The caller's fd is still open and its own.
    k.write(fd, u64(3n), 8);
    const back = Buffer.alloc(8);
    assert.equal(k.read(fd, back, 8), 8);
    assert.equal(back.readBigUInt64LE(0), 3n);
    assert.deepEqual(errors, []);
    k.close(fd);
  });

  it('a read the kernel refuses is an IioError naming read, the path and the errno (EINVAL: an eventfd read needs 8 bytes)', async () => {
    const fd = k.eventFd();
    const errors: IioError[] = [];
    const r = readOnLoop(fd, { target: () => Buffer.alloc(4), onRead: () => assert.fail('nothing to read'), onError: (e) => errors.push(e as IioError) }, { path: 'eventfd', device: 'test' });
    k.write(fd, u64(1n), 8);
    await tick();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof IioError);
    assert.equal(errors[0].code, 'EINVAL');
    assert.match(errors[0].message, /read/);
    assert.match(errors[0].message, /eventfd/);
    await r.close();
    k.close(fd);
  });

  it('a sink that throws while taking a read reports to its onError and the process goes on', async () => {
    const fd = k.eventFd();
    const buf = Buffer.alloc(8);
    const errors: unknown[] = [];
    let reads = 0;
    const r = readOnLoop(fd, { target: () => buf, onRead: () => { reads++; throw new Error('flow failed'); }, onError: (e) => errors.push(e) });
    k.write(fd, u64(1n), 8);
    await tick();
    k.write(fd, u64(1n), 8);
    await tick();
    assert.equal(reads, 2, 'reading goes on');
    assert.deepEqual(errors.map((e) => (e as Error).message), ['flow failed', 'flow failed']);
    await r.close();
    k.close(fd);
  });

  it('a sink whose target() or onError throws costs an error report, never the process', async () => {
    const fd = k.eventFd();
    const buf = Buffer.alloc(8);
    let calls = 0;
    let reads = 0;
    const errors: unknown[] = [];
    const r = readOnLoop(fd, {
      target: () => {
        if (++calls === 2) throw new Error('no memory for you');
        return buf;
      },
      onRead: () => {
        reads++;
      },
      onError: (e) => {
        errors.push(e);
        throw new Error('and the error sink fails too');
      },
    });
    k.write(fd, u64(1n), 8);
    await tick();
    k.write(fd, u64(1n), 8);
    await tick();
    assert.equal(reads, 2, 'the second read went into the fallback buffer');
    assert.deepEqual(errors.map((e) => (e as Error).message), ['no memory for you']);
    await r.close();
    k.close(fd);
  });

  it('refuses a bad fd before any call', () => {
    assert.throws(() => readOnLoop(-1, { target: () => Buffer.alloc(8), onRead: () => {}, onError: () => {} }), (e: IioError) => e.code === 'EINVAL');
  });
});
