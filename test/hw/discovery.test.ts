import { strict as assert } from 'assert';
import { IioContext } from '../../src/context';
import { IioError } from '../../src/errors';
import { ctx, emu } from '../lib/hw';

describe('discovery on the real kernel', () => {
  it('lists the four emulated devices with names and labels, none with an error', () => {
    const byName = new Map(ctx.devices().map((d) => [d.name, d]));
    assert.equal(byName.get('emu-thermo')?.label, 'board-temp');
    assert.equal(byName.get('emu-adc')?.label, 'adc-main');
    assert.equal(byName.get('emu-dac')?.label, 'dac-main');
    assert.equal(byName.get('emu-mux')?.label, 'mux-adc');
    assert.deepEqual(ctx.devices().filter((d) => d.error).map((d) => d.error?.message), []);
    for (const d of byName.values()) assert.match(d.id, /^iio:device\d+$/);
  });

  it('finds a device by label, by name and label, and by id as a fallback', () => {
    const adc = emu('emu-adc');
    assert.equal(ctx.findDevice({ label: 'adc-main' }).id, adc.id);
    assert.equal(ctx.findDevice({ name: 'emu-adc', label: 'adc-main' }).id, adc.id);
    assert.equal(ctx.findDevice({ name: 'no-such', id: adc.id }).id, adc.id);
    assert.throws(() => ctx.findDevice({ name: 'emu-adc', label: 'dac-main' }), (e: IioError) => e.code === 'ENOENT' && /emu-adc/.test(e.message));
  });

  it('emu-adc: channels, scan indexes and scan types as the driver declares them', () => {
    const adc = emu('emu-adc');
    const inputs = adc.channels.filter((c) => c.direction === 'in').map((c) => [c.id, c.scanIndex, c.scanType]);
    assert.deepEqual(inputs, [
      ['voltage0', 0, 'le:u12/16>>4'],
      ['voltage1', 1, 'le:s16/16>>0'],
      ['voltage2', 2, 'be:s16/16>>0'],
      ['voltage3', 3, 'le:s24/32>>8'],
      ['voltage4', 4, 'le:u16/16X4>>0'],
      ['accel_x', 5, 'le:s16/16>>0'],
      ['accel_y', 6, 'le:s16/16>>0'],
      ['accel_z', 7, 'le:s16/16>>0'],
      ['timestamp', 8, 'le:s64/64>>0'],
    ]);
    const v3 = adc.channels.find((c) => c.id === 'voltage3')!;
    assert.deepEqual([v3.attributes.raw, v3.attributes.scale, v3.attributes.offset], ['in_voltage3_raw', 'in_voltage_scale', 'in_voltage3_offset']);
    const ax = adc.channels.find((c) => c.id === 'accel_x')!;
    assert.deepEqual([ax.type, ax.modifier, ax.attributes.scale], ['accel', 'x', 'in_accel_scale']);
    assert.deepEqual(adc.buffers.map((b) => [b.index, b.direction, b.scanElements.length]), [
      [0, 'in', 9],
      [1, 'in', 9],
    ]);
    for (const b of adc.buffers) assert.deepEqual(b.attributes, ['data_available', 'direction', 'enable', 'length', 'watermark']);
    assert.deepEqual(adc.attributes, ['current_timestamp_clock', 'dev', 'emu_dropped_scans', 'emu_free_running', 'label', 'name', 'sampling_frequency', 'uevent']);
    assert.equal(adc.triggerable, true);
  });

  it('emu-thermo: a temperature channel with raw, scale, offset and threshold events', () => {
    const t = emu('emu-thermo');
    const temp = t.channels.find((c) => c.id === 'temp')!;
    assert.deepEqual([temp.attributes.raw, temp.attributes.scale, temp.attributes.offset], ['in_temp_raw', 'in_temp_scale', 'in_temp_offset']);
    const ev = t.events.map((e) => [e.channel, e.type, e.eventDirection, Object.keys(e.attributes).sort().join(',')]).sort();
    assert.deepEqual(ev, [
      ['temp', 'thresh', 'falling', 'en,hysteresis,value'],
      ['temp', 'thresh', 'rising', 'en,hysteresis,value'],
    ]);
  });

  it('emu-dac: output channels and output buffers', () => {
    const dac = emu('emu-dac');
    const outs = dac.channels.filter((c) => c.direction === 'out').map((c) => [c.id, c.scanIndex, c.scanType]);
    assert.deepEqual(outs, [
      ['voltage0', 0, 'le:s16/16>>0'],
      ['voltage1', 1, 'le:s16/16>>0'],
    ]);
    assert.deepEqual(dac.buffers.map((b) => [b.index, b.direction, b.scanElements.length]), [
      [0, 'out', 2],
      [1, 'out', 2],
    ]);
    assert.deepEqual(dac.attributes, ['dev', 'emu_consumed_bytes', 'emu_consumed_crc32', 'emu_consumed_scans', 'emu_cyclic_wraps', 'emu_free_running', 'emu_reset', 'emu_underruns', 'label', 'name', 'uevent']);
  });

  it('an empty sysfs root has no devices, and a missing device is ENOENT', () => {
    const none = new IioContext('/nonexistent/iio');
    assert.deepEqual(none.devices(), []);
    assert.throws(() => none.findDevice({ name: 'emu-adc' }), (e: IioError) => e.code === 'ENOENT');
  });
});
