// DMABUF capture and output on the fake backend: the pool's life cycle (allocate, map, attach,
// enqueue, detach, free), completion order, cancelled blocks, and when `auto` falls back to read().
import { strict as assert } from 'node:assert';
import { DmabufCapture, DmabufOutput } from '../../src/dmabuf';
import { openInput, openOutput } from '../../src/transport';
import { CapturedBlock } from '../../src/buffer';
import { IioError } from '../../src/errors';
import { DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE, IIO_BUFFER_DMABUF_CYCLIC } from '../../src/uapi';
import { useFakeKernel, adc, deviceInfo, until, u16, FakeBackend, FakeDevice } from '../lib/fake-backend';

const base = '/sys/bus/iio/devices/iio:device0';

function setup(fake: FakeBackend, dmabuf = true, payload: 'copy' | 'borrow' | 'zerocopy' = 'copy') {
  const dev = adc(fake, { dmabuf });
  const blocks: CapturedBlock[] = [];
  const errors: IioError[] = [];
  const opts = { scansPerBlock: 4, blocks: 4, payload, onBlock: (b: CapturedBlock) => blocks.push({ ...b, data: Buffer.from(b.data) }), onError: (e: IioError) => errors.push(e) };
  return { dev, info: deviceInfo(fake, dev), blocks, errors, opts };
}

