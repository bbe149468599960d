// Event monitoring and triggers on the fake backend.
import { strict as assert } from 'node:assert';
import { EventStream, IioEvent, eventChannelId } from '../../src/events';
import { IioError } from '../../src/errors';
import { IioContext } from '../../src/context';
import { encodeEventCode, decodeEventCode, IIO_EV_DIR, IIO_EV_TYPE, IIO_CHAN_TYPE } from '../../src/uapi';
import { Trigger, createSysfsTrigger, removeSysfsTrigger, createHrtimerTrigger, removeHrtimerTrigger, checkTriggerBeforeEnable, triggerConsumers } from '../../src/trigger';
import { useFakeKernel, adc, deviceInfo, until, FakeBackend } from '../lib/fake-backend';

describe('events (fake backend)', () => {
  const k = useFakeKernel();

  function monitor(fake: FakeBackend, hasEvents = true) {
    const dev = adc(fake, { hasEvents });
    const got: IioEvent[] = [];
    const errors: IioError[] = [];
    const s = new EventStream(deviceInfo(fake, dev), { onEvents: (e) => got.push(...e), onError: (e) => errors.push(e) });
    return { dev, s, got, errors };
  }

  it('decodes every event of a batch: type, direction, channel, modifier and the exact timestamp', async () => {
    const { dev, s, got, errors } = monitor(k.fake);
    s.start();
    const rising = encodeEventCode({ type: IIO_EV_TYPE.THRESH, direction: IIO_EV_DIR.RISING, channelType: IIO_CHAN_TYPE.TEMP, channel: 0 });
    const falling = encodeEventCode({ type: IIO_EV_TYPE.THRESH, direction: IIO_EV_DIR.FALLING, channelType: IIO_CHAN_TYPE.VOLTAGE, channel: -1, differential: true, channel2: 3 });
    k.fake.raiseEvent(dev, rising, 1234567890123456789n);
    k.fake.raiseEvent(dev, falling, 5n);
    await until(() => got.length === 2, 'two events');
    assert.deepEqual(got.map((e) => [e.typeName, e.directionName, e.channelTypeName, e.channel, e.channel2, e.differential, e.timestamp, e.id]), [
      ['thresh', 'rising', 'temp', 0, 0, false, 1234567890123456789n, rising],
      ['thresh', 'falling', 'voltage', -1, 3, true, 5n, falling],
    ]);
    assert.deepEqual(errors, []);
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });

  it('a backend that cannot start waiting on the event fd (EMFILE): start fails with it and closes the event fd and the chardev', () => {
    const { s } = monitor(k.fake);
    (k.fake as FakeBackend & { readOnLoop?: unknown }).readOnLoop = () => {
      throw new IioError({ code: 'EMFILE', errno: 24, syscall: 'fcntl F_DUPFD_CLOEXEC' });
    };
    assert.throws(() => s.start(), (e: IioError) => e.code === 'EMFILE');
    assert.equal(s.running, false);
    assert.equal(k.fake.openFds(), 0);
  });

  it('a second monitor of the same device fails with EBUSY; the first keeps running', async () => {
    const { dev, s, got } = monitor(k.fake);
    s.start();
    const other = new EventStream(deviceInfo(k.fake, dev), { onEvents: () => assert.fail("events"), onError: (e) => assert.fail(e) });
    assert.throws(() => other.start(), (e: IioError) => e.code === 'EBUSY');
    k.fake.raiseEvent(dev, 1n, 1n);
    await until(() => got.length === 1, 'the event');
    await s.close();
    assert.equal(k.fake.openFds(), 0);
  });

  it('ENODEV on a device without events, and the chardev is released again', () => {
    const { s } = monitor(k.fake, false);
    assert.throws(() => s.start(), (e: IioError) => e.code === 'ENODEV');
    assert.equal(s.running, false);
    assert.equal(k.fake.openFds(), 0);
  });

  it('reports a hang-up as ENODEV once and stops', async () => {
    const { dev, s, errors } = monitor(k.fake);
    s.start();
    k.fake.removeDevice(dev);
    await until(() => errors.length === 1 && !s.running, 'the hang-up');
    assert.equal(errors[0].code, 'ENODEV');
    await until(() => k.fake.openFds() === 0, 'fds closed');
  });
});

