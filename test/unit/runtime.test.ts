// The runtime's edges on the fake backend, beyond the happy paths of the stream tests: the event
// fd (EAGAIN, read errors, close while polled, reopen), the output free list both block transports
// share, mmap-block streams hanging up or failing mid-block, DMABUF and write() output ends, and a
// DeviceHandle's reference counting.
import { strict as assert } from 'node:assert';
import { EventStream, IioEvent } from '../../src/events';
import { OutputBlocks, SharedBlock } from '../../src/delivery';
import { BlockCapture, BlockOutput } from '../../src/block';
import { DmabufCapture, DmabufOutput } from '../../src/dmabuf';
import { OutputStream, CapturedBlock } from '../../src/buffer';
import { openOutput } from '../../src/transport';
import { computeLayout } from '../../src/scan';
import { IioError } from '../../src/errors';
import { DeviceHandle } from '../../src/device';
import { encodeEventCode, IIO_EV_DIR, IIO_EV_TYPE, IIO_CHAN_TYPE } from '../../src/uapi';
import { parseScanType } from '../../src/scan';
import { useFakeKernel, adc, deviceInfo, until, u16, FakeBackend } from '../lib/fake-backend';

const RISING = encodeEventCode({ type: IIO_EV_TYPE.THRESH, direction: IIO_EV_DIR.RISING, channelType: IIO_CHAN_TYPE.VOLTAGE, channel: 0 });

function monitor(fake: FakeBackend) {
  const dev = adc(fake, { hasEvents: true });
  const got: IioEvent[] = [];
  const errors: IioError[] = [];
  const s = new EventStream(deviceInfo(fake, dev), { onEvents: (e) => got.push(...e), onError: (e) => errors.push(e) });
  return { dev, s, got, errors };
}

describe('event fd edges (fake backend)', () => {
  const k = useFakeKernel();

  it('EAGAIN on a readable event fd delivers nothing and reports nothing; the next event arrives whole', async () => {
    const { dev, s, got, errors } = monitor(k.fake);
    s.start();
    k.fake.fail('read', 'EAGAIN');
    k.fake.raiseEvent(dev, RISING, 42n);
    await until(() => got.length === 1, 'the event on the next wake-up');
    assert.equal(got[0].timestamp, 42n);
    assert.deepEqual(errors, []);
    await s.close();
  });

  it('a read error on the event fd (EIO) reaches onError naming the device and read, and the monitor keeps its fd until closed', async () => {
    const { dev, s, errors } = monitor(k.fake);
    s.start();
    k.fake.fail('read', 'EIO');
    k.fake.raiseEvent(dev, RISING, 1n);
    await until(() => errors.length === 1, 'the error');
    assert.equal(errors[0].code, 'EIO');
    assert.equal(errors[0].syscall, 'read');
    assert.equal(errors[0].device, 'fake-adc');
    assert.equal(s.running, true);
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });

  it('close with the poll in flight: the event fd closes only after the poll returned, and no event is delivered after', async () => {
    const { dev, s, got } = monitor(k.fake);
    s.start();
    await until(() => k.fake.pollsWaiting === 1, 'the poll in flight');
    const closedWhilePolled = k.fake.spyCloseDuringPoll();
    await s.close();
    k.fake.raiseEvent(dev, RISING, 1n);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(closedWhilePolled(), false);
    assert.equal(got.length, 0);
    assert.equal(k.fake.openFds(), 0);
  });

  it('close twice is harmless; start after close opens the event fd and the chardev again', async () => {
    const { dev, s, got } = monitor(k.fake);
    s.start();
    await s.close();
    await s.close();
    assert.equal(DeviceHandle.openCount(), 0);
    s.start();
    assert.equal(k.fake.openFds('events'), 1);
    k.fake.raiseEvent(dev, RISING, 7n);
    await until(() => got.length === 1, 'the event after reopening');
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });
});

/** A block as OutputBlocks sees it. */
function blk(n: number): SharedBlock & { n: number } {
  return { n, view: Buffer.alloc(8), escaped: false };
}

