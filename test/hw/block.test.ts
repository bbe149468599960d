// ADI's mmap block API against the emulator's block chardev (/dev/emu-adc-blocks,
// /dev/emu-dac-blocks, serving buffer1): the UAPI semantics themselves, then the core's streams.
// No ADI kernel runs here: what this verifies is our side against a faithful emulation.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as zlib from 'zlib';
import { CapturedBlock } from '../../src/buffer';
import { BlockApiUnsupportedError, BlockCapture, BlockOutput, BLOCK_CHARDEV_ENV, blockChardevFor, isBlockUnsupported, pendingBlockPlaceholders } from '../../src/block';
import { DeviceHandle } from '../../src/device';
import { IioError } from '../../src/errors';
import { kernel } from '../../src/local-backend';
import { closeFd, ioctl, openFile, O_CLOEXEC, O_NONBLOCK, O_RDWR, PROT_READ, PROT_WRITE } from '../../src/libc';
import { reactor } from '../../src/reactor';
import { encodeScans } from '../../src/scan';
import { createSysfsTrigger, removeSysfsTrigger } from '../../src/trigger';
import {
  IIO_BUFFER_BLOCK_ALLOC_IOCTL, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, IIO_BUFFER_BLOCK_FLAG_CYCLIC,
  IIO_BUFFER_BLOCK_FLAG_TIMESTAMP_VALID, IIO_BUFFER_BLOCK_FREE_IOCTL, IIO_BUFFER_BLOCK_QUERY_IOCTL, decodeBlockAllocReq,
  decodeBufferBlock, encodeBlockAllocReq, encodeBufferBlock,
} from '../../src/uapi';
import { emuAdcRaw } from '../lib/emu-pattern';
import { checkPattern, emu, kernelHasIioDmabuf, readSys, resources, sleep, waitFor, withTrigger, writeSys } from '../lib/hw';

const ADC_BLOCKS = '/dev/emu-adc-blocks';
const DAC_BLOCKS = '/dev/emu-dac-blocks';

/** resources() plus the block chardevs' fds and mappings. */
function blockResources() {
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /-blocks/.test(l)).length;
  const fds = fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return /-blocks/.test(fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      return false;
    }
  }).length;
  return { ...resources(), blockMaps: maps, blockFds: fds };
}

const noArg = () => Buffer.alloc(4);
const errnoOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as IioError).code;
  }
  return 'ok';
};

