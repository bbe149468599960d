// The object model on the fake backend: context → device → channels, buffers, events; triggers;
// parent links, object-then-verb methods, and the DeviceAccess seam under attributes and buffers.
import { strict as assert } from 'node:assert';
import { IioContext } from '../../src/context';
import { Device, DeviceAccess, DeviceBuffer, DeviceEvent } from '../../src/device';
import { Channel } from '../../src/channel';
import { Trigger, createSysfsTrigger } from '../../src/trigger';
import { AttributeDir } from '../../src/attr';
import { localAccess } from '../../src/local-access';
import { IioError } from '../../src/errors';
import { encodeEventCode, decodeEventCode, IIO_EV_DIR, IIO_EV_TYPE, IIO_CHAN_TYPE } from '../../src/uapi';
import { useFakeKernel, adc, deviceInfo } from '../lib/fake-backend';
import type { Input, Output } from '../../src/transport';
import type { EventStream } from '../../src/events';

const ROOT = '/sys/bus/iio/devices';

describe('object model (fake backend)', () => {
  const k = useFakeKernel();

  function twoChannelAdc(extra: Record<string, string> = {}) {
    return adc(k.fake, {
      label: 'left',
      triggerable: true,
      hasEvents: true,
      elements: [
        { name: 'voltage0', index: 0, type: 'le:s16/16>>0' },
        { name: 'voltage1', index: 1, type: 'le:s16/16>>0' },
      ],
      files: {
        in_voltage0_raw: '100', in_voltage1_raw: '-20', in_voltage_scale: '0.25', in_voltage1_offset: '4',
        'events/in_voltage0_thresh_rising_en': '0', 'events/in_voltage0_thresh_rising_value': '50', ...extra,
      },
    });
  }

  it('every object holds its parent: channel → device → context, buffer and event → device', () => {
    twoChannelAdc();
    const ctx = new IioContext(ROOT);
    const d = ctx.findDevice({ name: 'fake-adc' });
    assert.ok(d instanceof Device);
    assert.equal(d.context, ctx);
    assert.equal(d.fullName, 'fake-adc/left');
    const ch = d.channel('voltage1');
    assert.ok(ch instanceof Channel);
    assert.equal(ch.device, d);
    assert.equal(ch.attrs, d.attrs, 'a channel reads through its device’s attributes');
    const b = d.buffer(0, 'in');
    assert.ok(b instanceof DeviceBuffer);
    assert.equal(b.device, d);
    const ev = d.event('voltage0', 'thresh', 'rising');
    assert.ok(ev instanceof DeviceEvent);
    assert.equal(ev.device, d);
    assert.equal(ev.channelObject, d.channel('voltage0'));
    assert.equal(ev.file('value'), 'events/in_voltage0_thresh_rising_value');
  });

  it('a device prints, compares and serialises as its description (no parent in its own fields)', () => {
    const dev = twoChannelAdc();
    const ctx = new IioContext(ROOT);
    const info = ctx.readDevice(dev.id)!;
    const d = ctx.findDevice({ id: dev.id });
    assert.deepEqual(JSON.parse(JSON.stringify(d)), JSON.parse(JSON.stringify(info)));
    assert.deepEqual(Object.keys(d).sort(), Object.keys(info).sort());
    assert.deepEqual({ ...d.channels[0] }, { ...info.channels[0] });
    assert.deepEqual(ctx.devices().map((x) => x.id), [dev.id]);
    assert.ok(ctx.devices()[0] instanceof Device);
  });

  it('channel.readScaled and device.readScalesSync read (raw + offset) × scale through the device', async () => {
    const d = deviceInfo(k.fake, twoChannelAdc());
    assert.equal(await d.channel('voltage0').readScaled(), 25);
    assert.equal(await d.channel('voltage1').readScaled(), (-20 + 4) * 0.25);
    assert.deepEqual(d.readScalesSync(['voltage1', 'timestamp', 'nosuch']), { voltage1: { scale: 0.25, offset: 4 } });
  });

  it('unknown channel, buffer or event: ENOENT/ENODEV naming the device; a buffer the wrong way: EINVAL', () => {
    const d = deviceInfo(k.fake, twoChannelAdc());
    assert.throws(() => d.channel('voltage7'), (e: IioError) => e.code === 'ENOENT' && /fake-adc has no channel "voltage7"/.test(e.message));
    assert.throws(() => d.buffer(3, 'in'), (e: IioError) => e.code === 'ENODEV' && /fake-adc has no buffer3/.test(e.message));
    assert.throws(() => d.buffer(0, 'out'), (e: IioError) => e.code === 'EINVAL' && /buffer0 of fake-adc is an input buffer/.test(e.message));
    assert.throws(() => d.event('voltage0', 'thresh', 'falling'), (e: IioError) => e.code === 'ENOENT' && /no voltage0 thresh falling event/.test(e.message));
    assert.throws(() => d.event('voltage0', 'thresh', 'rising').file('period'), (e: IioError) => e.code === 'ENOENT' && /has no period/.test(e.message));
  });

  it('device.channelIdOf names a decoded event’s channel as discovery does', () => {
    const d = deviceInfo(k.fake, twoChannelAdc());
    const code = (channel: number) => decodeEventCode(encodeEventCode({ type: IIO_EV_TYPE.THRESH, direction: IIO_EV_DIR.RISING, channelType: IIO_CHAN_TYPE.VOLTAGE, channel }));
    assert.equal(d.channelIdOf(code(1)), 'voltage1');
    assert.equal(d.channelIdOf(code(9)), 'voltage9', 'a channel the device does not list: named from the code');
  });

  it('current trigger: read and written through the device; ENOTSUP without trigger/current_trigger; a bad name EINVAL before any write', () => {
    const d = deviceInfo(k.fake, twoChannelAdc());
    assert.equal(d.readCurrentTrigger(), '');
    d.writeCurrentTrigger('trig1');
    assert.equal(d.readCurrentTrigger(), 'trig1');
    assert.throws(() => d.writeCurrentTrigger('../x'), (e: IioError) => e.code === 'EINVAL');
    const plain = deviceInfo(k.fake, adc(k.fake, { name: 'plain' }));
    assert.throws(() => plain.writeCurrentTrigger('trig1'), (e: IioError) => e.code === 'ENOTSUP' && /plain has no trigger\/current_trigger/.test(e.message));
  });

  it('trigger objects: found by name, fire() and frequency through their own attributes; writeFrequency refuses 0 before writing', async () => {
    k.fake.addTriggerSupport();
    const ctx = new IioContext(ROOT);
    createSysfsTrigger(3, ctx);
    const t = ctx.findTrigger('sysfstrig3')!;
    assert.ok(t instanceof Trigger);
    assert.equal(t.context, ctx);
    assert.equal(t.readFrequency(), 100);
    t.writeFrequency(250);
    assert.equal(t.readFrequency(), 250);
    const before = k.fake.writes.length;
    assert.throws(() => t.writeFrequency(0), (e: IioError) => e.code === 'EINVAL');
    assert.equal(k.fake.writes.length, before, 'nothing written');
    t.fire();
    assert.equal(k.fake.writes.at(-1), `${ROOT}/trigger0/trigger_now=1`);
    assert.equal((await ctx.waitForTrigger('sysfstrig3', { timeoutMs: 0 })).id, 'trigger0');
  });

  it('attributes and buffers go through the context’s DeviceAccess (the seam a remote context would fill)', () => {
    const dev = twoChannelAdc();
    const calls: string[] = [];
    const access: DeviceAccess = {
      name: 'recording',
      attributes(dir, label) {
        calls.push(`attributes ${dir} ${label}`);
        return localAccess.attributes(dir, label);
      },
      openInput(buffer, opts, choice) {
        calls.push(`openInput ${buffer.device.name} buffer${buffer.index} index=${opts.index} ${choice}`);
        return { transport: 'read' } as unknown as Input;
      },
      openOutput(buffer) {
        calls.push(`openOutput ${buffer.index}`);
        return {} as Output;
      },
      openEvents(device) {
        calls.push(`openEvents ${device.name}`);
        return {} as EventStream;
      },
    };
    const ctx = new IioContext(ROOT, '/dev', access);
    const d = ctx.findDevice({ id: dev.id });
    assert.equal(d.attrs.readIntSync('in_voltage0_raw'), 100);
    assert.equal(d.attrs, d.attrs, 'one attribute store per device');
    const input = d.openInput({ scansPerBlock: 4, onBlock: () => undefined, onError: () => undefined }, 'dmabuf');
    assert.equal(input.transport, 'read');
    assert.throws(() => d.openOutput({ scansPerBlock: 4, onError: () => undefined }), (e: IioError) => e.code === 'EINVAL');
    d.openEvents({ onEvents: () => undefined, onError: () => undefined });
    assert.deepEqual(calls, [`attributes ${dev.sysfsPath} fake-adc`, 'openInput fake-adc buffer0 index=0 dmabuf', 'openEvents fake-adc']);
    assert.ok(new IioContext(ROOT).findDevice({ id: dev.id }).attrs instanceof AttributeDir, 'locally: sysfs files');
  });

  it('the README’s core example runs as written (through the package entry point)', async () => {
    const { IioContext: Ctx, createSysfsTrigger: create } = require('../../src/index') as typeof import('../../src/index');
    adc(k.fake, { name: 'emu-adc', triggerable: true, files: { in_voltage0_raw: '8', in_voltage0_scale: '0.5' } });
    k.fake.addTriggerSupport();
    const ctx = new Ctx();
    create(1, ctx);
    const blocks: number[] = [];
    const onBlock = (b: { scans: number }) => blocks.push(b.scans);
    const onError = (e: Error) => assert.fail(e);
    const adcDev = ctx.findDevice({ name: 'emu-adc' });
    assert.equal(await adcDev.channel('voltage0').readScaled(), 4);
    const trig = await ctx.waitForTrigger('sysfstrig1');
    adcDev.writeCurrentTrigger(trig.name);
    const input = adcDev.buffer(0, 'in').openInput({ scansPerBlock: 64, onBlock, onError });
    assert.equal(input.transport, 'read');
    await input.stream.close();
    assert.equal(k.fake.openFds(), 0);
  });

  it('event.writeSettings writes value, hysteresis and period before enable; scaled units become raw, integers rounded', async () => {
    const dev = adc(k.fake, {
      files: {
        in_voltage0_raw: '0', in_voltage0_scale: '0.5', in_voltage0_offset: '10',
        'events/in_voltage0_thresh_rising_en': '0', 'events/in_voltage0_thresh_rising_value': '50', 'events/in_voltage0_thresh_rising_hysteresis': '1.5',
      },
    });
    const ev = deviceInfo(k.fake, dev).event('voltage0', 'thresh', 'rising');
    const at = (f: string) => `${dev.sysfsPath}/events/in_voltage0_thresh_rising_${f}`;
    const before = k.fake.writes.length;
    await ev.writeSettings({ en: true, value: '40.3', hysteresis: '2' }, 'scaled');
    assert.deepEqual(k.fake.writes.slice(before), [`${at('value')}=71`, `${at('hysteresis')}=4`, `${at('en')}=1`], '40.3 / 0.5 − 10 = 70.6 → 71 (integer attribute); 2 / 0.5 = 4');
    await ev.writeSettings({ value: '7' });
    assert.equal(k.fake.writes.at(-1), `${at('value')}=7`, 'raw units as given');
    await assert.rejects(ev.writeSettings({ period: '1' }), (e: IioError) => e.code === 'ENOENT' && /has no period/.test(e.message));
  });

  it('device.isStillThere: false once the device is gone or another device took its number', () => {
    const dev = adc(k.fake);
    const d = deviceInfo(k.fake, dev);
    assert.equal(d.isStillThere(), true);
    k.fake.removeDevice(dev);
    assert.equal(d.isStillThere(), false);
    adc(k.fake, { id: dev.id, name: 'other-adc' });
    assert.equal(d.isStillThere(), false, 'same iio:deviceN, another device');
  });
});