describe('DMABUF capture (fake backend)', () => {
  const k = useFakeKernel();

  it('allocates, attaches and enqueues the whole pool before enabling the buffer', async () => {
    const { info, opts, dev } = setup(k.fake);
    let ioctlsAtEnable: string[] = [];
    k.fake.onWrite = (file, text) => {
      if (file === `${base}/buffer0/enable` && text === '1') ioctlsAtEnable = [...k.fake.ioctls];
    };
    const s = new DmabufCapture(info, opts);
    s.start();
    const pool = ['DMA_HEAP_IOCTL_ALLOC', 'ATTACH'];
    const canary = ['DMA_BUF_IOCTL_SYNC', 'DMA_BUF_IOCTL_SYNC', 'ENQUEUE'];
    assert.deepEqual(ioctlsAtEnable, ['IIO_BUFFER_GET_FD_IOCTL', ...pool, ...pool, ...pool, ...pool, ...canary, ...canary, ...canary, ...canary]);
    assert.equal(dev.buffers[0].queue.length, 4);
    assert.deepEqual(dev.buffers[0].queue.map((q) => q.bytesUsed), [8, 8, 8, 8]);
    assert.equal(k.fake.mapped, 4);
    await s.close();
  });

  it('delivers completed blocks in enqueue order with exactly the bytes the device wrote, and requeues each', async () => {
    const { info, opts, dev, blocks } = setup(k.fake);
    const s = new DmabufCapture(info, opts);
    s.start();
    k.fake.completeBlock(dev, 0, u16(1, 2, 3, 4));
    await until(() => blocks.length === 1, 'the first block');
    k.fake.completeBlock(dev, 0, u16(5, 6, 7, 8));
    await until(() => blocks.length === 2, 'the second block');
    assert.deepEqual(blocks.map((b) => [...b.data]), [[...u16(1, 2, 3, 4)], [...u16(5, 6, 7, 8)]]);
    assert.deepEqual(blocks.map((b) => [b.sequence, b.overrun, b.scans]), [[1, false, 4], [2, false, 4]]);
    assert.equal(dev.buffers[0].queue.length, 4, 'every delivered block went back to the device');
    await s.close();
  });

  it('brackets CPU access with DMA_BUF_IOCTL_SYNC: START before reading, END before requeueing', async () => {
    const { info, opts, dev, blocks } = setup(k.fake);
    const s = new DmabufCapture(info, opts);
    s.start();
    const fd = k.fake.completeBlock(dev, 0, u16(1, 2, 3, 4));
    await until(() => blocks.length === 1, 'a block');
    const st = k.fake.fds.get(fd) as { syncs: number[] };
    const RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
    assert.deepEqual(st.syncs, [DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_START | RW, DMA_BUF_SYNC_END | RW]);
    await s.close();
  });

  it('drops a block that completed unfilled (cancelled), counts it, and flags the next delivered block as an overrun', async () => {
    const { info, opts, dev, blocks } = setup(k.fake);
    const s = new DmabufCapture(info, opts);
    s.start();
    k.fake.completeBlock(dev, 0, undefined, true);
    await until(() => s.cancelled === 1, 'the cancelled block');
    assert.equal(blocks.length, 0);
    k.fake.completeBlock(dev, 0, u16(9, 9, 9, 9));
    await until(() => blocks.length === 1, 'the next block');
    // The block after the gap is the one requeued after the cancellation: its predecessors in the queue carry no flag.
    k.fake.completeBlock(dev, 0, u16(1, 1, 1, 1));
    k.fake.completeBlock(dev, 0, u16(2, 2, 2, 2));
    await until(() => blocks.length === 3, 'three blocks');
    k.fake.completeBlock(dev, 0, u16(3, 3, 3, 3));
    await until(() => blocks.length === 4, 'the requeued block');
    assert.deepEqual(blocks.map((b) => b.overrun), [false, false, false, true]);
    assert.equal(s.overruns, 1);
    await s.close();
  });

  it('reports a failing requeue mid-stream (ENQUEUE: EIO) with the ioctl named, and keeps delivering what it had', async () => {
    const { info, opts, dev, blocks, errors } = setup(k.fake);
    const s = new DmabufCapture(info, opts);
    s.start();
    k.fake.fail('ioctl', 'EIO', 1, (name) => name === 'ENQUEUE');
    k.fake.completeBlock(dev, 0, u16(1, 2, 3, 4));
    await until(() => errors.length === 1, 'the error');
    assert.equal(errors[0].code, 'EIO');
    assert.match(errors[0].message, /IIO_BUFFER_DMABUF_ENQUEUE_IOCTL/);
    assert.equal(errors[0].device, 'fake-adc');
    assert.deepEqual(blocks.map((b) => [...b.data]), [], 'a copy is delivered only after its block went back');
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });

  it('a hang-up on a block (POLLERR: device removed) is reported once as ENODEV and everything is freed', async () => {
    const { info, opts, dev, errors } = setup(k.fake);
    const s = new DmabufCapture(info, opts);
    s.start();
    k.fake.removeDevice(dev);
    k.fake.failFence(dev.buffers[0].queue[0].fd);
    await until(() => errors.length >= 1 && !s.running, 'the hang-up');
    assert.equal(errors[0].code, 'ENODEV');
    await s.close();
    assert.equal(k.fake.openFds(), 0);
    assert.equal(k.fake.mapped, 0);
  });

  it('stop detaches every block, unmaps and closes it, and closes the buffer fd', async () => {
    const { info, opts } = setup(k.fake);
    const s = new DmabufCapture(info, opts);
    s.start();
    await s.close();
    assert.equal(k.fake.ioctls.filter((i) => i === 'DETACH').length, 4);
    assert.equal(k.fake.mapped, 0);
    assert.equal(k.fake.openFds(), 0);
  });

  it('zero-copy: a block handed out is replaced by zeros when released, never unmapped under the view', async () => {
    const { info, dev } = setup(k.fake);
    const views: Buffer[] = [];
    const s = new DmabufCapture(info, { scansPerBlock: 4, blocks: 4, payload: 'zerocopy', onBlock: (b) => views.push(b.data), onError: assert.fail });
    s.start();
    k.fake.completeBlock(dev, 0, u16(4, 3, 2, 1));
    await until(() => views.length === 1, 'a block');
    assert.deepEqual([...views[0]], [...u16(4, 3, 2, 1)]);
    await s.close();
    assert.deepEqual([...views[0]], [...Buffer.alloc(8)], 'the stale view reads zeros');
    assert.equal(k.fake.mapped, 1, 'the placeholder stays mapped until the view is collected');
  });

  it('auto falls back to read() when the buffer has no DMABUF support (EPERM), freeing the pool', async () => {
    const { info, opts } = setup(k.fake, false);
    const started = openInput(info, opts, 'auto');
    assert.equal(started.transport, 'read');
    assert.equal(started.fallback, 'EPERM');
    assert.equal(k.fake.openFds('dmabuf'), 0);
    assert.equal(k.fake.mapped, 0);
    await started.stream.close();
  });

  it('auto falls back when no allocator exists (ENOENT), and says so', async () => {
    const { info, opts } = setup(k.fake);
    k.fake.heap = false;
    const started = openInput(info, opts, 'auto');
    assert.deepEqual([started.transport, started.fallback], ['read', 'ENOENT']);
    await started.stream.close();
  });

  it('auto does not hide a shortage behind a fallback: ENOMEM from the heap is reported', () => {
    const { info, opts } = setup(k.fake);
    k.fake.fail('ioctl', 'ENOMEM', 1, (name) => name === 'DMA_HEAP_IOCTL_ALLOC');
    k.fake.fail('sealedMemfd', 'ENOMEM');
    assert.throws(() => openInput(info, opts, 'auto'), (e: IioError) => e.code === 'ENOMEM' && /cannot allocate a 4096-byte DMABUF/.test(e.message));
    assert.equal(k.fake.openFds(), 0);
  });

  it('transport dmabuf never falls back; transport read never tries DMABUF', async () => {
    const { info, opts } = setup(k.fake, false);
    assert.throws(() => openInput(info, opts, 'dmabuf'), (e: IioError) => e.code === 'EPERM' && /ATTACH/.test(e.message));
    assert.equal(k.fake.openFds(), 0);
    k.fake.ioctls.length = 0;
    const started = openInput(info, opts, 'read');
    assert.deepEqual([started.transport, started.fallback], ['read', undefined]);
    assert.deepEqual(k.fake.ioctls, ['IIO_BUFFER_GET_FD_IOCTL']);
    await started.stream.close();
  });

  it('rejects a pool of fewer than 2 or more than 64 blocks with EINVAL', () => {
    const { info, opts } = setup(k.fake);
    for (const blocks of [1, 65, 2.5]) assert.throws(() => new DmabufCapture(info, { ...opts, blocks }), (e: IioError) => e.code === 'EINVAL');
  });
});

