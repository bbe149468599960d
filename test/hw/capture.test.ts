import { strict as assert } from 'assert';
import { CaptureStream, CapturedBlock } from '../../src/buffer';
import { DeviceHandle } from '../../src/device';
import { IioError } from '../../src/errors';
import { ScanDecoder } from '../../src/scan';
import { createHrtimerTrigger, removeHrtimerTrigger, createSysfsTrigger, removeSysfsTrigger } from '../../src/trigger';
import { emuAdcRaw, EMU_ADC_CHANNELS } from '../lib/emu-pattern';
import { emu, readSys, writeSys, waitFor, ctx, pollfuncThread, threadState, waitPollfuncIdle, resources } from '../lib/hw';
import { reactor } from '../../src/reactor';

/** Checks every decoded value of consecutive blocks against the emulator's pattern from scan 0. */
function checkPattern(stream: CaptureStream, blocks: CapturedBlock[], scans: number): void {
  const dec = new ScanDecoder(stream.layout);
  let n = 0;
  let lastTs = -1n;
  for (const b of blocks) {
    const d = dec.decode(b.data, b.scans);
    for (let i = 0; i < d.scans && n < scans; i++, n++) {
      for (const ch of EMU_ADC_CHANNELS) {
        if (ch.name === 'timestamp' || !(ch.name in d.channels)) continue;
        for (let r = 0; r < ch.repeat; r++) {
          const got = Number(d.channels[ch.name][i * ch.repeat + r]);
          const want = emuAdcRaw(ch.slot + r, n, ch.bits, ch.signed);
          if (got !== want) assert.fail(`scan ${n} ${ch.name}[${r}]: got ${got}, want ${want}`);
        }
      }
      if (d.timestamps) {
        assert.ok(d.timestamps[i] >= lastTs, `timestamp of scan ${n} goes backwards`);
        lastTs = d.timestamps[i];
      }
    }
  }
  assert.equal(n, scans);
}

