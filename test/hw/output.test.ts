import { strict as assert } from 'assert';
import * as zlib from 'zlib';
import { OutputStream } from '../../src/buffer';
import { IioError } from '../../src/errors';
import { encodeScans } from '../../src/scan';
import { createHrtimerTrigger, removeHrtimerTrigger } from '../../src/trigger';
import { emu, readSys, writeSys, waitFor } from '../lib/hw';

describe('buffered output through write() (emu-dac buffer0)', function () {
  this.timeout(120000);

  it('the DAC consumes exactly the bytes written: count and CRC-32 match', async () => {
    const dac = emu('emu-dac');
    writeSys(dac, 'emu_reset', 1);
    const trig = createHrtimerTrigger('hwtest-dac');
    const errors: IioError[] = [];
    let drains = 0;
    const out = new OutputStream(dac, { index: 0, scansPerBlock: 256, length: 1024, queueLimit: 2, onError: (e) => errors.push(e), onDrain: () => drains++ });
    try {
      trig.writeFrequency(4000);
      dac.writeCurrentTrigger(trig.name);
      assert.equal(out.layout.scanBytes, 4);
      out.start();
      const scans = 4096;
      const v0 = Int16Array.from({ length: scans }, (_, i) => ((i * 37) % 65536) - 32768);
      const v1 = Int16Array.from({ length: scans }, (_, i) => 1000 - i);
      const data = encodeScans(out.layout, { voltage0: v0, voltage1: v1 }, scans);
      let accepted = true;
      for (let off = 0; off < data.length; off += 1024) {
        if (!accepted) await waitFor(() => out.queued < 2, 'queue room');
        accepted = out.write(data.subarray(off, off + 1024));
      }
      await waitFor(() => Number(readSys(dac, 'emu_consumed_bytes')) >= data.length, 'the DAC to consume everything', 100000);
      assert.equal(Number(readSys(dac, 'emu_consumed_bytes')), data.length);
      assert.equal(Number(readSys(dac, 'emu_consumed_scans')), scans);
      assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(data).toString(16).padStart(8, '0')}`);
      assert.equal(out.written, data.length);
      assert.ok(drains > 0, 'backpressure was exercised');
      assert.deepEqual(errors, []);
    } finally {
      await out.close();
      dac.writeCurrentTrigger('');
      removeHrtimerTrigger('hwtest-dac');
    }
    assert.equal(readSys(dac, 'buffer0/enable'), '0');
  });

  it('rejects a write that is not whole scans', async () => {
    const dac = emu('emu-dac');
    const trig = createHrtimerTrigger('hwtest-dac2');
    const errors: IioError[] = [];
    const out = new OutputStream(dac, { scansPerBlock: 4, onError: (e) => errors.push(e) });
    try {
      dac.writeCurrentTrigger(trig.name);
      out.start();
      assert.throws(() => out.write(Buffer.alloc(3)), (e: IioError) => e.code === 'EINVAL' && /4-byte scans/.test(e.message));
      assert.equal(out.written, 0);
    } finally {
      await out.close();
      dac.writeCurrentTrigger('');
      removeHrtimerTrigger('hwtest-dac2');
    }
    assert.deepEqual(errors, []);
  });
});
