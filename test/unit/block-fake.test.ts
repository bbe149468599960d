// ADI's mmap block API on the fake backend: the pool's life cycle (probe by FREE, ALLOC, QUERY,
// mmap at each offset, ENQUEUE before enable; unmap and FREE after), DEQUEUE order, blocks cut
// short, zero-copy holding, output with drain, and where `auto` puts the block API.
import { strict as assert } from 'node:assert';
import { BlockApiUnsupportedError, BlockCapture } from '../../src/block';
import { openInput, openOutput, transportChoice, transportLabel } from '../../src/transport';
import { CapturedBlock } from '../../src/buffer';
import { IioError } from '../../src/errors';
import { IIO_BUFFER_BLOCK_FLAG_CYCLIC } from '../../src/uapi';
import { useFakeKernel, adc, deviceInfo, until, u16, FakeBackend, FakeDevice } from '../lib/fake-backend';

const base = '/sys/bus/iio/devices/iio:device0';

function setup(fake: FakeBackend, payload: 'copy' | 'borrow' | 'zerocopy' = 'copy') {
  const dev = adc(fake, { blockApi: true });
  const blocks: CapturedBlock[] = [];
  const views: Buffer[] = [];
  const errors: IioError[] = [];
  const opts = {
    scansPerBlock: 4, blocks: 4, payload,
    onBlock: (b: CapturedBlock) => {
      views.push(b.data);
      blocks.push({ ...b, data: Buffer.from(b.data) });
    },
    onError: (e: IioError) => errors.push(e),
  };
  return { dev, info: deviceInfo(fake, dev), blocks, views, errors, opts };
}

describe('mmap block capture (fake backend)', () => {
  const k = useFakeKernel();

  it('probes by FREE, allocates, maps each block at its offset and enqueues all before enabling; unmaps and frees after', async () => {
    const { info, opts, dev } = setup(k.fake);
    let atEnable: string[] = [];
    k.fake.onWrite = (file, text) => {
      if (file === `${base}/buffer0/enable` && text === '1') atEnable = [...k.fake.ioctls];
    };
    const s = new BlockCapture(info, opts);
    s.start();
    assert.deepEqual(atEnable, ['IIO_BUFFER_GET_FD_IOCTL', 'BLOCK_FREE', 'BLOCK_ALLOC', ...Array(4).fill('BLOCK_QUERY'), ...Array(4).fill('BLOCK_ENQUEUE')]);
    assert.deepEqual(dev.buffers[0].mmapBlocks.map((b) => [b.offset, b.size]), [[0, 8], [4096, 8], [8192, 8], [12288, 8]]);
    assert.equal(k.fake.mapped, 4);
    assert.deepEqual(dev.buffers[0].blockQueue, [0, 1, 2, 3]);
    await s.close();
    assert.equal(k.fake.mapped, 0);
    assert.equal(k.fake.ioctls[k.fake.ioctls.length - 1], 'BLOCK_FREE');
    assert.equal(k.fake.openFds(), 0);
  });

  it('delivers blocks in DEQUEUE order with exactly the bytes the device wrote, and requeues each', async () => {
    const { info, opts, dev, blocks, errors } = setup(k.fake);
    const s = new BlockCapture(info, opts);
    s.start();
    k.fake.finishMmapBlock(dev, 0, u16(1, 2, 3, 4));
    k.fake.finishMmapBlock(dev, 0, u16(5, 6, 7, 8));
    await until(() => blocks.length === 2, 'two blocks');
    assert.deepEqual(blocks.map((b) => [...b.data]), [[...u16(1, 2, 3, 4)], [...u16(5, 6, 7, 8)]]);
    assert.deepEqual(blocks.map((b) => [b.sequence, b.overrun, b.scans]), [[1, false, 4], [2, false, 4]]);
    assert.deepEqual(dev.buffers[0].blockQueue, [2, 3, 0, 1], 'each went back to the device, in order');
    await s.close();
    assert.deepEqual(errors, []);
  });

  it('drops a block handed back cut short, counts it, and flags the block requeued after it as an overrun', async () => {
    const { info, opts, dev, blocks } = setup(k.fake);
    const s = new BlockCapture(info, opts);
    s.start();
    k.fake.finishMmapBlock(dev, 0, u16(1, 2)); // half a block: a disable cut it short
    await until(() => s.cancelled === 1, 'the short block');
    assert.equal(blocks.length, 0);
    for (const v of [1, 2, 3, 4]) k.fake.finishMmapBlock(dev, 0, u16(v, v, v, v));
    await until(() => blocks.length === 4, 'four blocks');
    assert.deepEqual(blocks.map((b) => b.overrun), [false, false, false, true], 'block 0 went back after the gap: it alone is flagged');
    assert.equal(s.overruns, 1);
    await s.close();
  });

  it('zero-copy: holds blocks / 2 views, then requeues the oldest; at stop an escaped view reads zeros, never freed memory', async () => {
    const { info, opts, dev, blocks, views } = setup(k.fake, 'zerocopy');
    const s = new BlockCapture(info, opts);
    s.start();
    k.fake.finishMmapBlock(dev, 0, u16(1, 1, 1, 1));
    k.fake.finishMmapBlock(dev, 0, u16(2, 2, 2, 2));
    await until(() => blocks.length === 2, 'two blocks');
    assert.deepEqual(dev.buffers[0].blockQueue, [2, 3], 'both held');
    k.fake.finishMmapBlock(dev, 0, u16(3, 3, 3, 3));
    await until(() => blocks.length === 3, 'a third block');
    assert.deepEqual(dev.buffers[0].blockQueue, [3, 0], 'the oldest held went back');
    assert.deepEqual([...views[2]], [...u16(3, 3, 3, 3)], 'the view is the block itself');
    await s.close();
    assert.deepEqual([...views[2]], [...Buffer.alloc(8)]);
  });

  it('a failing ENQUEUE at start: the error, everything unmapped and freed, the buffer never enabled', () => {
    const { info, opts } = setup(k.fake);
    k.fake.fail('ioctl', 'ENOMEM', 1, (name) => name === 'BLOCK_ENQUEUE');
    const s = new BlockCapture(info, opts);
    assert.throws(() => s.start(), (e: IioError) => e.code === 'ENOMEM' && /IIO_BUFFER_BLOCK_ENQUEUE_IOCTL/.test(e.message));
    assert.equal(k.fake.mapped, 0);
    assert.equal(k.fake.openFds(), 0);
    assert.ok(!k.fake.writes.includes(`${base}/buffer0/enable=1`));
  });
});

