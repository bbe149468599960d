// The device handle on the fake backend: one chardev per device, buffer and event fds by ioctl.
import { strict as assert } from 'node:assert';
import { DeviceHandle } from '../../src/device';
import { IioError } from '../../src/errors';
import { IioContext } from '../../src/context';
import { useFakeKernel, adc, deviceInfo } from '../lib/fake-backend';

describe('device handle (fake backend)', () => {
  const k = useFakeKernel();

  it('opens the chardev once for every user and closes it with the last release', () => {
    const dev = adc(k.fake);
    const info = deviceInfo(k.fake, dev);
    const a = info.openHandle();
    const b = info.openHandle();
    assert.equal(a, b);
    assert.equal(k.fake.openFds('chardev'), 1);
    assert.equal(DeviceHandle.openCount(), 1);
    a.close();
    assert.equal(k.fake.openFds('chardev'), 1);
    b.close();
    assert.equal(k.fake.openFds('chardev'), 0);
    assert.equal(DeviceHandle.openCount(), 0);
    b.close(); // once more: harmless
    assert.equal(DeviceHandle.openCount(), 0);
  });

  it('falls back to a read-only open when read-write is not permitted (EACCES)', () => {
    const dev = adc(k.fake);
    dev.refuseRdwr = 'EACCES';
    const h = deviceInfo(k.fake, dev).openHandle();
    assert.equal(k.fake.openFds('chardev'), 1);
    h.close();
  });

  it('names the device and the errno when the chardev cannot be opened', () => {
    const dev = adc(k.fake, { label: 'board' });
    k.fake.fail('open', 'EBUSY');
    assert.throws(() => deviceInfo(k.fake, dev).openHandle(), (e: IioError) => {
      assert.equal(e.code, 'EBUSY');
      assert.equal(e.device, 'fake-adc/board');
      assert.equal(e.path, '/dev/iio:device0');
      return true;
    });
    assert.equal(DeviceHandle.openCount(), 0);
  });

  it('opens a buffer fd by IIO_BUFFER_GET_FD_IOCTL; a second open is EBUSY naming the ioctl', () => {
    const h = deviceInfo(k.fake, adc(k.fake)).openHandle();
    const b = h.openBuffer(0);
    assert.equal(b.owned, true);
    assert.notEqual(b.fd, h.fd);
    assert.throws(() => h.openBuffer(0), (e: IioError) => e.code === 'EBUSY' && /ioctl IIO_BUFFER_GET_FD_IOCTL/.test(e.message));
    assert.throws(() => h.openBuffer(1), (e: IioError) => e.code === 'ENODEV');
    h.closeFd(b.fd);
    assert.equal(k.fake.openFds('buffer'), 0);
    h.close();
  });

  it('reads buffer0 through the chardev itself on kernels without GET_FD (ENOTTY), and never closes it for the buffer', () => {
    const dev = adc(k.fake);
    dev.noGetFd = true;
    const h = deviceInfo(k.fake, dev).openHandle();
    const b = h.openBuffer(0);
    assert.deepEqual(b, { fd: h.fd, owned: false });
    assert.throws(() => h.openBuffer(1), (e: IioError) => e.code === 'ENOTTY');
    h.closeFd(b.fd);
    assert.equal(k.fake.openFds('chardev'), 1);
    h.close();
  });

  it('rejects a bad buffer index with EINVAL before any ioctl', () => {
    const h = deviceInfo(k.fake, adc(k.fake)).openHandle();
    for (const bad of [-1, 1.5, 0x10000, NaN]) assert.throws(() => h.openBuffer(bad), (e: IioError) => e.code === 'EINVAL');
    assert.deepEqual(k.fake.ioctls, []);
    h.close();
  });

  it('opens the event fd; ENODEV on a device without events, EBUSY for a second one', () => {
    const h = deviceInfo(k.fake, adc(k.fake, { hasEvents: true })).openHandle();
    const fd = h.openEvents();
    assert.throws(() => h.openEvents(), (e: IioError) => e.code === 'EBUSY' && /IIO_GET_EVENT_FD_IOCTL/.test(e.message));
    h.closeFd(fd);
    h.close();
    const h2 = deviceInfo(k.fake, adc(k.fake, { name: 'no-events' })).openHandle();
    assert.throws(() => h2.openEvents(), (e: IioError) => e.code === 'ENODEV');
    h2.close();
  });

  it('the context owns the sharing: Device objects of one context share the chardev, the count drops with the last close', () => {
    const dev = adc(k.fake);
    const ctx = new IioContext(k.fake.root);
    const a = ctx.findDevice({ id: dev.id }).openHandle();
    const b = ctx.findDevice({ id: dev.id }).openHandle();
    assert.equal(a, b, 'two lookups of one device: one chardev');
    assert.equal(ctx.openHandles(), 1);
    a.close();
    assert.equal(ctx.openHandles(), 1);
    b.close();
    assert.equal(ctx.openHandles(), 0);
    assert.equal(k.fake.openFds('chardev'), 0);
    assert.throws(() => b.retain(), (e: IioError) => e.code === 'EBADF', 'a closed handle cannot be revived');
    const c = ctx.findDevice({ id: dev.id }).openHandle();
    assert.notEqual(c, a, 'reopened after the last close');
    assert.equal(k.fake.openFds('chardev'), 1);
    c.close();
  });

  it('no process-wide registry: a second context opening the same device meets the kernel’s one-opener rule (EBUSY)', () => {
    const dev = adc(k.fake);
    const first = new IioContext(k.fake.root).findDevice({ id: dev.id }).openHandle();
    assert.throws(() => new IioContext(k.fake.root).findDevice({ id: dev.id }).openHandle(), (e: IioError) => e.code === 'EBUSY' && e.device === 'fake-adc');
    assert.equal(DeviceHandle.openCount(), 1);
    first.close();
    assert.equal(DeviceHandle.openCount(), 0);
  });
});
