import { strict as assert } from 'assert';
import * as zlib from 'zlib';
import { CapturedBlock } from '../../src/buffer';
import { DmabufCapture, DmabufOutput, isDmabufUnsupported, pendingPlaceholders, allocateDmabuf, DmabufAllocationError, fallsBackToReadWrite } from '../../src/dmabuf';
import { openInput } from '../../src/transport';
import { closeFd } from '../../src/libc';
import * as fs from 'fs';
import { DeviceHandle } from '../../src/device';
import { IioError } from '../../src/errors';
import { reactor } from '../../src/reactor';
import { encodeScans } from '../../src/scan';
import { createSysfsTrigger, removeSysfsTrigger } from '../../src/trigger';
import { emu, readSys, writeSys, waitFor, resources, sleep, kernelHasIioDmabuf, withTrigger, checkPattern } from '../lib/hw';

/** Runs `body` while /dev/udmabuf is hidden (bind-mounted over by an empty file). */
function withoutUdmabuf<T>(body: () => T): T {
  fs.writeFileSync('/tmp/no-udmabuf', '');
  require('child_process').execFileSync('mount', ['--bind', '/tmp/no-udmabuf', '/dev/udmabuf']);
  try {
    return body();
  } finally {
    require('child_process').execFileSync('umount', ['/dev/udmabuf']);
  }
}

