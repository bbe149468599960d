// Where the mmap block API sits in the transport choice (auto: DMABUF → mmap blocks → read()/write())
// and how iio-in / iio-dmabuf-out show it. The block ioctls go to the emulator's chardev for
// buffer1 (IIO_BLOCK_CHARDEV, set only while this file's suites run).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import * as zlib from 'zlib';
import { CapturedBlock } from '../../src/buffer';
import { BLOCK_CHARDEV_ENV } from '../../src/block';
import { DeviceHandle } from '../../src/device';
import { IioError } from '../../src/errors';
import { reactor } from '../../src/reactor';
import { openInput, Input } from '../../src/transport';
import { emuAdcRaw } from '../lib/emu-pattern';
import { checkPattern, emu, kernelHasIioDmabuf, readSys, waitFor, withTrigger } from '../lib/hw';
import { allNodes, collect, helper, statusesOf } from '../lib/node-red';

const SETTING = 'emu-adc/buffer1=/dev/emu-adc-blocks,emu-dac/buffer1=/dev/emu-dac-blocks';

function usable(): boolean {
  return kernelHasIioDmabuf() && fs.existsSync('/dev/emu-adc-blocks');
}

/** Runs `body` with /dev/udmabuf hidden (a DMABUF then needs the heap, which the caller names wrongly). */
async function withoutUdmabuf<T>(body: () => Promise<T>): Promise<T> {
  fs.writeFileSync('/tmp/no-udmabuf-blk', '');
  execFileSync('mount', ['--bind', '/tmp/no-udmabuf-blk', '/dev/udmabuf']);
  try {
    return await body();
  } finally {
    execFileSync('umount', ['/dev/udmabuf']);
  }
}

describe('transport choice with the mmap block API (core)', function () {
  this.timeout(120000);
  before(function () {
    if (!usable()) this.skip();
    process.env[BLOCK_CHARDEV_ENV] = SETTING;
  });
  after(() => {
    delete process.env[BLOCK_CHARDEV_ENV];
  });

  async function capture(index: number, transport: 'auto' | 'block', heap?: string): Promise<{ started: Input; blocks: CapturedBlock[] }> {
    const adc = emu('emu-adc');
    const blocks: CapturedBlock[] = [];
    const errors: IioError[] = [];
    let started!: Input;
    await withTrigger(adc, `blk-t${index}${transport}`, 1000, async () => {
      started = openInput(adc, { index, channels: ['voltage1'], scansPerBlock: 20, heap, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) }, transport);
      try {
        await waitFor(() => blocks.length >= 3, '3 blocks', 60000);
      } finally {
        await started.stream.close();
      }
    });
    assert.deepEqual(errors, []);
    checkPattern(started.stream, blocks, 60);
    return { started, blocks };
  }

  it('auto on buffer1 with DMABUF at hand: DMABUF first', async () => {
    const { started } = await capture(1, 'auto');
    assert.equal(started.transport, 'dmabuf');
  });

  it('auto on buffer1 without a DMABUF allocator: mmap blocks, saying why not DMABUF', async () => {
    const { started } = await withoutUdmabuf(() => capture(1, 'auto', '/nonexistent/dma_heap'));
    assert.deepEqual([started.transport, started.fallback, started.blockFallback], ['block', 'ENOENT', undefined]);
  });

  it('auto on buffer0 (kfifo, a mainline buffer fd): read(), past DMABUF (EPERM) and the block probe (EINVAL)', async () => {
    const { started } = await capture(0, 'auto');
    assert.deepEqual([started.transport, started.fallback, started.blockFallback], ['read', 'EPERM', 'EINVAL']);
  });

  it('block on a buffer without the API: the probe error, no fallback, nothing left open', () => {
    const adc = emu('emu-adc');
    assert.throws(
      () => openInput(adc, { index: 0, scansPerBlock: 10, onBlock: () => undefined, onError: () => undefined }, 'block'),
      (e: IioError) => e.code === 'EINVAL' && /IIO_BUFFER_BLOCK_FREE_IOCTL/.test(e.message),
    );
    assert.equal(DeviceHandle.openCount(), 0);
    assert.equal(reactor.size, 0);
  });
});

describe('iio-in / iio-dmabuf-out over mmap blocks', function () {
  this.timeout(120000);
  before(function (done) {
    if (!usable()) return this.skip();
    process.env[BLOCK_CHARDEV_ENV] = SETTING;
    helper.startServer(done);
  });
  after((done) => {
    delete process.env[BLOCK_CHARDEV_ENV];
    helper.stopServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await waitFor(() => reactor.size === 0, 'the reactor to go idle');
    assert.equal(DeviceHandle.openCount(), 0);
  });

  it('iio-in transport "mmap blocks": status and msg.transport say so, values exact', async () => {
    await helper.load(allNodes, [
      { id: 'dev-adc', type: 'iio-device', deviceName: 'emu-adc', deviceLabel: 'adc-main' },
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-blk', frequency: 1000 },
      { id: 'n-in', type: 'iio-in', device: 'dev-adc', buffer: 1, channels: ['voltage1'], trigger: 'nr-blk', samples: 50, timestamps: false, transport: 'block', wires: [['n-out']] },
      { id: 'n-out', type: 'helper' },
    ]);
    const statuses = statusesOf('n-in');
    const got = collect('n-out');
    await waitFor(() => got.length >= 3, '3 messages', 60000);
    assert.ok(statuses.some((s) => s.text === 'running (mmap blocks)'), statuses.map((s) => s.text).join(' | '));
    for (const [b, m] of got.slice(0, 3).entries()) {
      assert.equal(m.transport, 'block');
      assert.equal(m.topic, 'adc-main/buffer1');
      assert.deepEqual(Array.from(m.payload.voltage1), Array.from({ length: 50 }, (_, i) => emuAdcRaw(1, b * 50 + i, 16, true)), `message ${b}`);
    }
  });

  it('iio-dmabuf-out transport "mmap blocks": status says so, the DAC consumes exactly what was sent', async () => {
    const dac = emu('emu-dac');
    fs.writeFileSync(path.join(dac.sysfsPath, 'emu_reset'), '1');
    await helper.load(allNodes, [
      { id: 'dev-dac', type: 'iio-device', deviceName: 'emu-dac' },
      { id: 'n-trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: 'nr-blkdac', frequency: 4000 },
      { id: 'n-out', type: 'iio-dmabuf-out', device: 'dev-dac', buffer: 1, channels: [], mode: 'streaming', blockSize: 256, blocks: 4, transport: 'block', trigger: 'nr-blkdac' },
    ]);
    const statuses = statusesOf('n-out');
    const v0 = Array.from({ length: 1024 }, (_, i) => ((i * 17) % 3000) - 1500);
    const v1 = Array.from({ length: 1024 }, (_, i) => 3 * i - 900);
    helper.getNode('n-out').receive({ payload: { voltage0: v0, voltage1: v1 } });
    const expected = Buffer.alloc(1024 * 4);
    v0.forEach((v, i) => {
      expected.writeInt16LE(v, 4 * i);
      expected.writeInt16LE(v1[i], 4 * i + 2);
    });
    await waitFor(() => Number(readSys(dac, 'emu_consumed_bytes')) >= expected.length, 'the DAC to consume it', 60000);
    assert.ok(statuses.some((s) => /\(mmap blocks\)/.test(s.text ?? '')), statuses.map((s) => s.text).join(' | '));
    assert.equal(Number(readSys(dac, 'emu_consumed_bytes')), expected.length);
    assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(expected).toString(16).padStart(8, '0')}`);
  });
});
