// Buffered capture and output through read()/write() on the fake backend: the sysfs setup order,
// exact blocks, overruns, backpressure, and every way a stream ends (stop, hang-up, errors).
import { strict as assert } from 'node:assert';
import { CaptureStream, OutputStream, CapturedBlock } from '../../src/buffer';
import { IioError } from '../../src/errors';
import { useFakeKernel, adc, deviceInfo, until, u16, FakeBackend } from '../lib/fake-backend';

const base = '/sys/bus/iio/devices/iio:device0';

function capture(fake: FakeBackend, opts: { scansPerBlock?: number; length?: number; channels?: string[] } = {}) {
  const blocks: CapturedBlock[] = [];
  const errors: IioError[] = [];
  const info = deviceInfo(fake, fake.devices.get('/dev/iio:device0')!);
  const s = new CaptureStream(info, { scansPerBlock: opts.scansPerBlock ?? 4, length: opts.length, channels: opts.channels, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
  return { s, blocks, errors };
}

describe('capture through read() (fake backend)', () => {
  const k = useFakeKernel();

  it('configures scan elements, length and watermark, and writes enable last', async () => {
    adc(k.fake, { elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }, { name: 'voltage1', index: 1, type: 'le:u16/16>>0' }] });
    const { s } = capture(k.fake, { scansPerBlock: 8, length: 32, channels: ['voltage1'] });
    s.start();
    assert.deepEqual(k.fake.writes, [`${base}/buffer0/in_voltage1_en=1`, `${base}/buffer0/length=32`, `${base}/buffer0/watermark=8`, `${base}/buffer0/enable=1`]);
    assert.deepEqual(k.fake.ioctls, ['IIO_BUFFER_GET_FD_IOCTL']);
    await s.close();
  });

  it('delivers blocks of exactly scansPerBlock scans, in order, with the bytes the device produced', async () => {
    const dev = adc(k.fake);
    const { s, blocks, errors } = capture(k.fake, { scansPerBlock: 4, length: 64 });
    s.start();
    k.fake.produce(dev, u16(1, 2, 3));
    k.fake.produce(dev, u16(4, 5, 6, 7, 8, 9));
    await until(() => blocks.length === 2, 'two blocks');
    assert.deepEqual(blocks.map((b) => [...b.data]), [[...u16(1, 2, 3, 4)], [...u16(5, 6, 7, 8)]]);
    assert.deepEqual(blocks.map((b) => [b.scans, b.sequence, b.overrun]), [[4, 1, false], [4, 2, false]]);
    k.fake.produce(dev, u16(10, 11, 12));
    await until(() => blocks.length === 3, 'the third block');
    assert.deepEqual([...blocks[2].data], [...u16(9, 10, 11, 12)]);
    assert.deepEqual(errors, []);
    await s.close();
  });

  it('stop right after start, with the reactor\'s poll in flight, closes the fd only after the poll returned', async () => {
    const dev = adc(k.fake);
    const { s, blocks } = capture(k.fake);
    s.start();
    await until(() => k.fake.pollsWaiting === 1, 'the poll in flight');
    const closedWhilePolled = k.fake.spyCloseDuringPoll(s.fd);
    await s.close();
    assert.equal(closedWhilePolled(), false);
    k.fake.produce(dev, u16(1, 2, 3, 4));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(blocks.length, 0);
    assert.equal(k.fake.openFds(), 0);
  });

  it('a backend that cannot start waiting (EMFILE for the loop reader): start fails with it, and nothing stays enabled or open', async () => {
    adc(k.fake);
    const fake = k.fake as FakeBackend & { readOnLoop?: unknown };
    fake.readOnLoop = () => {
      throw new IioError({ code: 'EMFILE', errno: 24, syscall: 'fcntl F_DUPFD_CLOEXEC' });
    };
    const { s, blocks } = capture(k.fake);
    assert.throws(() => s.start(), (e: IioError) => e.code === 'EMFILE');
    assert.equal(s.running, false);
    assert.ok(k.fake.writes.lastIndexOf(`${base}/buffer0/enable=0`) > k.fake.writes.indexOf(`${base}/buffer0/enable=1`), `enabled, then disabled again: ${k.fake.writes}`);
    assert.equal(k.fake.openFds(), 0);
    assert.equal(blocks.length, 0);
  });

  it('a readable fd that gives EAGAIN delivers nothing and reports nothing', async () => {
    const dev = adc(k.fake);
    const { s, blocks, errors } = capture(k.fake, { scansPerBlock: 1 });
    s.start();
    k.fake.fail('read', 'EAGAIN');
    k.fake.produce(dev, u16(5));
    await until(() => blocks.length === 1, 'the block on the next wake-up');
    assert.deepEqual([...blocks[0].data], [...u16(5)]);
    assert.deepEqual(errors, []);
    await s.close();
  });

  it('stop disables the buffer, closes its fd and the chardev, and restores the scan elements enabled before', async () => {
    const dev = adc(k.fake, { elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }, { name: 'voltage1', index: 1, type: 'le:u16/16>>0' }] });
    k.fake.setFile(`${base}/buffer0/in_voltage1_en`, '1\n'); // someone's earlier choice
    const { s } = capture(k.fake, { channels: ['voltage0'] });
    s.start();
    assert.equal(k.fake.text(`${base}/buffer0/in_voltage0_en`), '1');
    assert.equal(k.fake.text(`${base}/buffer0/in_voltage1_en`), '0');
    await s.close();
    assert.equal(k.fake.enabled(dev), false);
    assert.equal(k.fake.text(`${base}/buffer0/in_voltage0_en`), '0');
    assert.equal(k.fake.text(`${base}/buffer0/in_voltage1_en`), '1');
    assert.equal(k.fake.openFds(), 0);
    assert.equal(s.running, false);
    await s.close(); // twice: nothing more
  });

  it('turns channels off before turning others on (drivers allowing one channel at a time)', async () => {
    adc(k.fake, { elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }, { name: 'voltage1', index: 1, type: 'le:u16/16>>0' }] });
    k.fake.setFile(`${base}/buffer0/in_voltage0_en`, '1\n');
    const { s } = capture(k.fake, { channels: ['voltage1'] });
    s.start();
    assert.deepEqual(k.fake.writes.slice(0, 2), [`${base}/buffer0/in_voltage0_en=0`, `${base}/buffer0/in_voltage1_en=1`]);
    await s.close();
  });

  it('a second capture of a running buffer fails with EBUSY and leaves the first one\'s configuration alone', async () => {
    adc(k.fake);
    const a = capture(k.fake);
    a.s.start();
    const writes = k.fake.writes.length;
    const b = capture(k.fake, { scansPerBlock: 2 });
    assert.throws(() => b.s.start(), (e: IioError) => e.code === 'EBUSY');
    assert.equal(k.fake.writes.length, writes);
    assert.equal(b.s.running, false);
    await a.s.close();
  });

  it('reports a hang-up (device removed) once as ENODEV and releases everything', async () => {
    const dev = adc(k.fake);
    const { s, errors } = capture(k.fake);
    s.start();
    k.fake.removeDevice(dev);
    await until(() => errors.length === 1 && !s.running, 'the hang-up');
    await s.close();
    assert.equal(errors[0].code, 'ENODEV');
    assert.match(errors[0].message, /buffer0 hung up/);
    assert.equal(k.fake.openFds(), 0);
  });

  it('reports a read() failure mid-stream with the syscall, device and errno', async () => {
    const dev = adc(k.fake);
    const { s, errors } = capture(k.fake);
    s.start();
    k.fake.fail('read', 'EIO');
    k.fake.produce(dev, u16(1));
    await until(() => errors.length === 1, 'the error');
    assert.equal(errors[0].code, 'EIO');
    assert.equal(errors[0].syscall, 'read');
    assert.equal(errors[0].device, 'fake-adc');
    assert.equal(errors[0].path, '/dev/iio:device0');
    await s.close();
  });

  it('flags the block after a full kernel buffer as an overrun (the read took the whole kfifo)', async () => {
    const dev = adc(k.fake);
    const { s, blocks } = capture(k.fake, { scansPerBlock: 2, length: 4 });
    s.start();
    k.fake.produce(dev, u16(1, 2, 3, 4)); // exactly the kfifo's 4 scans: it was full
    await until(() => blocks.length === 2, 'two blocks');
    k.fake.produce(dev, u16(5, 6));
    await until(() => blocks.length === 3, 'the block after the loss');
    assert.deepEqual(blocks.map((b) => b.overrun), [false, false, true]);
    assert.equal(blocks[2].lost, undefined, 'no timestamp channel: nothing to count with');
    assert.equal(s.overruns, 1);
    await s.close();
  });

  it('counts the scans lost in an overrun from the timestamp channel', async () => {
    const dev = adc(k.fake, { elements: [{ name: 'timestamp', index: 0, type: 'le:s64/64>>0' }] });
    const { s, blocks } = capture(k.fake, { scansPerBlock: 2, length: 4 });
    s.start();
    const ts = (...t: number[]) => Buffer.concat(t.map((v) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); return b; }));
    k.fake.produce(dev, ts(100, 200, 300, 400)); // full
    await until(() => blocks.length === 2, 'two blocks');
    k.fake.produce(dev, ts(900, 1000)); // 500..800 lost: 4 scans
    await until(() => blocks.length === 3, 'the block after the loss');
    assert.equal(blocks[2].overrun, true);
    assert.equal(blocks[2].lost, 4);
    assert.equal(s.gaps.lost, 4);
    await s.close();
  });

  it('reports a buffer disabled by someone else as ECANCELED and stops', async () => {
    adc(k.fake);
    const { s, errors } = capture(k.fake);
    s.start();
    k.fake.setFile(`${base}/buffer0/enable`, '0\n');
    s.checkStillEnabled();
    await until(() => !s.running, 'the stop');
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'ECANCELED');
    assert.equal(errors[0].attribute, 'buffer0/enable');
  });

  it('explains EINVAL on enable when no trigger is attached, and leaves nothing open', () => {
    adc(k.fake, { triggerable: true });
    k.fake.fail('writeText', 'EINVAL', 1, (p) => p === `${base}/buffer0/enable`);
    const { s } = capture(k.fake);
    assert.throws(() => s.start(), (e: IioError) => e.code === 'EINVAL' && /no trigger is attached/.test(e.message));
    assert.equal(k.fake.openFds(), 0);
    assert.equal(s.running, false);
  });

  it('takes over a buffer left enabled with nobody holding it', async () => {
    const dev = adc(k.fake);
    k.fake.setFile(`${base}/buffer0/enable`, '1\n');
    const { s } = capture(k.fake);
    s.start();
    assert.equal(k.fake.writes[0], `${base}/buffer0/enable=0`);
    assert.equal(k.fake.enabled(dev), true);
    await s.close();
  });

  it('rejects an unknown channel, an output buffer and a length shorter than a block before opening anything', () => {
    adc(k.fake);
    k.fake.addDevice({ name: 'fake-dac', buffers: [{ direction: 'out', elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    const info = deviceInfo(k.fake, k.fake.devices.get('/dev/iio:device0')!);
    const dac = deviceInfo(k.fake, k.fake.devices.get('/dev/iio:device1')!);
    const none = { onBlock: () => undefined, onError: () => undefined };
    assert.throws(() => new CaptureStream(info, { scansPerBlock: 4, channels: ['voltage7'], ...none }), (e: IioError) => e.code === 'EINVAL' && /has no channel "voltage7" \(it has: voltage0\)/.test(e.message));
    assert.throws(() => new CaptureStream(dac, { scansPerBlock: 4, ...none }), (e: IioError) => e.code === 'EINVAL' && /is an output buffer/.test(e.message));
    assert.throws(() => new CaptureStream(info, { scansPerBlock: 8, length: 4, ...none }), (e: IioError) => e.code === 'EINVAL' && /shorter than a block/.test(e.message));
    assert.throws(() => new CaptureStream(info, { index: 3, scansPerBlock: 8, ...none }), (e: IioError) => e.code === 'ENODEV');
    assert.equal(k.fake.openFds(), 0);
  });

  it('reads buffer0 through the chardev on kernels without GET_FD, and closes it once', async () => {
    const dev = adc(k.fake);
    dev.noGetFd = true;
    const { s, blocks } = capture(k.fake, { scansPerBlock: 2 });
    s.start();
    assert.equal(s.fd, dev.chardevFd);
    // On such kernels the chardev is the buffer: the fake serves buffer0's data there too.
    dev.buffers[0].fd = dev.chardevFd;
    k.fake.fds.set(dev.chardevFd!, { kind: 'buffer', dev, buf: dev.buffers[0] });
    k.fake.produce(dev, u16(7, 8));
    await until(() => blocks.length === 1, 'a block');
    assert.deepEqual([...blocks[0].data], [...u16(7, 8)]);
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });
});

describe('output through write() (fake backend)', () => {
  const k = useFakeKernel();

  function dac(fake: FakeBackend) {
    const dev = fake.addDevice({ name: 'fake-dac', buffers: [{ direction: 'out', elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    return { dev, info: deviceInfo(fake, dev) };
  }

  it('writes queued blocks when the kernel buffer has room, in order, exactly', async () => {
    const { dev, info } = dac(k.fake);
    const s = new OutputStream(info, { scansPerBlock: 2, onError: assert.fail });
    s.start();
    assert.equal(s.write(u16(1, 2)), true);
    assert.equal(s.write(u16(3, 4)), true);
    await until(() => s.written === 8, 'both written');
    assert.deepEqual([...Buffer.concat(dev.buffers[0].data)], [...u16(1, 2, 3, 4)]);
    assert.equal(s.queued, 0);
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });

  it('reports backpressure at the queue limit and calls onDrain once room returns', async () => {
    const { dev, info } = dac(k.fake);
    dev.buffers[0].room = 0;
    let drained = 0;
    const s = new OutputStream(info, { scansPerBlock: 1, queueLimit: 2, onError: assert.fail, onDrain: () => drained++ });
    s.start();
    assert.equal(s.write(u16(1)), true);
    assert.equal(s.write(u16(2)), false);
    assert.equal(s.queued, 2);
    dev.buffers[0].room = 3; // room for one scan and a half: a partial write
    k.fake.notify();
    await until(() => drained === 1, 'onDrain');
    assert.equal(s.written, 3);
    assert.equal(s.queued, 1);
    dev.buffers[0].room = 100;
    k.fake.notify();
    await until(() => s.queued === 0, 'the rest');
    assert.deepEqual([...Buffer.concat(dev.buffers[0].data)], [...u16(1, 2)]);
    assert.equal(drained, 1);
    await s.close();
  });

  it('refuses partial scans (EINVAL) and writes to a stopped stream (EPIPE)', async () => {
    const { info } = dac(k.fake);
    const s = new OutputStream(info, { scansPerBlock: 2, onError: assert.fail });
    assert.throws(() => s.write(u16(1)), (e: IioError) => e.code === 'EPIPE');
    s.start();
    assert.throws(() => s.write(Buffer.alloc(3)), (e: IioError) => e.code === 'EINVAL' && /whole number of 2-byte scans/.test(e.message));
    assert.throws(() => s.write(Buffer.alloc(0)), (e: IioError) => e.code === 'EINVAL');
    await s.close();
  });

  it('reports a write() failure (ENODEV after removal) and stops', async () => {
    const { dev, info } = dac(k.fake);
    const errors: IioError[] = [];
    const s = new OutputStream(info, { scansPerBlock: 1, onError: (e) => errors.push(e) });
    s.start();
    k.fake.removeDevice(dev);
    s.write(u16(5));
    await until(() => errors.length >= 1 && !s.running, 'the failure');
    assert.equal(errors[0].code, 'ENODEV');
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });
});