describe('DMABUF output (fake backend)', () => {
  const k = useFakeKernel();

  function dac(fake: FakeBackend): { dev: FakeDevice; s: DmabufOutput; drained: () => number } {
    const dev = fake.addDevice({ name: 'fake-dac', buffers: [{ direction: 'out', dmabuf: true, elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    let drains = 0;
    const s = new DmabufOutput(deviceInfo(fake, dev), { scansPerBlock: 4, blocks: 2, onError: assert.fail, onDrain: () => drains++ });
    return { dev, s, drained: () => drains };
  }

  it('enqueues a written block with its exact bytes_used and the CYCLIC flag when asked', async () => {
    const { dev, s } = dac(k.fake);
    s.start();
    assert.equal(s.write(u16(1, 2, 3), true), true);
    const q = dev.buffers[0].queue;
    assert.deepEqual(q.map((x) => [x.bytesUsed, x.flags]), [[6, IIO_BUFFER_DMABUF_CYCLIC]]);
    assert.deepEqual([...dev.buffers[0].data[0]], [...u16(1, 2, 3)]);
    assert.equal(s.written, 6);
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });

  it('returns false when every block is queued, and calls onDrain when one completes', async () => {
    const { dev, s, drained } = dac(k.fake);
    s.start();
    assert.equal(s.write(u16(1, 1, 1, 1)), true);
    assert.equal(s.write(u16(2, 2, 2, 2)), true);
    assert.equal(s.available, 0);
    assert.equal(s.write(u16(3, 3, 3, 3)), false);
    k.fake.completeBlock(dev, 0, undefined, true);
    await until(() => drained() === 1, 'onDrain');
    assert.equal(s.available, 1);
    assert.equal(s.write(u16(3, 3, 3, 3)), true);
    assert.deepEqual(dev.buffers[0].data.map((d) => d.readUInt16LE(0)), [1, 2, 3]);
    await s.close();
  });

  it('refuses more than one block, partial scans, and writes when stopped', async () => {
    const { s } = dac(k.fake);
    assert.throws(() => s.write(u16(1)), (e: IioError) => e.code === 'EPIPE');
    s.start();
    assert.throws(() => s.write(u16(1, 2, 3, 4, 5)), (e: IioError) => e.code === 'EINVAL' && /1 to 4 whole 2-byte scans/.test(e.message));
    assert.throws(() => s.write(Buffer.alloc(3)), (e: IioError) => e.code === 'EINVAL');
    await s.close();
  });
});

describe('transports: openOutput (fake backend)', () => {
  const k = useFakeKernel();

  function dac(fake: FakeBackend, dmabuf: boolean): FakeDevice {
    return fake.addDevice({ name: 'fake-dac', buffers: [{ direction: 'out', dmabuf, elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
  }

  it('auto picks DMABUF where the buffer has it, write() where it does not, and says why', async () => {
    const a = openOutput(deviceInfo(k.fake, dac(k.fake, true)), { scansPerBlock: 2, blocks: 2, onError: assert.fail });
    assert.deepEqual([a.transport, a.fallback], ['dmabuf', undefined]);
    await a.close();
    const b = openOutput(deviceInfo(k.fake, dac(k.fake, false)), { index: 0, scansPerBlock: 2, blocks: 2, onError: assert.fail });
    assert.deepEqual([b.transport, b.fallback], ['write', 'EPERM']);
    await b.close();
    assert.throws(() => openOutput(deviceInfo(k.fake, k.fake.devices.get('/dev/iio:device1')!), { scansPerBlock: 2, onError: assert.fail }, 'dmabuf'), (e: IioError) => e.code === 'EPERM');
    assert.throws(() => openOutput(deviceInfo(k.fake, k.fake.devices.get('/dev/iio:device1')!), { scansPerBlock: 2, onError: assert.fail }, 'bogus' as never), (e: IioError) => e.code === 'EINVAL');
    assert.equal(k.fake.openFds(), 0);
  });

  it('write(): takes a block only while the queue has room (false takes nothing), and copies it', async () => {
    const dev = dac(k.fake, false);
    dev.buffers[0].room = 0;
    const out = openOutput(deviceInfo(k.fake, dev), { scansPerBlock: 2, blocks: 2, onError: assert.fail }, 'write');
    const mine = u16(1, 2);
    assert.equal(out.write(mine), true);
    mine.fill(0); // the caller's memory is its own again
    assert.equal(out.write(u16(3, 4)), true);
    assert.equal(out.write(u16(5, 6)), false);
    assert.equal(out.queued, 2);
    dev.buffers[0].room = 100;
    k.fake.notify();
    await until(() => out.queued === 0, 'the queue written');
    assert.deepEqual([...Buffer.concat(dev.buffers[0].data)], [...u16(1, 2, 3, 4)]);
    await out.close();
  });

  it('write(): a cyclic block is repeated to keep the kernel buffer fed until a new one replaces it', async () => {
    const dev = dac(k.fake, false);
    dev.buffers[0].room = 4; // one block of two scans at a time
    let drains = 0;
    let out: ReturnType<typeof openOutput> | null = null;
    let next: Buffer | null = null;
    out = openOutput(deviceInfo(k.fake, dev), {
      scansPerBlock: 2, blocks: 2, onError: assert.fail,
      onDrain: () => {
        drains++;
        if (next && out!.write(next, true)) next = null;
      },
    }, 'write');
    assert.equal(out.write(u16(7, 7), true), true);
    const taken = () => Buffer.concat(dev.buffers[0].data);
    await until(() => taken().length === 4, 'the first repeat taken');
    dev.buffers[0].room = 8;
    k.fake.notify();
    await until(() => taken().length === 12, 'two more repeats');
    next = u16(9, 9);
    dev.buffers[0].room = 16;
    k.fake.notify();
    await until(() => taken().length >= 28, 'the new block repeating');
    const words = [...new Uint16Array(taken().buffer.slice(taken().byteOffset, taken().byteOffset + 28))];
    assert.equal(next, null, 'the new block got in on the first drain');
    assert.deepEqual(words.slice(0, 6), [7, 7, 7, 7, 7, 7]);
    assert.deepEqual(words.slice(-4), [9, 9, 9, 9]);
    assert.ok(drains >= 1);
    await out.close();
  });
});
