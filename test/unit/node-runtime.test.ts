// The stream and event nodes in a Node-RED runtime over the fake backend: what a flow sees, with no
// kernel — messages with exact values, status, start/stop, device removal and close.
import { strict as assert } from 'node:assert';
import { useBackend } from '../../src/local-backend';
import { reactor } from '../../src/reactor';
import { IioError } from '../../src/errors';
import { DeviceHandle } from '../../src/device';
import { encodeEventCode, IIO_EV_DIR, IIO_EV_TYPE, IIO_CHAN_TYPE } from '../../src/uapi';
import { FakeBackend, adc, until, u16 } from '../lib/fake-backend';

import { helper, allNodes, collect, statusesOf, Msg } from '../lib/node-red';


const nodes = () => allNodes;

describe('nodes on the fake backend', function () {
  this.timeout(20000);
  let fake: FakeBackend;
  let restore: () => void;

  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  beforeEach(() => {
    fake = new FakeBackend();
    restore = useBackend(fake);
  });
  afterEach(async () => {
    await helper.unload();
    await until(() => reactor.size === 0, 'the nodes to unwatch every fd');
    await reactor.whenIdle();
    restore();
    assert.equal(DeviceHandle.openCount(), 0, 'a device handle left open');
    assert.equal(fake.openFds(), 0, 'an fd left open');
  });

  const device = { id: 'dev', type: 'iio-device', deviceName: 'fake-adc' };
  const catchAll = [{ id: 'c', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', type: 'helper' }];

  it('iio-in sends decoded, scaled blocks with topic, sequence and transport, and stops on "stop"', async () => {
    const dev = adc(fake, { label: 'main', files: { in_voltage0_scale: '0.5', in_voltage0_offset: '2' } });
    await helper.load(nodes(), [device, { id: 'in', type: 'iio-in', device: 'dev', samples: 3, scaled: true, transport: 'auto', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const got = collect('out');
    await until(() => fake.enabled(dev), 'the buffer enabled');
    fake.produce(dev, u16(10, 20, 30));
    await until(() => got.length === 1, 'a message');
    assert.deepEqual([...got[0].payload.voltage0], [6, 11, 16]);
    assert.deepEqual([got[0].topic, got[0].scans, got[0].sequence, got[0].transport, got[0].overrun], ['main/buffer0', 3, 1, 'read', false]);
    assert.deepEqual(got[0].device, { name: 'fake-adc', label: 'main', id: 'iio:device0' });
    const st = statusesOf('in');
    helper.getNode('in').receive({ payload: 'stop' });
    await until(() => st.some((s) => s.text === 'stopped'), 'stopped');
    assert.equal(fake.enabled(dev), false);
    assert.deepEqual([fake.openFds('buffer'), fake.openFds('chardev')], [0, 1], 'the buffer closed; the chardev kept by the config node');
  });

  it('iio-in names its transport in the status: DMABUF, or without DMABUF (the reason it fell back in the log)', async () => {
    const a = adc(fake, { name: 'dma', dmabuf: true });
    const b = adc(fake, { name: 'kfifo' });
    await helper.load(nodes(), [
      { id: 'da', type: 'iio-device', deviceName: 'dma' }, { id: 'db', type: 'iio-device', deviceName: 'kfifo' },
      { id: 'in-a', type: 'iio-in', device: 'da', samples: 4, autoStart: false }, { id: 'in-b', type: 'iio-in', device: 'db', samples: 4, autoStart: false },
    ]);
    const sa = statusesOf('in-a');
    const sb = statusesOf('in-b');
    const logs: string[] = [];
    const nb = helper.getNode('in-b') as unknown as { log(m: unknown): void };
    const log = nb.log.bind(nb);
    nb.log = (m) => {
      logs.push(String(m));
      log(m);
    };
    helper.getNode('in-a').receive({ payload: 'start' });
    helper.getNode('in-b').receive({ payload: 'start' });
    await until(() => fake.enabled(a) && fake.enabled(b), 'both running');
    await until(() => sa.length > 0 && sb.length > 0, 'statuses');
    assert.equal(sa[sa.length - 1].text, 'running (DMABUF)');
    assert.equal(sb[sb.length - 1].text, 'running (without DMABUF)');
    assert.deepEqual(logs, ['DMABUF is not available for this buffer (EPERM): capturing with read() instead']);
  });

  it('iio-in: a removed device reports ENODEV to Catch, shows disconnected, and lets go of every fd', async () => {
    const dev = adc(fake);
    await helper.load(nodes(), [device, { id: 'in', type: 'iio-in', device: 'dev', samples: 2 }, ...catchAll]);
    const caught = collect('caught');
    await until(() => fake.enabled(dev), 'running');
    fake.removeDevice(dev);
    await until(() => caught.length >= 1, 'the error');
    assert.equal(caught[0].error.code, 'ENODEV');
    await until(() => fake.openFds() === 0, 'fds closed (the chardev once the config node sees the removal)', 6000);
  });

  it('iio-in: a bad command is EINVAL at Catch and leaves the capture running', async () => {
    const dev = adc(fake);
    await helper.load(nodes(), [device, { id: 'in', type: 'iio-in', device: 'dev', samples: 2 }, ...catchAll]);
    const caught = collect('caught');
    await until(() => fake.enabled(dev), 'running');
    helper.getNode('in').receive({ payload: { start: true } });
    await until(() => caught.length === 1, 'the error');
    assert.equal(caught[0].error.code, 'EINVAL');
    assert.match(caught[0].error.message, /must be "start" or "stop"/);
    assert.equal(fake.enabled(dev), true);
  });

  it('iio-dmabuf-out streams per-channel arrays to the DAC over write() when the buffer has no DMABUF', async () => {
    const dac = fake.addDevice({ name: 'fake-adc', buffers: [{ elements: [] }, { direction: 'out', elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    await helper.load(nodes(), [device, { id: 'o', type: 'iio-dmabuf-out', device: 'dev', buffer: 1, blockSize: 2, blocks: 2 }]);
    const st = statusesOf('o');
    await until(() => fake.enabled(dac, 1), 'running');
    helper.getNode('o').receive({ payload: { voltage0: [1, 2, 3, 4, 5] } });
    await until(() => Buffer.concat(dac.buffers[1].data).length === 10, 'all written');
    assert.deepEqual([...Buffer.concat(dac.buffers[1].data)], [...u16(1, 2, 3, 4, 5)]);
    assert.match(st[st.length - 1].text, /^streaming \(write\(\)\), queue 0$/);
  });

  it('iio-dmabuf-out cyclic over DMABUF enqueues the block with the CYCLIC flag', async () => {
    const dac = fake.addDevice({ name: 'fake-adc', buffers: [{ direction: 'out', dmabuf: true, elements: [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }] }] });
    await helper.load(nodes(), [device, { id: 'o', type: 'iio-dmabuf-out', device: 'dev', buffer: 0, blockSize: 4, blocks: 2, mode: 'cyclic' }]);
    await until(() => fake.enabled(dac, 0), 'running');
    helper.getNode('o').receive({ payload: [9, 8, 7] });
    await until(() => dac.buffers[0].queue.length === 1, 'enqueued');
    assert.deepEqual(dac.buffers[0].queue.map((q) => [q.bytesUsed, q.flags]), [[6, 1]]);
    assert.deepEqual([...dac.buffers[0].data[0]], [...u16(9, 8, 7)]);
  });

  it('iio-event sends one message per matching event, decoded, with its topic', async () => {
    const dev = adc(fake, { label: 'board', hasEvents: true, files: { 'events/in_temp0_thresh_rising_en': '0', in_temp0_raw: '20' } });
    await helper.load(nodes(), [device, { id: 'ev', type: 'iio-event', device: 'dev', eventType: 'thresh', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const got = collect('out');
    await until(() => dev.eventFd !== null, 'the event fd');
    fake.raiseEvent(dev, encodeEventCode({ type: IIO_EV_TYPE.MAG, direction: IIO_EV_DIR.RISING, channelType: IIO_CHAN_TYPE.TEMP, channel: 0 }), 1n);
    fake.raiseEvent(dev, encodeEventCode({ type: IIO_EV_TYPE.THRESH, direction: IIO_EV_DIR.RISING, channelType: IIO_CHAN_TYPE.TEMP, channel: 0 }), 1700000000123456789n);
    await until(() => got.length === 1, 'the matching event');
    assert.equal(got[0].topic, 'board/temp0/thresh/rising');
    assert.deepEqual([got[0].payload.channel, got[0].payload.type, got[0].payload.direction, got[0].payload.timestamp], ['temp0', 'thresh', 'rising', '1700000000123456789']);
  });

  it('iio-device pushes disconnected and connected to every user, iio-attr included, and the replugged device is found again', async () => {
    const dev = adc(fake, { files: { in_voltage0_raw: '5' } });
    await helper.load(nodes(), [device, { id: 'a', type: 'iio-attr', device: 'dev', target: 'channel', channel: 'voltage0', attribute: 'raw', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const st = statusesOf('a');
    const got = collect('out');
    fake.removeDevice(dev);
    await until(() => st.some((x) => x.text === 'disconnected'), 'disconnected', 6000);
    // The replug renumbers it: iio:device1 now.
    adc(fake, { id: 'iio:device1', files: { in_voltage0_raw: '7' } });
    await until(() => st.some((x) => x.text === 'connected'), 'connected', 6000);
    assert.deepEqual(st.map((x) => x.text), ['disconnected', 'connected']);
    helper.getNode('a').receive({});
    await until(() => got.length === 1, 'a read');
    assert.deepEqual([got[0].payload, got[0].device.id], [7, 'iio:device1']);
  });

  it('iio-trigger creates a sysfs trigger on deploy, fires it per message, and removes it on close; iio-in attaches and detaches it', async () => {
    fake.addTriggerSupport();
    const dev = adc(fake, { triggerable: true });
    const fires: string[] = [];
    const previous = fake.onWrite;
    fake.onWrite = (file, text) => {
      previous?.(file, text);
      if (file.endsWith('/trigger_now')) fires.push(text);
    };
    await helper.load(nodes(), [
      device,
      { id: 't', type: 'iio-trigger', kind: 'sysfs', sysfsId: 3 },
      { id: 'in', type: 'iio-in', device: 'dev', samples: 1, trigger: 'sysfstrig3', autoStart: false },
    ]);
    assert.equal(fake.text('/sys/bus/iio/devices/trigger0/name'), 'sysfstrig3');
    helper.getNode('in').receive({ payload: 'start' });
    await until(() => fake.enabled(dev), 'running');
    assert.equal(fake.text(`${dev.sysfsPath}/trigger/current_trigger`), 'sysfstrig3');
    helper.getNode('t').receive({ payload: 3 });
    await until(() => fires.length === 3, 'three fires');
    const st = statusesOf('in');
    helper.getNode('in').receive({ payload: 'stop' });
    await until(() => st.some((x) => x.text === 'stopped'), 'stopped');
    assert.equal(fake.text(`${dev.sysfsPath}/trigger/current_trigger`), '', 'detached on stop');
    await helper.unload();
    assert.equal(fake.exists('/sys/bus/iio/devices/trigger0'), false, 'removed on close');
    assert.deepEqual(fake.writes.filter((w) => w.includes('iio_sysfs_trigger')), ['/sys/bus/iio/devices/iio_sysfs_trigger/add_trigger=3', '/sys/bus/iio/devices/iio_sysfs_trigger/remove_trigger=3']);
  });

  it('the config node holds the chardev while a stream node is registered (across stop/start), not for attribute-only flows', async () => {
    const dev = adc(fake, { files: { in_voltage0_raw: '5' } });
    await helper.load(nodes(), [device, { id: 'a', type: 'iio-attr', device: 'dev', target: 'channel', channel: 'voltage0', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const got = collect('out');
    helper.getNode('a').receive({});
    await until(() => got.length === 1, 'a read');
    assert.equal(fake.openFds('chardev'), 0, 'an attribute-only flow leaves the chardev to others');
    await helper.unload();
    await helper.load(nodes(), [device, { id: 'in', type: 'iio-in', device: 'dev', samples: 2 }]);
    await until(() => fake.enabled(dev), 'running');
    const st = statusesOf('in');
    helper.getNode('in').receive({ payload: 'stop' });
    await until(() => st.some((x) => x.text === 'stopped'), 'stopped');
    assert.equal(fake.openFds('buffer'), 0);
    assert.equal(fake.openFds('chardev'), 1, 'held by the config node for its stream user');
    await helper.unload();
    assert.equal(fake.openFds('chardev'), 0, 'released with the last user');
  });

  it('a chardev another process holds (EBUSY) is shown on every user and reaches Catch when a stream starts', async () => {
    adc(fake);
    const open = fake.open.bind(fake);
    fake.open = (file, flags, site) => {
      if (file === '/dev/iio:device0') throw new IioError({ code: 'EBUSY', errno: 16, syscall: 'open', path: file });
      return open(file, flags, site);
    };
    await helper.load(nodes(), [device, { id: 'in', type: 'iio-in', device: 'dev', samples: 2, autoStart: false }, ...catchAll]);
    const st = statusesOf('in');
    const caught = collect('caught');
    helper.getNode('in').receive({ payload: 'start' });
    await until(() => caught.length === 1, 'the error');
    assert.equal(caught[0].error.code, 'EBUSY');
    assert.ok(st.some((x) => x.text === 'in use elsewhere (EBUSY)'), JSON.stringify(st));
  });

  it('a device found again by a user\'s own lookup still tells every user it is back (no missed restart)', async () => {
    const dev = adc(fake);
    await helper.load(nodes(), [device]);
    const config = helper.getNode('dev');
    const seen: string[] = [];
    const user = { status: (st: Msg) => seen.push(String(st.text)), deviceConnected: () => seen.push('deviceConnected') };
    config.register(user);
    config.resolve();
    fake.removeDevice(dev);
    await until(() => seen.includes('disconnected'), 'disconnected', 6000);
    adc(fake, { id: 'iio:device3' });
    config.resolve(); // e.g. a stream detaching its trigger right after the replug
    assert.deepEqual(seen, ['disconnected', 'connected', 'deviceConnected']);
    config.deregister(user);
  });

  it('the config node owns the device: two stream nodes share its one chardev, which closes with the last of them', async () => {
    const el = [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }];
    const dev = adc(fake, { buffers: [{ elements: el }, { elements: el }] });
    await helper.load(nodes(), [
      device,
      { id: 'in0', type: 'iio-in', device: 'dev', buffer: 0, samples: 2 },
      { id: 'in1', type: 'iio-in', device: 'dev', buffer: 1, samples: 2 },
    ]);
    await until(() => fake.enabled(dev, 0) && fake.enabled(dev, 1), 'both buffers running');
    assert.deepEqual([fake.openFds('chardev'), fake.openFds('buffer')], [1, 2]);
    const st0 = statusesOf('in0');
    helper.getNode('in0').receive({ payload: 'stop' });
    await until(() => st0.some((x) => x.text === 'stopped'), 'in0 stopped');
    assert.deepEqual([fake.openFds('chardev'), fake.openFds('buffer')], [1, 1], 'one chardev still, for in1 and the config node');
    await helper.unload();
    assert.equal(fake.openFds('chardev'), 0);
  });

  it('two config nodes naming one device (by name, by label) share the runtime’s one chardev instead of meeting EBUSY', async () => {
    const el = [{ name: 'voltage0', index: 0, type: 'le:u16/16>>0' }];
    const dev = adc(fake, { label: 'main', buffers: [{ elements: el }, { elements: el }] });
    await helper.load(nodes(), [
      device,
      { id: 'dev2', type: 'iio-device', deviceLabel: 'main' },
      { id: 'in0', type: 'iio-in', device: 'dev', buffer: 0, samples: 2 },
      { id: 'in1', type: 'iio-in', device: 'dev2', buffer: 1, samples: 2 },
      ...catchAll,
    ]);
    const caught = collect('caught');
    await until(() => fake.enabled(dev, 0) && fake.enabled(dev, 1), 'both buffers running');
    assert.equal(fake.openFds('chardev'), 1);
    assert.deepEqual(caught, []);
  });

  it('iio-in stopped while waiting for a trigger that never appears opens nothing and attaches nothing', async () => {
    const dev = adc(fake, { triggerable: true });
    await helper.load(nodes(), [device, { id: 'in', type: 'iio-in', device: 'dev', samples: 1, trigger: 'never-there', autoStart: false }, ...catchAll]);
    const st = statusesOf('in');
    const caught = collect('caught');
    helper.getNode('in').receive({ payload: 'start' });
    await new Promise((r) => setTimeout(r, 150)); // waiting for the trigger
    helper.getNode('in').receive({ payload: 'stop' });
    await until(() => caught.length === 1, 'the wait given up');
    await until(() => st.some((x) => x.text === 'stopped'), 'stopped');
    assert.equal(caught[0].error.code, 'ENOENT');
    assert.equal(fake.openFds('buffer'), 0);
    assert.equal(fake.enabled(dev), false);
    assert.equal(fake.text(`${dev.sysfsPath}/trigger/current_trigger`), '');
  });
});