describe('ADI mmap block API (emulator chardev for emu-adc / emu-dac buffer1)', function () {
  this.timeout(180000);
  before(function () {
    // The chardev joins buffer1's DMABUF queue, which exists from 6.11 on.
    if (!kernelHasIioDmabuf() || !fs.existsSync(ADC_BLOCKS)) this.skip();
    // The other test files share this process: the setting lives only as long as this suite.
    process.env[BLOCK_CHARDEV_ENV] = `emu-adc/buffer1=${ADC_BLOCKS},emu-dac/buffer1=${DAC_BLOCKS}`;
  });
  after(() => {
    delete process.env[BLOCK_CHARDEV_ENV];
  });
  afterEach(() => {
    writeSys(emu('emu-adc'), 'emu_free_running', 0);
  });

  it('the UAPI: probe, ALLOC appends, QUERY offsets, ownership, EAGAIN, EBUSY, one opener', () => {
    const adc = emu('emu-adc');
    const fd = openFile(ADC_BLOCKS, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    try {
      assert.equal(errnoOf(() => openFile(ADC_BLOCKS, O_RDWR | O_CLOEXEC)), 'EBUSY');
      assert.equal(ioctl(fd, IIO_BUFFER_BLOCK_FREE_IOCTL, noArg()), 0, 'FREE with no blocks succeeds: the probe');
      const req = encodeBlockAllocReq({ size: 4000, count: 3 });
      ioctl(fd, IIO_BUFFER_BLOCK_ALLOC_IOCTL, req);
      assert.deepEqual(decodeBlockAllocReq(req), { type: 0, size: 4000, count: 3, id: 0 });
      const more = encodeBlockAllocReq({ size: 100, count: 1 });
      ioctl(fd, IIO_BUFFER_BLOCK_ALLOC_IOCTL, more);
      assert.deepEqual(decodeBlockAllocReq(more), { type: 0, size: 100, count: 1, id: 3 }, 'a second ALLOC appends');
      const q = [0, 1, 2, 3].map((id) => {
        const b = encodeBufferBlock({ id });
        ioctl(fd, IIO_BUFFER_BLOCK_QUERY_IOCTL, b);
        return decodeBufferBlock(b);
      });
      assert.deepEqual(q.map((b) => [b.id, b.size, b.offset, b.bytesUsed, b.flags]), [[0, 4000, 0, 0, 0], [1, 4000, 4096, 0, 0], [2, 4000, 8192, 0, 0], [3, 100, 12288, 0, 0]]);
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_QUERY_IOCTL, encodeBufferBlock({ id: 4 }))), 'EINVAL');
      assert.equal(errnoOf(() => kernel().mmap(fd, 4096, PROT_READ, {}, 4096 * 7)), 'EINVAL', 'no block at that offset');
      assert.equal(errnoOf(() => kernel().mmap(fd, 8192, PROT_READ, {}, 0)), 'EINVAL', 'longer than the block');
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, encodeBufferBlock({ id: 0 }))), 'EAGAIN', 'nothing finished, non-blocking');
      assert.equal(ioctl(fd, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, encodeBufferBlock({ id: 0, bytesUsed: 4000 })), 0);
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, encodeBufferBlock({ id: 0, bytesUsed: 4000 }))), 'EBUSY', 'the kernel owns it');
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, encodeBufferBlock({ id: 9 }))), 'EINVAL');
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, encodeBufferBlock({ id: 1, flags: IIO_BUFFER_BLOCK_FLAG_CYCLIC }))), 'EINVAL', 'cyclic on an input');
      // The block stays queued on the disabled buffer: DEQUEUE has nothing.
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, encodeBufferBlock({ id: 0 }))), 'EAGAIN');
      assert.equal(readSys(adc, 'buffer1/enable'), '0');
      // FREE with a block in flight: it is freed once the kernel lets go of it, never handed back.
      assert.equal(ioctl(fd, IIO_BUFFER_BLOCK_FREE_IOCTL, noArg()), 0);
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_QUERY_IOCTL, encodeBufferBlock({ id: 0 }))), 'EINVAL');
      assert.equal(errnoOf(() => ioctl(fd, 0x40046992, Buffer.alloc(4))), 'ENOTTY', 'not a block ioctl');
      // An enable/disable cycle cancels it (no scan: nothing fires the trigger).
      const trig = createSysfsTrigger(30);
      adc.writeCurrentTrigger(trig.name);
      const el = new BlockCapture(adc, { index: 1, scansPerBlock: 1, onBlock: () => undefined, onError: () => undefined }).buffer.scanElements[0];
      try {
        writeSys(adc, el.enableAttr, 1);
        writeSys(adc, 'buffer1/enable', 1);
        writeSys(adc, 'buffer1/enable', 0);
      } finally {
        adc.writeCurrentTrigger('');
        removeSysfsTrigger(30);
      }
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, encodeBufferBlock({ id: 0 }))), 'EAGAIN', 'a freed block never comes back');
    } finally {
      closeFd(fd);
    }
    // The buffer fd of a stock kernel has no block API: the probe fails (EINVAL from mainline's
    // buffer fd), which means "absent" and lets transport auto fall back.
    const cap = new BlockCapture(adc, { index: 0, scansPerBlock: 10, onBlock: () => undefined, onError: () => undefined });
    assert.equal(cap.chardev, undefined, 'the setting names buffer1 only');
    assert.throws(() => cap.start(), (e: IioError) => e instanceof BlockApiUnsupportedError && e.code === 'EINVAL' && isBlockUnsupported(e) && /IIO_BUFFER_BLOCK_FREE_IOCTL/.test(e.message) && e.device === 'emu-adc');
    assert.equal(DeviceHandle.openCount(), 0);
    assert.equal(readSys(adc, 'buffer0/enable'), '0');
  });

  it('the UAPI: a filled block comes back by DEQUEUE with whole scans and a timestamp; disable hands back the rest; FREE while mapped keeps the mapping readable', async () => {
    const adc = emu('emu-adc');
    const cap = new BlockCapture(adc, { index: 1, scansPerBlock: 1, onBlock: () => undefined, onError: () => undefined }); // only for its layout
    const scan = cap.layout.scanBytes;
    assert.equal(scan, 40);
    const trig = createSysfsTrigger(31);
    adc.writeCurrentTrigger(trig.name);
    const fd = openFile(ADC_BLOCKS, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    let m: ReturnType<ReturnType<typeof kernel>['mmap']> | null = null;
    try {
      for (const el of cap.buffer.scanElements) writeSys(adc, el.enableAttr, 1);
      // Blocks of one scan (+10 bytes that never hold one).
      const req = encodeBlockAllocReq({ size: scan + 10, count: 3 });
      ioctl(fd, IIO_BUFFER_BLOCK_ALLOC_IOCTL, req);
      m = kernel().mmap(fd, 4096, PROT_READ | PROT_WRITE, {}, 0);
      for (const id of [0, 1, 2]) ioctl(fd, IIO_BUFFER_BLOCK_ENQUEUE_IOCTL, encodeBufferBlock({ id, bytesUsed: 1 }));
      writeSys(adc, 'buffer1/enable', 1);
      assert.equal(errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_ALLOC_IOCTL, encodeBlockAllocReq({ size: 100, count: 1 }))), 'EBUSY', 'ALLOC while enabled');
      const b = encodeBufferBlock({ id: 0 });
      // A sysfs trigger drops a fire while the previous one is handled: fire again only after 2 s.
      let dequeued = false;
      for (let i = 0; i < 10 && !dequeued; i++) {
        trig.fire();
        for (let t = 0; t < 20 && !dequeued; t++) {
          await sleep(100);
          dequeued = errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, b)) === 'ok';
        }
      }
      assert.ok(dequeued, 'block 0 filled');
      const d = decodeBufferBlock(b);
      assert.deepEqual([d.id, d.size, d.bytesUsed, d.offset, d.flags & IIO_BUFFER_BLOCK_FLAG_TIMESTAMP_VALID], [0, scan + 10, scan, 0, 1], 'input: bytes_used = whole scans, whatever was enqueued');
      assert.ok(d.timestamp > 0n);
      const view = m.view.subarray(0, scan);
      checkPattern(cap, [{ data: Buffer.from(view), scans: 1, sequence: 1, overrun: false }], 1);
      writeSys(adc, 'buffer1/enable', 0);
      // Blocks 1 and 2 were still queued: handed back by the disable, empty (unless a late fire filled one).
      const back: [number, number][] = [];
      for (;;) {
        const c = encodeBufferBlock({ id: 0 });
        if (errnoOf(() => ioctl(fd, IIO_BUFFER_BLOCK_DEQUEUE_IOCTL, c)) !== 'ok') break;
        back.push([decodeBufferBlock(c).id, decodeBufferBlock(c).bytesUsed]);
      }
      assert.deepEqual(back.map((x) => x[0]), [1, 2], 'DEQUEUE on the disabled buffer: the cancelled blocks, then EAGAIN');
      assert.ok(back.some((x) => x[1] === 0), JSON.stringify(back));
      // FREE while block 0 is mapped: the memory stays until munmap, with the data in it.
      ioctl(fd, IIO_BUFFER_BLOCK_FREE_IOCTL, noArg());
      assert.equal(view.readUInt16LE(2), emuAdcRaw(1, 0, 16, true) & 0xffff);
    } finally {
      if (m) kernel().munmap(m);
      closeFd(fd);
      adc.writeCurrentTrigger('');
      removeSysfsTrigger(31);
    }
  });

  for (const channels of [undefined, ['voltage0', 'voltage2', 'voltage3', 'voltage4', 'timestamp'], ['voltage1', 'accel_y']]) {
    it(`capture ${channels ? channels.join('+') : 'every channel'}: 5000 scans in 100-scan blocks, every value exact`, async () => {
      const adc = emu('emu-adc');
      writeSys(adc, 'emu_dropped_scans', 0);
      await withTrigger(adc, 'blk-cap', 2000, async () => {
        const blocks: CapturedBlock[] = [];
        const errors: IioError[] = [];
        const cap = new BlockCapture(adc, { index: 1, channels, scansPerBlock: 100, blocks: 40, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
        assert.equal(cap.chardev, ADC_BLOCKS);
        cap.start();
        try {
          await waitFor(() => blocks.length >= 50, '5000 scans', 150000);
        } finally {
          await cap.close();
        }
        assert.deepEqual(errors, []);
        checkPattern(cap, blocks, 5000);
        assert.deepEqual(blocks.map((b) => [b.sequence, b.scans, b.data.length, b.overrun]), blocks.map((_, i) => [i + 1, 100, 100 * cap.layout.scanBytes, false]));
        assert.equal(readSys(adc, 'buffer1/enable'), '0');
      });
      assert.equal(readSys(adc, 'emu_dropped_scans'), '0');
    });
  }

  it('free-running (mode 2): 40 blocks of 1000 scans filled at once, every value exact, in borrow mode', async () => {
    const adc = emu('emu-adc');
    writeSys(adc, 'emu_free_running', 2);
    const seen: CapturedBlock[] = [];
    const errors: IioError[] = [];
    const cap = new BlockCapture(adc, { index: 1, scansPerBlock: 1000, blocks: 4, payload: 'borrow', onBlock: (b) => seen.push({ ...b, data: Buffer.from(b.data) }), onError: (e) => errors.push(e) });
    cap.start();
    try {
      await waitFor(() => seen.length >= 40, '40 blocks', 150000);
    } finally {
      await cap.close();
    }
    assert.deepEqual(errors, []);
    checkPattern(cap, seen, 40000);
  });

  it('output: blocks reach the DAC exactly (byte count and CRC-32), with backpressure', async () => {
    const dac = emu('emu-dac');
    writeSys(dac, 'emu_reset', 1);
    await withTrigger(dac, 'blk-dac', 4000, async () => {
      let drains = 0;
      const errors: IioError[] = [];
      const out = new BlockOutput(dac, { index: 1, scansPerBlock: 512, blocks: 3, onError: (e) => errors.push(e), onDrain: () => drains++ });
      assert.equal(out.chardev, DAC_BLOCKS);
      out.start();
      const scans = 512 * 8;
      const data = encodeScans(out.layout, { voltage0: Int16Array.from({ length: scans }, (_, i) => (i * 13) & 0x7fff), voltage1: Int16Array.from({ length: scans }, (_, i) => 7 - i) }, scans);
      try {
        for (let off = 0; off < data.length; ) {
          if (out.write(data.subarray(off, off + 2048))) off += 2048;
          else await waitFor(() => out.available > 0, 'a free block');
        }
        await waitFor(() => Number(readSys(dac, 'emu_consumed_bytes')) >= data.length, 'the DAC to consume everything', 100000);
      } finally {
        await out.close();
      }
      assert.deepEqual(errors, []);
      assert.equal(Number(readSys(dac, 'emu_consumed_bytes')), data.length);
      assert.equal(Number(readSys(dac, 'emu_consumed_scans')), scans);
      assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(data).toString(16).padStart(8, '0')}`);
      assert.equal(out.written, data.length);
      assert.ok(drains > 0, 'the pool ran out and refilled');
      assert.throws(() => out.write(Buffer.alloc(4)), (e: IioError) => e.code === 'EPIPE');
    });
  });

  it('cyclic output: one block repeated, verified by wrap count and CRC-32', async () => {
    const dac = emu('emu-dac');
    writeSys(dac, 'emu_reset', 1);
    await withTrigger(dac, 'blk-cyc', 4000, async () => {
      const errors: IioError[] = [];
      const out = new BlockOutput(dac, { index: 1, scansPerBlock: 64, blocks: 2, onError: (e) => errors.push(e) });
      out.start();
      const wave = encodeScans(out.layout, { voltage0: Int16Array.from({ length: 64 }, (_, i) => i * 100 - 3200), voltage1: new Int16Array(64).fill(9) }, 64);
      try {
        assert.equal(out.write(wave, true), true);
        await waitFor(() => Number(readSys(dac, 'emu_cyclic_wraps')) >= 3, '3 repetitions', 60000);
      } finally {
        await out.close();
      }
      assert.deepEqual(errors, []);
      const bytes = Number(readSys(dac, 'emu_consumed_bytes'));
      const wraps = Number(readSys(dac, 'emu_cyclic_wraps'));
      assert.equal(Math.floor(bytes / wave.length), wraps, `${wraps} wraps for ${bytes} bytes`);
      const expected = Buffer.concat(Array.from({ length: Math.ceil(bytes / wave.length) }, () => wave)).subarray(0, bytes);
      assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(expected).toString(16).padStart(8, '0')}`);
    });
  });

  it('a write that is not whole scans or larger than a block is refused before any ioctl', async () => {
    const dac = emu('emu-dac');
    await withTrigger(dac, 'blk-bad', 100, async () => {
      const out = new BlockOutput(dac, { index: 1, scansPerBlock: 4, blocks: 2, onError: () => undefined });
      out.start();
      try {
        assert.throws(() => out.write(Buffer.alloc(3)), (e: IioError) => e.code === 'EINVAL' && /4-byte scans/.test(e.message));
        assert.throws(() => out.write(Buffer.alloc(20)), (e: IioError) => e.code === 'EINVAL');
        assert.equal(out.available, 2);
      } finally {
        await out.close();
      }
    });
  });

  it('200 start/stop cycles leave no fd or mapping behind', async () => {
    const adc = emu('emu-adc');
    const trig = createSysfsTrigger(32);
    adc.writeCurrentTrigger(trig.name);
    const before = blockResources();
    const errors: IioError[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const got: CapturedBlock[] = [];
        const cap = new BlockCapture(adc, { index: 1, scansPerBlock: 1, blocks: 2, onBlock: (b) => got.push(b), onError: (e) => errors.push(e) });
        cap.start();
        try {
          if (i === 0) assert.equal(blockResources().blockMaps, before.blockMaps + 2, 'two blocks mapped while running');
          if (i % 20 === 0) {
            trig.fire();
            await waitFor(() => got.length === 1, `cycle ${i}`);
          }
        } finally {
          await cap.close();
        }
        if (i % 20 === 0) checkPattern(cap, got, 1);
        else assert.equal(got.length, 0, `cycle ${i}: a scan without a fire`);
      }
    } finally {
      adc.writeCurrentTrigger('');
      removeSysfsTrigger(32);
    }
    await waitFor(() => reactor.size === 0, 'the reactor to go idle');
    assert.deepEqual(errors, []);
    assert.deepEqual(blockResources(), before);
    assert.equal(DeviceHandle.openCount(), 0);
  });

  it('zero-copy: a payload held after stop reads as zeros, no crash; the placeholder is unmapped after GC', async () => {
    const adc = emu('emu-adc');
    const before = blockResources();
    const kept: Buffer[] = [];
    const placeholdersBefore = pendingBlockPlaceholders();
    // 500 Hz and 8 blocks (4 held by the flow, 4 queued): slack for a loaded VM's event loop.
    await withTrigger(adc, 'blk-zc', 500, async () => {
      const blocks: CapturedBlock[] = [];
      const copies: CapturedBlock[] = [];
      const errors: IioError[] = [];
      const onBlock = (b: CapturedBlock) => {
        blocks.push(b);
        copies.push({ ...b, data: Buffer.from(b.data) });
      };
      const cap = new BlockCapture(adc, { index: 1, scansPerBlock: 50, blocks: 8, payload: 'zerocopy', onBlock, onError: (e) => errors.push(e) });
      cap.start();
      try {
        await waitFor(() => blocks.length >= 10, '10 blocks', 60000);
        const n = blocks.length;
        assert.ok(blocks[n - 1].data.buffer !== copies[n - 1].data.buffer, 'the payload is the mapping itself');
        assert.deepEqual(blocks.slice(n - 4).map((b) => b.data), copies.slice(n - 4).map((b) => b.data), 'the 4 newest views are still ours');
      } finally {
        await cap.close();
      }
      assert.deepEqual(errors, []);
      checkPattern(cap, copies, copies.length * 50);
      kept.push(blocks[blocks.length - 1].data);
    });
    assert.equal(pendingBlockPlaceholders(), placeholdersBefore + 8, 'every delivered block became a placeholder');
    let sum = 0;
    for (const v of kept[0]) sum += v;
    assert.equal(sum, 0);
    assert.equal(kept[0].length, 50 * 40);
    assert.deepEqual(blockResources(), before, 'the block mappings themselves are gone');
    kept.length = 0;
    const gc = (global as { gc?: () => void }).gc;
    assert.ok(gc, 'run with node --expose-gc');
    for (let i = 0; i < 20 && pendingBlockPlaceholders() > 0; i++) {
      gc!();
      await sleep(50);
    }
    assert.equal(pendingBlockPlaceholders(), 0);
  });

  it('device removal mid-capture: ENODEV reported, stop releases everything, the device comes back', async () => {
    const drv = '/sys/bus/platform/drivers/iio-emu';
    const adc = emu('emu-adc');
    const before = blockResources();
    const errors: IioError[] = [];
    const blocks: CapturedBlock[] = [];
    writeSys(adc, 'emu_free_running', 2);
    const cap = new BlockCapture(adc, { index: 1, scansPerBlock: 100, blocks: 4, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
    cap.start();
    try {
      await waitFor(() => blocks.length >= 3, 'capture before the removal');
      fs.writeFileSync(`${drv}/unbind`, 'iio-emu');
      await waitFor(() => errors.length > 0, 'the error', 30000);
      await cap.close();
    } finally {
      if (!fs.existsSync(`${drv}/iio-emu`)) fs.writeFileSync(`${drv}/bind`, 'iio-emu');
    }
    assert.equal(errors[0].code, 'ENODEV', errors[0].message);
    await waitFor(() => reactor.size === 0, 'the reactor to go idle');
    assert.deepEqual(blockResources(), before);
    assert.equal(DeviceHandle.openCount(), 0);
    // The chardev is back with the device, and works.
    await waitFor(() => fs.existsSync(ADC_BLOCKS), 'the chardev to come back');
    const adc2 = emu('emu-adc');
    assert.equal(blockChardevFor(adc2, 1), ADC_BLOCKS);
    const again: CapturedBlock[] = [];
    writeSys(adc2, 'emu_free_running', 2);
    const cap2 = new BlockCapture(adc2, { index: 1, scansPerBlock: 100, blocks: 4, onBlock: (b) => again.push(b), onError: (e) => errors.push(e) });
    cap2.start();
    try {
      await waitFor(() => again.length >= 2, 'capture after the device came back');
    } finally {
      await cap2.close();
    }
    checkPattern(cap2, again, 200);
  });
});