describe('triggers (fake backend)', () => {
  const k = useFakeKernel();
  const root = '/sys/bus/iio/devices';

  it('creates a sysfs trigger through add_trigger and finds it; removes it through remove_trigger', () => {
    k.fake.addTriggerSupport();
    const ctx = new IioContext(root);
    const t = createSysfsTrigger(7, ctx);
    assert.ok(t instanceof Trigger);
    assert.deepEqual({ ...t }, { id: 'trigger0', name: 'sysfstrig7', sysfsPath: `${root}/trigger0` });
    t.fire();
    assert.deepEqual(k.fake.writes, [`${root}/iio_sysfs_trigger/add_trigger=7`, `${root}/trigger0/trigger_now=1`]);
    removeSysfsTrigger(7, ctx);
    assert.equal(ctx.findTrigger('sysfstrig7'), undefined);
  });

  it('without iio-trig-sysfs: ENOENT saying which module to load', () => {
    assert.throws(() => createSysfsTrigger(1, new IioContext(root)), (e: IioError) => e.code === 'ENOENT' && /load the iio-trig-sysfs module/.test(e.message));
  });

  it('creates and removes an hrtimer trigger through configfs, and sets its frequency', () => {
    k.fake.addTriggerSupport();
    const t = createHrtimerTrigger('tick', new IioContext(root));
    assert.equal(t.name, 'tick');
    t.writeFrequency(250);
    assert.equal(k.fake.text(`${t.sysfsPath}/sampling_frequency`), '250');
    assert.throws(() => t.writeFrequency(0), (e: IioError) => e.code === 'EINVAL');
    removeHrtimerTrigger('tick');
    assert.equal(new IioContext(root).findTrigger('tick'), undefined);
  });

  it('without configfs hrtimer support: ENOENT naming iio-trig-hrtimer; bad names are EINVAL before any mkdir', () => {
    assert.throws(() => createHrtimerTrigger('tick', new IioContext(root)), (e: IioError) => e.code === 'ENOENT' && /iio-trig-hrtimer/.test(e.message));
    for (const bad of ['', '..', 'a/b', 'x'.repeat(65)]) assert.throws(() => createHrtimerTrigger(bad), (e: IioError) => e.code === 'EINVAL');
  });

  it('attaches and detaches a device\'s trigger; a device without one is ENOTSUP', () => {
    const dev = adc(k.fake, { triggerable: true });
    const info = deviceInfo(k.fake, dev);
    info.writeCurrentTrigger('tick');
    assert.equal(info.readCurrentTrigger(), 'tick');
    info.writeCurrentTrigger('');
    assert.equal(k.fake.writes[1], `${dev.sysfsPath}/trigger/current_trigger=\n`);
    const plain = deviceInfo(k.fake, adc(k.fake, { name: 'plain' }));
    assert.throws(() => plain.writeCurrentTrigger('tick'), (e: IioError) => e.code === 'ENOTSUP');
  });

  it('refuses a trigger that already drives as many running devices as the kernel allows (EBUSY naming them)', () => {
    k.fake.addTriggerSupport();
    createSysfsTrigger(1, new IioContext(root));
    const devs = [0, 1, 2].map((i) => adc(k.fake, { name: `adc${i}`, triggerable: true }));
    for (const d of devs) k.fake.setFile(`${d.sysfsPath}/trigger/current_trigger`, 'sysfstrig1\n');
    k.fake.setFile(`${devs[0].sysfsPath}/buffer0/enable`, '1\n');
    k.fake.setFile(`${devs[1].sysfsPath}/buffer0/enable`, '1\n');
    assert.deepEqual(triggerConsumers(root, 'sysfstrig1', devs[2].sysfsPath), ['iio:device0', 'iio:device1']);
    assert.throws(() => checkTriggerBeforeEnable(deviceInfo(k.fake, devs[2])), (e: IioError) => e.code === 'EBUSY' && /iio:device0, iio:device1/.test(e.message));
    k.fake.setFile(`${devs[1].sysfsPath}/buffer0/enable`, '0\n');
    checkTriggerBeforeEnable(deviceInfo(k.fake, devs[2]));
  });

  it('refuses to enable on a trigger that was removed while attached (ENOENT), instead of crashing the kernel', () => {
    const dev = adc(k.fake, { triggerable: true });
    k.fake.setFile(`${dev.sysfsPath}/trigger/current_trigger`, 'gone\n');
    // Writing a name that is not registered leaves the device detached, as the kernel does.
    k.fake.onWrite = (file, text) => {
      if (file.endsWith('current_trigger') && text !== '\n') k.fake.files.set(file, '\n');
    };
    assert.throws(() => checkTriggerBeforeEnable(deviceInfo(k.fake, dev)), (e: IioError) => e.code === 'ENOENT' && /"gone" no longer exists/.test(e.message));
  });
});

describe('discovery (fake backend)', () => {
  const k = useFakeKernel();

  it('finds a device by label through the backend and describes its buffer and channels', () => {
    adc(k.fake, { name: 'a' });
    adc(k.fake, { name: 'fake-adc', label: 'board', elements: [{ name: 'voltage0', index: 0, type: 'le:s12/16>>4' }, { name: 'timestamp', index: 1, type: 'le:s64/64>>0' }] });
    const d = new IioContext().findDevice({ label: 'board' });
    assert.equal(d.id, 'iio:device1');
    assert.deepEqual(d.buffers[0].scanElements.map((e) => [e.channel, e.index, e.typeString]), [['voltage0', 0, 'le:s12/16>>4'], ['timestamp', 1, 'le:s64/64>>0']]);
    assert.deepEqual(d.channels.map((c) => [c.id, c.scanIndex]), [['voltage0', 0], ['timestamp', 1]]);
  });

  it('reports an unreadable name (EACCES) with the device and the path, not as absent', () => {
    adc(k.fake);
    k.fake.fail('readText', 'EACCES', 1, (p) => p === '/sys/bus/iio/devices/iio:device0/name');
    assert.throws(() => new IioContext().findDevice({ name: 'fake-adc' }), (e: IioError) => e.code === 'EACCES' && e.device === 'iio:device0');
  });
});