describe('OutputBlocks: the output free list of DMABUF and mmap blocks', () => {
  const layout = computeLayout([{ name: 'voltage0', index: 0, type: parseScanType('le:u16/16>>0'), isTimestamp: false }]);
  function pool(running = true) {
    const drains: number[] = [];
    const shape = { running, device: { name: 'dac' }, layout, scansPerBlock: 4 };
    const p = new OutputBlocks<ReturnType<typeof blk>>(shape, 8, () => drains.push(p.available));
    p.reset([blk(0), blk(1)]);
    return { p, drains };
  }

  it('takes one block per write, in order, and false (taking nothing) once none is free', () => {
    const { p } = pool();
    const queued: number[] = [];
    const fill = (b: { view: Buffer | null }) => Buffer.from([1, 2]).copy(b.view!);
    assert.equal(p.write(Buffer.alloc(2), fill, (b) => queued.push(b.n)), true);
    assert.equal(p.write(Buffer.alloc(8), fill, (b) => queued.push(b.n)), true);
    assert.equal(p.write(Buffer.alloc(2), fill, (b) => queued.push(b.n)), false);
    assert.deepEqual(queued, [0, 1]);
    assert.equal(p.written, 10);
    assert.equal(p.available, 0);
  });

  it('EPIPE when not running, EINVAL for a non-Buffer, nothing, a partial scan or more than a block — before any block is taken', () => {
    const stopped = pool(false).p;
    assert.throws(() => stopped.write(Buffer.alloc(2), () => undefined, () => undefined), (e: IioError) => e.code === 'EPIPE' && e.device === 'dac');
    const { p } = pool();
    for (const bad of [Buffer.alloc(0), Buffer.alloc(3), Buffer.alloc(10), 'xx' as unknown as Buffer, new Uint16Array(2) as unknown as Buffer]) {
      assert.throws(() => p.write(bad, () => undefined, () => undefined), (e: IioError) => e.code === 'EINVAL' && /whole 2-byte scans/.test(e.message));
    }
    assert.equal(p.available, 2);
    assert.equal(p.written, 0);
  });

  it('a block whose queueing fails is free again, first in line, and the error is the caller’s', () => {
    const { p } = pool();
    const err = new IioError({ code: 'EIO', detail: 'enqueue failed' });
    assert.throws(() => p.write(Buffer.alloc(2), () => undefined, () => { throw err; }), (e) => e === err);
    assert.equal(p.available, 2);
    assert.equal(p.written, 0);
    const queued: number[] = [];
    p.write(Buffer.alloc(2), () => undefined, (b) => queued.push(b.n));
    assert.deepEqual(queued, [0], 'the same block again');
  });

  it('onDrain runs once, after a refused write, when a block came back; not when nobody waited', () => {
    const { p, drains } = pool();
    const none = () => undefined;
    const taken: Array<ReturnType<typeof blk>> = [];
    p.write(Buffer.alloc(2), none, (b) => taken.push(b));
    p.giveBack(taken[0]);
    p.drained();
    assert.deepEqual(drains, [], 'nobody was refused');
    p.write(Buffer.alloc(2), none, (b) => taken.push(b));
    p.write(Buffer.alloc(2), none, (b) => taken.push(b));
    assert.equal(p.write(Buffer.alloc(2), none, none), false);
    p.drained();
    assert.deepEqual(drains, [], 'nothing came back yet');
    p.giveBack(taken[1]);
    p.drained();
    p.drained();
    assert.deepEqual(drains, [1]);
  });
});

