// Discovery on a fake sysfs tree: which channel gets which shared attribute, and how one broken
// device is reported without hiding the others.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IioContext } from '../../src/context';
import { IioError } from '../../src/errors';
import { EMU_MUX_DISCOVERED, EMU_MUX_EVENTS } from '../lib/emu-pattern';

/** Writes `files` (relative path → content) under a new device directory of `root`. */
function fakeDevice(root: string, id: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, id, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${text}\n`);
  }
}

function scanElement(buffer: string, name: string, index: number, type: string): Record<string, string> {
  return { [`${buffer}/${name}_en`]: '0', [`${buffer}/${name}_index`]: String(index), [`${buffer}/${name}_type`]: type };
}

// What emu-mux (harness/emu/emu_mux.c) shows, as the 6.12 core names it.
const MUX: Record<string, string> = {
  name: 'emu-mux',
  label: 'mux-adc',
  'in_voltage0-voltage1_raw': '0',
  'in_voltage2-voltage3_raw': '961',
  'in_voltage-voltage_scale': '0.062500',
  'in_voltage-voltage_scale_available': '0.062500 0.125000',
  in_voltage0_raw: '1922',
  in_voltage1_raw: '-1213',
  in_voltage_scale: '1.000000',
  in_voltage4_supply_raw: '3844',
  in_voltage4_supply_scale: '2.000000',
  in_voltage4_supply_label: 'supply',
  in_accel_x_raw: '4805',
  in_accel_scale: '0.009576',
  in_sampling_frequency: '128',
  sampling_frequency_dummy_device_attr: '0',
  'events/in_voltage0-voltage1_thresh_rising_en': '0',
  'events/in_voltage0-voltage1_thresh_rising_value': '0',
  'events/in_voltage-voltage_thresh_rising_hysteresis': '0',
  'events/in_thresh_rising_period': '0',
  'events/in_accel_x_mag_rising_en': '0',
  'events/in_accel_mag_rising_value': '0',
  'buffer0/enable': '0',
  'buffer0/length': '64',
  ...scanElement('buffer0', 'in_voltage0-voltage1', 0, 'le:s16/16>>0'),
  ...scanElement('buffer0', 'in_voltage2-voltage3', 1, 'le:s16/16>>0'),
  ...scanElement('buffer0', 'in_voltage0', 2, 'be:s12/16>>4'),
  ...scanElement('buffer0', 'in_voltage1', 3, 'be:s12/16>>4'),
  ...scanElement('buffer0', 'in_voltage4_supply', 4, 'le:u16/16>>0'),
  ...scanElement('buffer0', 'in_accel_x', 5, 'le:s16/16>>0'),
  ...scanElement('buffer0', 'in_timestamp', 6, 'le:s64/64>>0'),
};

describe('discovery (fake sysfs)', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'iio-ctx-'));
    fs.chmodSync(root, 0o755);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('differential, single-ended, extend-name and modified channels get exactly their shared attributes', () => {
    fakeDevice(root, 'iio:device0', MUX);
    const dev = new IioContext(root).findDevice({ name: 'emu-mux' });
    assert.deepEqual(dev.channels.map((c) => [c.id, c.scanIndex, c.scanType, c.attributes, c.available]), EMU_MUX_DISCOVERED);
    const d01 = dev.channels[0];
    assert.deepEqual([d01.type, d01.index, d01.index2, d01.differential], ['voltage', 0, 1, true]);
    const supply = dev.channels[4];
    assert.deepEqual([supply.type, supply.index, supply.extendName, supply.differential, supply.label], ['voltage', 4, 'supply', undefined, 'supply']);
    assert.deepEqual(dev.attributes, ['label', 'name', 'sampling_frequency_dummy_device_attr']);
    assert.deepEqual(dev.buffers[0].scanElements.map((e) => e.channel), ['voltage0-voltage1', 'voltage2-voltage3', 'voltage0', 'voltage1', 'voltage4_supply', 'accel_x', 'timestamp']);
  });

  it('shared event attributes go to the events of the channels they are shared by', () => {
    fakeDevice(root, 'iio:device0', MUX);
    const dev = new IioContext(root).findDevice({ label: 'mux-adc' });
    assert.deepEqual(dev.events.map((e) => [e.channel, e.type, e.eventDirection, e.attributes]).sort(), EMU_MUX_EVENTS);
  });

  it('a non-indexed channel keeps its own attributes and events (emu-thermo)', () => {
    fakeDevice(root, 'iio:device0', {
      name: 'emu-thermo',
      in_temp_raw: '240', in_temp_scale: '62.500000', in_temp_offset: '160',
      'events/in_temp_thresh_rising_en': '0', 'events/in_temp_thresh_rising_value': '560',
      ...scanElement('buffer0', 'in_temp', 0, 'le:s16/16>>0'),
      ...scanElement('buffer0', 'in_timestamp', 1, 'le:s64/64>>0'),
    });
    const dev = new IioContext(root).findDevice({ name: 'emu-thermo' });
    assert.deepEqual(dev.channels.map((c) => [c.id, c.attributes]), [
      ['temp', { raw: 'in_temp_raw', scale: 'in_temp_scale', offset: 'in_temp_offset' }],
      ['timestamp', {}],
    ]);
    assert.deepEqual(dev.events.map((e) => [e.channel, e.type, e.eventDirection, e.attributes]), [
      ['temp', 'thresh', 'rising', { en: 'events/in_temp_thresh_rising_en', value: 'events/in_temp_thresh_rising_value' }],
    ]);
  });

  it('an ext_info name that looks like an extend name stays with its channel', () => {
    fakeDevice(root, 'iio:device0', { name: 'x', in_voltage0_raw: '1', in_voltage0_sync_dither_en: '0', in_voltage0_sync_dither_en_available: '0 1' });
    const [dev] = new IioContext(root).devices();
    assert.deepEqual(dev.channels.map((c) => [c.id, c.attributes, c.available]), [
      ['voltage0', { raw: 'in_voltage0_raw', sync_dither_en: 'in_voltage0_sync_dither_en' }, { sync_dither_en: 'in_voltage0_sync_dither_en_available' }],
    ]);
  });

  it('one device with an undecodable scan type is listed with its error; the others are intact', () => {
    fakeDevice(root, 'iio:device0', { name: 'good', in_voltage0_raw: '1', ...scanElement('buffer0', 'in_voltage0', 0, 'le:s16/16>>0') });
    fakeDevice(root, 'iio:device1', { name: 'odd', label: 'odd-one', in_voltage0_raw: '1', ...scanElement('buffer0', 'in_voltage0', 0, 'le:s65/64>>0') });
    const ctx = new IioContext(root);
    const devices = ctx.devices();
    assert.deepEqual(devices.map((d) => [d.id, d.name, d.label, d.channels.length, d.error?.code]), [
      ['iio:device0', 'good', undefined, 1, undefined],
      ['iio:device1', 'odd', 'odd-one', 0, 'EINVAL'],
    ]);
    const typeFile = path.join(root, 'iio:device1', 'buffer0', 'in_voltage0_type');
    assert.equal(devices[1].error?.path, typeFile);
    assert.equal(devices[1].error?.device, 'odd-one');
    assert.match(devices[1].error?.message ?? '', /^odd-one: .*in_voltage0_type: invalid scan type "le:s65\/64>>0"/);
    assert.equal(ctx.findDevice({ name: 'good' }).id, 'iio:device0');
    assert.throws(() => ctx.findDevice({ label: 'odd-one' }), (e: IioError) => e === devices[1].error || (e.code === 'EINVAL' && e.path === typeFile));
    assert.throws(() => ctx.findDevice({ name: 'none' }), (e: IioError) => e.code === 'ENOENT');
  });

  it('an unreadable file is an error naming its path (not "no device")', () => {
    fakeDevice(root, 'iio:device0', { name: 'good' });
    fakeDevice(root, 'iio:device1', { label: 'x' });
    fs.mkdirSync(path.join(root, 'iio:device1', 'name')); // reading it fails with EISDIR
    const ctx = new IioContext(root);
    const devices = ctx.devices();
    assert.deepEqual(devices.map((d) => [d.id, d.name, d.error?.code, d.error?.path]), [
      ['iio:device0', 'good', undefined, undefined],
      ['iio:device1', '', 'EISDIR', path.join(root, 'iio:device1', 'name')],
    ]);
    // Its name is unknown, so it may be the one asked for: its error, not ENOENT.
    assert.throws(() => ctx.findDevice({ name: 'wanted' }), (e: IioError) => e.code === 'EISDIR' && e.device === 'iio:device1' && /wanted/.test(e.message));
  });

  it('permission denied: EACCES naming the path, for a device and for the sysfs root', () => {
    fakeDevice(root, 'iio:device0', { name: 'good', in_voltage0_raw: '1' });
    fakeDevice(root, 'iio:device1', { name: 'locked', in_voltage0_raw: '1', ...scanElement('buffer0', 'in_voltage0', 0, 'le:s16/16>>0') });
    fakeDevice(root, 'iio:device2', { name: 'labels', in_voltage0_raw: '1', in_voltage0_label: 'vin' });
    const locked = path.join(root, 'iio:device1', 'buffer0');
    fs.chmodSync(locked, 0o000);
    // An unreadable channel label costs the label, not the device.
    fs.chmodSync(path.join(root, 'iio:device2', 'in_voltage0_label'), 0o000);
    const probe = `
      const { IioContext } = require(${JSON.stringify(path.resolve(__dirname, '../../src/context.js'))});
      const out = {};
      const ctx = new IioContext(process.argv[1]);
      out.devices = ctx.devices().map((d) => [d.id, d.name, d.error && d.error.code, d.error && d.error.path, d.channels.map((c) => c.label || '-').join()]);
      try { ctx.findDevice({ name: 'locked' }); } catch (e) { out.find = [e.code, e.path, e.message]; }
      try { new IioContext(process.argv[2]).devices(); } catch (e) { out.root = [e.code, e.path]; }
      console.log(JSON.stringify(out));`;
    const lockedRoot = path.join(root, 'sub');
    fs.mkdirSync(lockedRoot, { mode: 0o000 });
    fs.chmodSync(lockedRoot, 0o000);
    // Root ignores file modes: run the probe as nobody then.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, ['-e', probe, root, lockedRoot], { encoding: 'utf8', ...asNobody });
    fs.chmodSync(locked, 0o755);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.devices, [
      ['iio:device0', 'good', null, null, '-'],
      ['iio:device1', 'locked', 'EACCES', locked, ''],
      ['iio:device2', 'labels', null, null, '-'],
    ]);
    assert.deepEqual(out.find.slice(0, 2), ['EACCES', locked]);
    assert.match(out.find[2], /permission denied/i);
    assert.deepEqual(out.root, ['EACCES', lockedRoot]);
  });
});