describe('DMABUF on the real kernel (emu-adc buffer1, emu-dac buffer1)', function () {
  this.timeout(180000);
  // Before 6.11 there is no IIO DMABUF API: dmabuf-fallback.test.ts checks the fallback there.
  before(function () {
    if (!kernelHasIioDmabuf()) this.skip();
  });

  for (const scansPerBlock of [100, 1000]) {
    it(`capture: 10 000 scans in ${scansPerBlock}-scan blocks, every value exact (same as the read() path)`, async () => {
      const adc = emu('emu-adc');
      writeSys(adc, 'emu_dropped_scans', 0);
      await withTrigger(adc, 'dmabuf-cap', 2000, async () => {
        const blocks: CapturedBlock[] = [];
        const errors: IioError[] = [];
        // Blocks for 2 s of scans: the device drops what finds no block queued, and a loaded host
        // can hold the event loop for a good part of a second.
        const cap = new DmabufCapture(adc, { index: 1, scansPerBlock, blocks: Math.max(4, 4000 / scansPerBlock), onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
        cap.start();
        try {
          await waitFor(() => blocks.length * scansPerBlock >= 10000, '10 000 scans', 150000);
        } finally {
          await cap.close();
        }
        assert.deepEqual(errors, []);
        checkPattern(cap, blocks, 10000);
        assert.deepEqual(blocks.map((b) => [b.sequence, b.scans, b.data.length, b.overrun]), blocks.map((_, i) => [i + 1, scansPerBlock, scansPerBlock * 40, false]));
        assert.equal(readSys(adc, 'buffer1/enable'), '0');
      });
      assert.equal(readSys(adc, 'emu_dropped_scans'), '0');
    });
  }

  it('without a usable DMA heap the blocks come from /dev/udmabuf (sealed memfd), with the same exact data', async () => {
    const fd = allocateDmabuf(8192, '/nonexistent/dma_heap');
    assert.ok(fd > 2);
    closeFd(fd);
    const adc = emu('emu-adc');
    await withTrigger(adc, 'dmabuf-udma', 2000, async () => {
      const blocks: CapturedBlock[] = [];
      const errors: IioError[] = [];
      const cap = new DmabufCapture(adc, { index: 1, scansPerBlock: 100, blocks: 3, heap: '/nonexistent/dma_heap', onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
      cap.start();
      try {
        await waitFor(() => blocks.length >= 20, '2000 scans');
      } finally {
        await cap.close();
      }
      assert.deepEqual(errors, []);
      checkPattern(cap, blocks, 2000);
    });
    // Neither allocator exists: ENOENT (the heap's; /dev/udmabuf's ENOTTY says no more), not EACCES.
    assert.throws(
      () => withoutUdmabuf(() => allocateDmabuf(8192, '/nonexistent/dma_heap')),
      (e: IioError) => e.code === 'ENOENT' && e.errno === 2 && e.path === '/nonexistent/dma_heap' && /dma_heap/.test(e.message) && /udmabuf/.test(e.message) && fallsBackToReadWrite(e),
    );
  });

  it('out of fds: allocation fails with EMFILE and its cause (not EACCES), and transport auto does not hide it', () => {
    const held: number[] = [];
    let err: unknown;
    try {
      for (;;) {
        try {
          held.push(fs.openSync('/dev/null', 'r'));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EMFILE') break;
          throw e;
        }
      }
      try {
        closeFd(allocateDmabuf(8192));
      } catch (e) {
        err = e;
      }
    } finally {
      for (const fd of held) fs.closeSync(fd);
    }
    const e = err as DmabufAllocationError;
    assert.ok(e instanceof DmabufAllocationError, String(err));
    assert.equal(e.code, 'EMFILE');
    assert.equal(e.errno, 24);
    assert.equal(e.syscall, 'open');
    assert.equal(e.path, '/dev/dma_heap/system');
    assert.equal((e.cause as IioError).code, 'EMFILE');
    assert.deepEqual(e.failures.map((f) => f.code), ['EMFILE', 'EMFILE']);
    assert.equal(fallsBackToReadWrite(e), false);
  });

  it('a DMABUF larger than half the memory is refused before the heap (which would summon the OOM killer)', () => {
    assert.throws(() => allocateDmabuf(64 * 2 ** 30), (e: IioError) => e.code === 'ENOMEM' && e.errno === 12 && !(e instanceof DmabufAllocationError) && /more than half/.test(e.message));
  });

  it('ATTACH on the kfifo buffer0 is EPERM, and transport auto falls back to read()', async () => {
    const adc = emu('emu-adc');
    const cap = new DmabufCapture(adc, { index: 0, scansPerBlock: 10, onBlock: () => undefined, onError: () => undefined });
    assert.throws(() => cap.start(), (e: IioError) => e.code === 'EPERM' && isDmabufUnsupported(e) && /IIO_BUFFER_DMABUF_ATTACH_IOCTL/.test(e.message));
    assert.equal(DeviceHandle.openCount(), 0);
    const trig = createSysfsTrigger(11);
    adc.writeCurrentTrigger(trig.name);
    const got: CapturedBlock[] = [];
    const errors: IioError[] = [];
    const started = openInput(adc, { index: 0, scansPerBlock: 1, onBlock: (b) => got.push(b), onError: (e) => errors.push(e) }, 'auto');
    try {
      assert.equal(started.transport, 'read');
      assert.equal(started.fallback, 'EPERM');
      trig.fire();
      await waitFor(() => got.length === 1, 'a scan through the fallback');
    } finally {
      await started.stream.close();
      adc.writeCurrentTrigger('');
      removeSysfsTrigger(11);
    }
    assert.deepEqual(errors, []);
    assert.equal(got.length, 1);
    checkPattern(started.stream, got, 1);
    assert.throws(() => openInput(adc, { index: 0, scansPerBlock: 1, onBlock: () => undefined, onError: () => undefined }, 'dmabuf'), (e: IioError) => e.code === 'EPERM');
  });

  it('output: blocks enqueued through DMABUF reach the DAC exactly (byte count and CRC-32)', async () => {
    const dac = emu('emu-dac');
    writeSys(dac, 'emu_reset', 1);
    await withTrigger(dac, 'dmabuf-dac', 4000, async () => {
      let drains = 0;
      const errors: IioError[] = [];
      const out = new DmabufOutput(dac, { index: 1, scansPerBlock: 512, blocks: 3, onError: (e) => errors.push(e), onDrain: () => drains++ });
      out.start();
      const scans = 512 * 8;
      const data = encodeScans(out.layout, { voltage0: Int16Array.from({ length: scans }, (_, i) => (i * 7) & 0x7fff), voltage1: Int16Array.from({ length: scans }, (_, i) => -i) }, scans);
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
      assert.ok(drains > 0, 'the pool ran out and refilled'); // how often depends on timing
    });
  });

  it('cyclic output: one block repeated by the device, verified by wrap count and CRC-32', async () => {
    const dac = emu('emu-dac');
    writeSys(dac, 'emu_reset', 1);
    await withTrigger(dac, 'dmabuf-cyc', 4000, async () => {
      const errors: IioError[] = [];
      const out = new DmabufOutput(dac, { index: 1, scansPerBlock: 64, blocks: 2, onError: (e) => errors.push(e) });
      out.start();
      const wave = encodeScans(out.layout, { voltage0: Int16Array.from({ length: 64 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * i) / 64))), voltage1: new Int16Array(64).fill(-5) }, 64);
      try {
        assert.equal(out.write(wave, true), true);
        await waitFor(() => Number(readSys(dac, 'emu_cyclic_wraps')) >= 3, '3 repetitions', 60000);
      } finally {
        await out.close();
      }
      assert.deepEqual(errors, []);
      const bytes = Number(readSys(dac, 'emu_consumed_bytes'));
      const wraps = Number(readSys(dac, 'emu_cyclic_wraps'));
      assert.ok(wraps >= 3, `${wraps} wraps`); // the waitFor above; the exact count depends on when stop lands
      assert.equal(Number(readSys(dac, 'emu_consumed_scans')) * 4, bytes);
      // Each wrap starts the block again: after w wraps the device is inside repetition w + 1.
      assert.equal(Math.floor(bytes / wave.length), wraps, `${wraps} wraps for ${bytes} bytes`);
      const expected = Buffer.concat(Array.from({ length: Math.ceil(bytes / wave.length) }, () => wave)).subarray(0, bytes);
      assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(expected).toString(16).padStart(8, '0')}`);
    });
  });

  it('200 start/stop cycles leave no fd, mapping or DMABUF behind', async () => {
    const adc = emu('emu-adc');
    const trig = createSysfsTrigger(12);
    adc.writeCurrentTrigger(trig.name);
    const before = resources();
    const errors: IioError[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const got: CapturedBlock[] = [];
        const cap = new DmabufCapture(adc, { index: 1, scansPerBlock: 1, blocks: 2, onBlock: (b) => got.push(b), onError: (e) => errors.push(e) });
        cap.start();
        try {
          if (i % 20 === 0) {
            trig.fire();
            await waitFor(() => got.length === 1, `cycle ${i}`);
          }
        } finally {
          await cap.close();
        }
        // Each enable restarts the scan counter: the one fired scan is scan 0.
        if (i % 20 === 0) checkPattern(cap, got, 1);
        else assert.equal(got.length, 0, `cycle ${i}: a scan without a fire`);
      }
    } finally {
      adc.writeCurrentTrigger('');
      removeSysfsTrigger(12);
    }
    await waitFor(() => reactor.size === 0, 'the reactor to go idle');
    assert.deepEqual(errors, []);
    assert.deepEqual(resources(), before);
  });

  it('zero-copy: a payload still held after its node closed reads as zeros, no crash; the placeholder is unmapped after GC', async () => {
    const adc = emu('emu-adc');
    const before = resources();
    const kept: Buffer[] = [];
    const placeholdersBefore = pendingPlaceholders();
    await withTrigger(adc, 'dmabuf-zc', 2000, async () => {
      const blocks: CapturedBlock[] = [];
      const copies: CapturedBlock[] = [];
      const errors: IioError[] = [];
      const onBlock = (b: CapturedBlock) => {
        blocks.push(b);
        copies.push({ ...b, data: Buffer.from(b.data) }); // what the view held when delivered
      };
      const cap = new DmabufCapture(adc, { index: 1, scansPerBlock: 50, blocks: 4, payload: 'zerocopy', onBlock, onError: (e) => errors.push(e) });
      cap.start();
      try {
        await waitFor(() => blocks.length >= 6, '6 blocks');
        // blocks / 2 = 2 newest views are still ours: unchanged since delivery.
        const n = blocks.length;
        assert.deepEqual(blocks.slice(n - 2).map((b) => b.data), copies.slice(n - 2).map((b) => b.data));
      } finally {
        await cap.close();
      }
      assert.deepEqual(errors, []);
      // The views were the device's data when delivered: every value of every block exact.
      checkPattern(cap, copies, copies.length * 50);
      kept.push(blocks[blocks.length - 1].data);
    });
    // Read the stale payload: the mapping now is anonymous memory, not a hole. All 4 pool
    // blocks were delivered (6 blocks, in order), so all 4 became placeholders.
    assert.equal(pendingPlaceholders(), placeholdersBefore + 4, 'every delivered block became a placeholder');
    let sum = 0;
    for (const v of kept[0]) sum += v;
    assert.equal(sum, 0);
    assert.equal(kept[0].length, 50 * 40);
    assert.deepEqual(resources(), before, 'the DMABUFs themselves are gone');
    kept.length = 0;
    const gc = (global as { gc?: () => void }).gc;
    assert.ok(gc, 'run with node --expose-gc');
    for (let i = 0; i < 20 && pendingPlaceholders() > 0; i++) {
      gc!();
      await sleep(50);
    }
    assert.equal(pendingPlaceholders(), 0, 'placeholders unmapped once their views were collected');
  });
});