describe('mmap-block and DMABUF streams ending badly (fake backend)', () => {
  const k = useFakeKernel();
  const opts = (errors: IioError[], blocks: CapturedBlock[] = []) => ({ scansPerBlock: 4, blocks: 4, onBlock: (b: CapturedBlock) => blocks.push({ ...b, data: Buffer.from(b.data) }), onError: (e: IioError) => errors.push(e) });

  it('mmap blocks: a device removed while capturing is reported once as ENODEV, and every block is unmapped and freed', async () => {
    const dev = adc(k.fake, { blockApi: true });
    const errors: IioError[] = [];
    const s = new BlockCapture(deviceInfo(k.fake, dev), opts(errors));
    s.start();
    k.fake.removeDevice(dev);
    await until(() => errors.length >= 1 && !s.running, 'the hang-up');
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'ENODEV');
    await s.close();
    assert.equal(k.fake.mapped, 0);
    assert.equal(k.fake.openFds(), 0);
    assert.equal(DeviceHandle.openCount(), 0);
  });

  it('mmap blocks: a DEQUEUE failing mid-stream (EIO) is reported naming the ioctl; blocks delivered before it were exact', async () => {
    const dev = adc(k.fake, { blockApi: true });
    const errors: IioError[] = [];
    const blocks: CapturedBlock[] = [];
    const s = new BlockCapture(deviceInfo(k.fake, dev), opts(errors, blocks));
    s.start();
    k.fake.finishMmapBlock(dev, 0, u16(1, 2, 3, 4));
    await until(() => blocks.length === 1, 'the first block');
    k.fake.fail('ioctl', 'EIO', 1, (name) => name === 'BLOCK_DEQUEUE');
    k.fake.finishMmapBlock(dev, 0, u16(5, 6, 7, 8));
    await until(() => errors.length === 1, 'the DEQUEUE error');
    assert.equal(errors[0].code, 'EIO');
    assert.match(errors[0].message, /IIO_BUFFER_BLOCK_DEQUEUE_IOCTL/);
    assert.deepEqual([...blocks[0].data], [...u16(1, 2, 3, 4)]);
    await s.close();
    assert.equal(k.fake.mapped, 0);
    assert.equal(k.fake.openFds(), 0);
  });

  it('mmap-block output: close while blocks are queued unmaps and frees them all, and a write after close is EPIPE', async () => {
    const dev = adc(k.fake, { blockApi: true, buffers: [{ direction: 'out', blockApi: true, elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    const errors: IioError[] = [];
    const out = new BlockOutput(deviceInfo(k.fake, dev), { scansPerBlock: 4, blocks: 2, onError: (e) => errors.push(e) });
    out.start();
    assert.equal(out.write(u16(1, 2, 3, 4)), true);
    assert.equal(out.available, 1);
    await out.close();
    assert.equal(k.fake.mapped, 0);
    assert.equal(k.fake.openFds(), 0);
    assert.throws(() => out.write(u16(1)), (e: IioError) => e.code === 'EPIPE');
    assert.deepEqual(errors, []);
  });

  it('DMABUF capture: close with the poll in flight closes the buffer fd and the DMABUFs only after the poll returned', async () => {
    const dev = adc(k.fake, { dmabuf: true });
    const errors: IioError[] = [];
    const s = new DmabufCapture(deviceInfo(k.fake, dev), opts(errors));
    s.start();
    await until(() => k.fake.pollsWaiting === 1, 'the poll in flight');
    const closedWhilePolled = k.fake.spyCloseDuringPoll();
    await s.close();
    assert.equal(closedWhilePolled(), false);
    assert.equal(k.fake.openFds(), 0);
    assert.equal(k.fake.mapped, 0);
    assert.deepEqual(errors, []);
  });

  it('DMABUF output: a device removed with a block queued is reported once as ENODEV and everything is freed', async () => {
    const dev = adc(k.fake, { buffers: [{ direction: 'out', dmabuf: true, elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    const errors: IioError[] = [];
    const out = new DmabufOutput(deviceInfo(k.fake, dev), { scansPerBlock: 4, blocks: 2, onError: (e) => errors.push(e) });
    out.start();
    out.write(u16(1, 2, 3, 4));
    k.fake.removeDevice(dev);
    k.fake.failFence(dev.buffers[0].queue[0].fd);
    await until(() => errors.length >= 1 && !out.running, 'the hang-up');
    assert.equal(errors[0].code, 'ENODEV');
    await out.close();
    assert.equal(k.fake.openFds(), 0);
    assert.equal(k.fake.mapped, 0);
  });

  it('write() output: EAGAIN keeps the block queued and writes it whole once the kernel takes it', async () => {
    const dev = adc(k.fake, { buffers: [{ direction: 'out', elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    const errors: IioError[] = [];
    const s = new OutputStream(deviceInfo(k.fake, dev), { scansPerBlock: 4, onError: (e) => errors.push(e) });
    s.start();
    k.fake.fail('write', 'EAGAIN', 1, (fd) => fd === s.fd);
    const answers: Array<number | null> = [];
    const write = k.fake.write.bind(k.fake);
    k.fake.write = (fd, buf, length, site) => {
      const n = write(fd, buf, length, site);
      if (fd === s.fd) answers.push(n);
      return n;
    };
    s.write(u16(9, 8, 7, 6));
    await until(() => s.written === 8, 'written after EAGAIN');
    assert.deepEqual(answers, [null, 8], 'EAGAIN first, then the whole block');
    assert.deepEqual([...Buffer.concat(dev.buffers[0].data)], [...u16(9, 8, 7, 6)]);
    assert.deepEqual(errors, []);
    await s.close();
  });

  it('write() output: close ends a cyclic block’s repeats (nothing written after close)', async () => {
    const dev = adc(k.fake, { buffers: [{ direction: 'out', elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    const out = openOutput(deviceInfo(k.fake, dev), { scansPerBlock: 2, blocks: 2, onError: () => undefined }, 'write');
    out.write(u16(1, 2), true);
    await until(() => dev.buffers[0].data.length >= 2, 'repeats');
    await out.close();
    const after = dev.buffers[0].data.length;
    dev.buffers[0].data.length = 0;
    dev.buffers[0].room = 1 << 20;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(dev.buffers[0].data.length, 0, `no repeat after close (had ${after})`);
    assert.equal(out.running, false);
    assert.equal(k.fake.openFds(), 0);
  });
});