describe('transports with the mmap block API (fake backend)', () => {
  const k = useFakeKernel();

  function dev(fake: FakeBackend, dmabuf: boolean, blockApi: boolean, direction: 'in' | 'out' = 'in'): FakeDevice {
    return fake.addDevice({ name: `fake-${direction}`, buffers: [{ direction, dmabuf, blockApi, elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
  }
  const capture = { scansPerBlock: 4, blocks: 2, onBlock: () => undefined, onError: assert.fail };

  it('auto: DMABUF first, then mmap blocks, then read(), saying why it passed over each', async () => {
    const order: Array<[string, string | undefined, string | undefined]> = [];
    for (const [dmabuf, blockApi] of [[true, true], [false, true], [false, false]]) {
      const input = openInput(deviceInfo(k.fake, dev(k.fake, dmabuf, blockApi)), capture);
      order.push([input.transport, input.fallback, input.blockFallback]);
      await input.stream.close();
    }
    assert.deepEqual(order, [['dmabuf', undefined, undefined], ['block', 'EPERM', undefined], ['read', 'EPERM', 'ENOTTY']]);
    assert.equal(k.fake.openFds(), 0);
  });

  it('block never falls back: no API is the probe error, with nothing left open', () => {
    const info = deviceInfo(k.fake, dev(k.fake, true, false));
    assert.throws(() => openInput(info, capture, 'block'), (e: IioError) => e instanceof BlockApiUnsupportedError && e.code === 'ENOTTY');
    assert.throws(() => openOutput(deviceInfo(k.fake, dev(k.fake, true, false, 'out')), { scansPerBlock: 2, onError: assert.fail }, 'block'), (e: IioError) => e.code === 'ENOTTY');
    assert.equal(k.fake.openFds(), 0);
    assert.equal(k.fake.mapped, 0);
  });

  it('output: write fills a free block and enqueues it (cyclic flagged), false while none is free, onDrain once one is back', async () => {
    const d = dev(k.fake, false, true, 'out');
    let drains = 0;
    const out = openOutput(deviceInfo(k.fake, d), { scansPerBlock: 2, blocks: 2, onError: assert.fail, onDrain: () => drains++ });
    assert.deepEqual([out.transport, out.fallback], ['block', 'EPERM']);
    assert.equal(out.write(u16(1, 2)), true);
    assert.equal(out.write(u16(3), true), true);
    assert.equal(out.queued, 2);
    assert.equal(out.write(u16(5, 6)), false);
    assert.deepEqual(d.buffers[0].mmapBlocks.map((b) => [b.bytesUsed, b.flags & IIO_BUFFER_BLOCK_FLAG_CYCLIC]), [[4, 0], [2, IIO_BUFFER_BLOCK_FLAG_CYCLIC]]);
    k.fake.finishMmapBlock(d);
    await until(() => drains === 1, 'a drain');
    assert.equal(out.write(u16(5, 6)), true);
    k.fake.finishMmapBlock(d);
    k.fake.finishMmapBlock(d);
    assert.deepEqual([...Buffer.concat(d.buffers[0].data)], [...u16(1, 2, 3, 5, 6)]);
    await out.close();
    assert.equal(k.fake.mapped, 0);
  });
});

describe('transport names with the mmap block API', () => {
  it('block is a choice of its own, labelled "mmap blocks"; anything unknown is auto', () => {
    assert.deepEqual(['auto', 'read', 'write', 'dmabuf', 'block', 'blocks', '', 7].map(transportChoice), ['auto', 'read', 'write', 'dmabuf', 'block', 'auto', 'auto', 'auto']);
    assert.deepEqual((['dmabuf', 'block', 'read', 'write'] as const).map(transportLabel), ['DMABUF', 'mmap blocks', 'read()', 'write()']);
  });
});