describe('channels, event channel ids and waiting for a trigger (fake backend)', () => {
  const k = useFakeKernel();

  it('Channel.readScaled is (raw + offset) × scale, reading the shared scale; an empty raw is EINVAL naming it', async () => {
    const dev = adc(k.fake, { files: { in_voltage0_raw: '10', in_voltage_scale: '0.5', in_voltage0_offset: '-4' } });
    const info = deviceInfo(k.fake, dev);
    const ch = info.channel('voltage0');
    assert.equal(ch.device, info);
    assert.equal(ch.file('raw'), 'in_voltage0_raw');
    assert.deepEqual(ch.readScaleSync(), { scale: 0.5, offset: -4 });
    assert.deepEqual(await ch.readScale(), { scale: 0.5, offset: -4 });
    assert.equal(await ch.readScaled(), 3);
    k.fake.setFile(`${dev.sysfsPath}/in_voltage0_raw`, '\n');
    await assert.rejects(ch.readScaled(), (e: IioError) => e.code === 'EINVAL' && /in_voltage0_raw/.test(e.message) && /cannot parse ""/.test(e.message));
    assert.throws(() => ch.file('peak'), (e: IioError) => e.code === 'ENOENT' && /channel voltage0 of fake-adc has no "peak"/.test(e.message));
    assert.throws(() => info.channel('voltage9'), (e: IioError) => e.code === 'ENOENT' && /has no channel "voltage9"/.test(e.message));
  });

  it('a channel without scale and offset reads 1 and 0', () => {
    const dev = adc(k.fake);
    assert.deepEqual(deviceInfo(k.fake, dev).channel('voltage0').readScaleSync(), { scale: 1, offset: 0 });
  });

  it('eventChannelId names the channel as discovery does: indexed, unindexed, modified, differential', () => {
    const dev = k.fake.addDevice({ name: 'mix', files: { in_temp_raw: '1', in_voltage3_raw: '1', in_accel_x_raw: '1', 'in_voltage0-voltage1_raw': '1' } });
    const info = deviceInfo(k.fake, dev);
    const code = (f: Parameters<typeof encodeEventCode>[0]) => decodeEventCode(encodeEventCode(f));
    const thresh = { type: IIO_EV_TYPE.THRESH, direction: IIO_EV_DIR.RISING };
    assert.equal(eventChannelId(code({ ...thresh, channelType: IIO_CHAN_TYPE.TEMP, channel: 0 }), info), 'temp');
    assert.equal(eventChannelId(code({ ...thresh, channelType: IIO_CHAN_TYPE.VOLTAGE, channel: 3 }), info), 'voltage3');
    assert.equal(eventChannelId(code({ ...thresh, channelType: IIO_CHAN_TYPE.ACCEL, channel: 0, modifier: 1 }), info), 'accel_x');
    assert.equal(eventChannelId(code({ ...thresh, channelType: IIO_CHAN_TYPE.VOLTAGE, channel: 0, channel2: 1, differential: true }), info), 'voltage0-voltage1');
    assert.equal(eventChannelId(code({ ...thresh, channelType: IIO_CHAN_TYPE.VOLTAGE, channel: 7 }), info), 'voltage7', 'unknown: named from the code');
  });

  it('waitForTrigger waits for a trigger that appears later, and gives up with ENOENT naming the device', async () => {
    const ctx = new IioContext('/sys/bus/iio/devices');
    k.fake.mkdirp('/sys/bus/iio/devices');
    setTimeout(() => k.fake.setFile('/sys/bus/iio/devices/trigger4/name', 'late\n'), 150);
    const t = await ctx.waitForTrigger('late', { timeoutMs: 3000 });
    assert.ok(t instanceof Trigger);
    assert.deepEqual({ ...t }, { id: 'trigger4', name: 'late', sysfsPath: '/sys/bus/iio/devices/trigger4' });
    await assert.rejects(ctx.waitForTrigger('never', { timeoutMs: 0, device: 'adc' }), (e: IioError) => e.code === 'ENOENT' && e.device === 'adc' && /no IIO trigger named "never"/.test(e.message));
    let asked = 0;
    await assert.rejects(ctx.waitForTrigger('never', { timeoutMs: 60000, stillWanted: () => ++asked < 2 }), (e: IioError) => e.code === 'ENOENT');
    assert.equal(asked, 2);
  });
});