describe('buffered capture through read() (emu-adc buffer0)', function () {
  this.timeout(120000);
  const adc = () => emu('emu-adc');

  afterEach(() => {
    try { adc().writeCurrentTrigger(''); } catch { /* already detached */ }
  });

  it('hrtimer trigger: 10 000 scans of all channels, every value exact, none dropped', async () => {
    const dev = adc();
    writeSys(dev, 'emu_dropped_scans', 0);
    const trig = createHrtimerTrigger('hwtest-hr');
    let cap: CaptureStream | undefined;
    try {
      trig.writeFrequency(2000);
      dev.writeCurrentTrigger(trig.name);
      assert.equal(dev.readCurrentTrigger(), trig.name);
      const blocks: CapturedBlock[] = [];
      const errors: IioError[] = [];
      cap = new CaptureStream(dev, { index: 0, scansPerBlock: 500, length: 8192, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
      assert.equal(cap.layout.scanBytes, 40);
      cap.start();
      await waitFor(() => blocks.length >= 20, '20 blocks', 100000);
      await cap.close();
      assert.deepEqual(errors, []);
      assert.equal(readSys(dev, 'buffer0/enable'), '0');
      checkPattern(cap, blocks, 10000);
      assert.equal(readSys(dev, 'emu_dropped_scans'), '0');
      assert.deepEqual(blocks.map((b) => [b.sequence, b.scans, b.overrun]), blocks.map((_, i) => [i + 1, 500, false]));
    } finally {
      await cap?.close();
      dev.writeCurrentTrigger('');
      removeHrtimerTrigger('hwtest-hr');
    }
    assert.equal(ctx.findTrigger('hwtest-hr'), undefined);
  });

  it('a subset of channels: layout and values follow the enabled scan elements', async () => {
    const dev = adc();
    const trig = createHrtimerTrigger('hwtest-sub');
    let cap: CaptureStream | undefined;
    try {
      trig.writeFrequency(2000);
      dev.writeCurrentTrigger(trig.name);
      const blocks: CapturedBlock[] = [];
      const errors: IioError[] = [];
      cap = new CaptureStream(dev, { channels: ['accel_z', 'voltage3', 'voltage2'], scansPerBlock: 100, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
      // voltage2 (2 B) at 0, voltage3 (4 B) at 4, accel_z (2 B) at 8 → 12 bytes (aligned to 4).
      assert.deepEqual(cap.layout.elements.map((e) => [e.name, e.offset]), [['voltage2', 0], ['voltage3', 4], ['accel_z', 8]]);
      assert.equal(cap.layout.scanBytes, 12);
      cap.start();
      await waitFor(() => blocks.length >= 10, '10 blocks');
      await cap.close();
      assert.deepEqual(errors, []);
      assert.deepEqual(blocks.map((b) => [b.data.length, b.scans]), blocks.map(() => [1200, 100]));
      checkPattern(cap, blocks, 1000);
    } finally {
      await cap?.close();
      dev.writeCurrentTrigger('');
      removeHrtimerTrigger('hwtest-sub');
    }
  });

  it('sysfs trigger: each trigger_now captures exactly one scan', async () => {
    const dev = adc();
    const trig = createSysfsTrigger(7);
    let cap: CaptureStream | undefined;
    try {
      assert.equal(trig.name, 'sysfstrig7');
      dev.writeCurrentTrigger(trig.name);
      const blocks: CapturedBlock[] = [];
      const errors: IioError[] = [];
      cap = new CaptureStream(dev, { scansPerBlock: 1, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
      cap.start();
      const pollfunc = pollfuncThread(dev);
      for (let i = 0; i < 5; i++) {
        await waitPollfuncIdle(pollfunc); // see pollfuncThread(): a fire during the last one is lost
        trig.fire();
        await waitFor(() => blocks.length === i + 1, `scan ${i}`);
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(blocks.length, 5, 'no scan without a trigger');
      await cap.close();
      assert.deepEqual(errors, []);
      checkPattern(cap, blocks, 5);
    } finally {
      await cap?.close();
      dev.writeCurrentTrigger('');
      removeSysfsTrigger(7);
    }
    assert.equal(ctx.findTrigger('sysfstrig7'), undefined);
  });

  it('sysfs trigger: 10 000 single-scan fires, every value exact', async function () {
    // 10 000 round trips: ≈ 55 s in an idle VM, 2.5–3.5 min beside a second VM on 2 host cores.
    this.timeout(600000);
    const dev = adc();
    writeSys(dev, 'emu_dropped_scans', 0);
    const trig = createSysfsTrigger(6);
    let cap: CaptureStream | undefined;
    try {
      dev.writeCurrentTrigger(trig.name);
      const blocks: CapturedBlock[] = [];
      const errors: IioError[] = [];
      let arrived: (() => void) | null = null;
      cap = new CaptureStream(dev, {
        scansPerBlock: 1,
        length: 64,
        onBlock: (b) => {
          blocks.push(b);
          arrived?.();
        },
        onError: (e) => errors.push(e),
      });
      cap.start();
      const pollfunc = pollfuncThread(dev);
      for (let i = 0; i < 10000; i++) {
        // The scan arriving is not enough: the kernel drops a fire that lands before the handler
        // thread's iio_trigger_notify_done() (see pollfuncThread()). Wait for both.
        await waitPollfuncIdle(pollfunc);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`scan ${i} never arrived (${blocks.length} scans, pollfunc thread ${pollfunc} state ${threadState(pollfunc)})`)), 20000);
          arrived = () => {
            clearTimeout(timer);
            resolve();
          };
          trig.fire();
        });
        assert.equal(blocks.length, i + 1);
      }
      await new Promise((r) => setTimeout(r, 200));
      await cap.close();
      assert.deepEqual(errors, []);
      assert.equal(blocks.length, 10000, 'one scan per fire, none extra');
      assert.deepEqual(blocks.map((b) => [b.sequence, b.scans, b.overrun]), blocks.map((_, i) => [i + 1, 1, false]));
      checkPattern(cap, blocks, 10000);
      assert.equal(readSys(dev, 'emu_dropped_scans'), '0');
    } finally {
      await cap?.close();
      dev.writeCurrentTrigger('');
      removeSysfsTrigger(6);
    }
  });

  it('buffer1 opens through IIO_BUFFER_GET_FD while buffer0 is in use; buffer0 twice is EBUSY', async () => {
    const dev = adc();
    const trig = createSysfsTrigger(8);
    dev.writeCurrentTrigger(trig.name);
    const blocks: CapturedBlock[] = [];
    const errors: IioError[] = [];
    const cap = new CaptureStream(dev, { scansPerBlock: 16, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
    cap.start();
    const h = dev.openHandle();
    try {
      const b1 = h.openBuffer(1);
      assert.ok(b1.owned && b1.fd > 2 && b1.fd !== cap.fd);
      h.closeFd(b1.fd);
      assert.throws(() => h.openBuffer(0), (e: IioError) => e.code === 'EBUSY' && e.syscall === 'ioctl IIO_BUFFER_GET_FD_IOCTL' && e.path === dev.devPath);
      assert.throws(() => h.openBuffer(9), (e: IioError) => e.code === 'ENODEV');
    } finally {
      h.close();
      await cap.close();
      dev.writeCurrentTrigger('');
      removeSysfsTrigger(8);
    }
    assert.deepEqual(errors, []);
    assert.equal(blocks.length, 0, 'never fired');
  });

  it('enabling a triggered buffer without a trigger is EINVAL naming the buffer, and leaves nothing open', async () => {
    const dev = adc();
    assert.equal(dev.readCurrentTrigger(), '');
    const cap = new CaptureStream(dev, { scansPerBlock: 4, onBlock: () => undefined, onError: () => undefined });
    assert.throws(() => cap.start(), (e: IioError) => e.code === 'EINVAL' && e.attribute === 'buffer0/enable' && /no trigger is attached/.test(e.message));
    assert.equal(cap.running, false);
    assert.equal(DeviceHandle.openCount(), 0);
    assert.equal(readSys(dev, 'buffer0/enable'), '0');
  });

  it('small blocks are read on the event loop, large ones through the reactor: values exact, in order, and nothing left open after close', async () => {
    const dev = adc();
    const before = resources();
    writeSys(dev, 'emu_free_running', 2); // as fast as the reader takes it
    const fdsWhileOpen: number[] = [];
    try {
      for (const [scansPerBlock, onLoop] of [[100, true], [1638, false]] as const) {
        const blocks: CapturedBlock[] = [];
        const errors: IioError[] = [];
        const cap = new CaptureStream(dev, { index: 0, scansPerBlock, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
        cap.start();
        try {
          assert.equal(reactor.size, onLoop ? 0 : 1, `${scansPerBlock * 40}-byte blocks ${onLoop ? 'on the event loop' : 'through the reactor'}`);
          fdsWhileOpen.push(resources().fds.length - before.fds.length);
          await waitFor(() => blocks.length >= 30, '30 blocks', 60000);
        } finally {
          await cap.close();
        }
        assert.deepEqual(errors, []);
        // Mode 2 waits while the buffer is full, so nothing is lost: scan n of the pattern follows n-1.
        checkPattern(cap, blocks.slice(0, 30), 30 * scansPerBlock);
        assert.deepEqual(blocks.slice(0, 30).map((b) => [b.sequence, b.data.length, b.overrun]), blocks.slice(0, 30).map((_, i) => [i + 1, scansPerBlock * 40, false]));
        assert.deepEqual(resources(), before, 'the chardev and the duplicate closed');
        assert.equal(reactor.size, 0);
        assert.equal(readSys(dev, 'buffer0/enable'), '0');
      }
    } finally {
      writeSys(dev, 'emu_free_running', 0);
    }
    assert.equal(fdsWhileOpen[0], fdsWhileOpen[1] + 1, `the loop reader holds one duplicate fd (open while capturing: ${fdsWhileOpen})`);
  });
});
