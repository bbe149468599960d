// Kernels without the IIO DMABUF API (before 6.11: Debian bookworm's 6.1 on arm64/armhf): the
// buffer fd has no DMABUF ioctls (ENOTTY), and transport auto must carry the same exact data
// through read() and write(). On 6.11+ the DMABUF suite (dmabuf.test.ts) runs instead.
import { strict as assert } from 'assert';
import * as zlib from 'zlib';
import { CapturedBlock, CaptureStream, OutputStream } from '../../src/buffer';
import { DmabufCapture, DmabufOutput, isDmabufUnsupported, fallsBackToReadWrite } from '../../src/dmabuf';
import { openInput } from '../../src/transport';
import { DeviceHandle } from '../../src/device';
import { IioError } from '../../src/errors';
import { ioctl, closeFd, sealedMemfd, openFile, O_RDWR } from '../../src/libc';
import { IIO_BUFFER_DMABUF_ATTACH_IOCTL, IIO_BUFFER_GET_FD_IOCTL, encodeInt, decodeInt } from '../../src/uapi';
import { encodeScans } from '../../src/scan';
import { emu, readSys, writeSys, waitFor, kernelHasIioDmabuf, withTrigger, checkPattern } from '../lib/hw';

describe('DMABUF fallback on a kernel without the IIO DMABUF API (< 6.11)', function () {
  this.timeout(180000);
  before(function () {
    if (kernelHasIioDmabuf()) this.skip();
    console.log(`      (kernel ${require('os').release()}: no IIO DMABUF, checking the read()/write() fallback)`);
  });

  it('ATTACH on buffer1 of emu-adc and emu-dac is ENOTTY, which counts as "DMABUF unsupported"', () => {
    for (const name of ['emu-adc', 'emu-dac'] as const) {
      const dev = emu(name);
      const cfd = openFile(dev.devPath, O_RDWR);
      const memfd = sealedMemfd('attach-probe', 4096);
      try {
        const arg = encodeInt(1);
        ioctl(cfd, IIO_BUFFER_GET_FD_IOCTL, arg, { what: 'IIO_BUFFER_GET_FD_IOCTL' });
        const bfd = decodeInt(arg);
        try {
          assert.throws(
            () => ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, encodeInt(memfd), { what: 'IIO_BUFFER_DMABUF_ATTACH_IOCTL' }),
            (e: IioError) => e.code === 'ENOTTY' && e.errno === 25 && isDmabufUnsupported(e) && fallsBackToReadWrite(e) && /IIO_BUFFER_DMABUF_ATTACH_IOCTL/.test(e.message),
          );
        } finally {
          closeFd(bfd);
        }
      } finally {
        closeFd(memfd);
        closeFd(cfd);
      }
    }
  });

  it('capture: transport auto falls back to read() on buffer1, 2000 scans with every value exact', async () => {
    const adc = emu('emu-adc');
    const probe = new DmabufCapture(adc, { index: 1, scansPerBlock: 100, onBlock: () => undefined, onError: () => undefined });
    assert.throws(() => probe.start(), (e: unknown) => fallsBackToReadWrite(e));
    assert.equal(DeviceHandle.openCount(), 0);
    await withTrigger(adc, 'fallback-cap', 2000, async () => {
      const blocks: CapturedBlock[] = [];
      const errors: IioError[] = [];
      const started = openInput(adc, { index: 1, scansPerBlock: 100, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) }, 'auto');
      try {
        assert.equal(started.transport, 'read');
        assert.ok(started.stream instanceof CaptureStream);
        assert.ok(started.fallback, 'the reason for the fallback is reported');
        await waitFor(() => blocks.length >= 20, '2000 scans', 120000);
      } finally {
        await started.stream.close();
      }
      assert.deepEqual(errors, []);
      checkPattern(started.stream as CaptureStream, blocks, 2000);
      assert.equal(readSys(adc, 'buffer1/enable'), '0');
    });
    assert.throws(() => openInput(adc, { index: 1, scansPerBlock: 1, onBlock: () => undefined, onError: () => undefined }, 'dmabuf'), (e: unknown) => fallsBackToReadWrite(e));
    assert.equal(DeviceHandle.openCount(), 0);
  });

  it('output: DMABUF is refused, and write() on buffer1 reaches the DAC exactly (byte count and CRC-32)', async () => {
    const dac = emu('emu-dac');
    const probe = new DmabufOutput(dac, { index: 1, scansPerBlock: 64, onError: () => undefined });
    assert.throws(() => probe.start(), (e: unknown) => fallsBackToReadWrite(e));
    writeSys(dac, 'emu_reset', 1);
    await withTrigger(dac, 'fallback-dac', 4000, async () => {
      const errors: IioError[] = [];
      const out = new OutputStream(dac, { index: 1, scansPerBlock: 256, onError: (e) => errors.push(e) });
      out.start();
      const scans = 256 * 8;
      const data = encodeScans(out.layout, { voltage0: Int16Array.from({ length: scans }, (_, i) => (i * 5) & 0x7fff), voltage1: Int16Array.from({ length: scans }, (_, i) => -i) }, scans);
      try {
        // write() always queues; false asks the caller to wait before the next one.
        for (let off = 0; off < data.length; off += 1024) {
          if (!out.write(data.subarray(off, off + 1024))) await waitFor(() => out.queued < 4, 'room in the queue');
        }
        await waitFor(() => Number(readSys(dac, 'emu_consumed_bytes')) >= data.length, 'the DAC to consume everything', 100000);
      } finally {
        await out.close();
      }
      assert.deepEqual(errors, []);
      assert.equal(Number(readSys(dac, 'emu_consumed_bytes')), data.length);
      assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(data).toString(16).padStart(8, '0')}`);
    });
  });
});
