import { strict as assert } from 'assert';
import { ChannelNameParser } from '../../src/channel-name';
import { channelTypeNames, modifierNames } from '../../src/uapi';

describe('sysfs channel attribute names', () => {
  const p = new ChannelNameParser(channelTypeNames(), modifierNames());

  it('indexed, modified, shared, differential and non-indexed channels', () => {
    const cases: Array<[string, object]> = [
      ['in_voltage0_raw', { direction: 'in', id: 'voltage0', type: 'voltage', index: 0, info: 'raw', available: false }],
      ['in_voltage12_scale_available', { id: 'voltage12', index: 12, info: 'scale', available: true }],
      ['in_voltage_scale', { id: 'voltage', type: 'voltage', info: 'scale' }],
      ['in_accel_x_raw', { id: 'accel_x', type: 'accel', modifier: 'x', info: 'raw' }],
      ['in_accel_scale', { id: 'accel', info: 'scale' }],
      ['in_temp_raw', { id: 'temp', type: 'temp', info: 'raw' }],
      ['in_voltage0-voltage1_raw', { id: 'voltage0-voltage1', index: 0, index2: 1, info: 'raw' }],
      ['out_voltage1_raw', { direction: 'out', id: 'voltage1', info: 'raw' }],
      ['in_anglvel_z_calibbias', { id: 'anglvel_z', type: 'anglvel', modifier: 'z', info: 'calibbias' }],
      ['in_angl0_raw', { id: 'angl0', type: 'angl', info: 'raw' }],
      ['in_intensity_ir_raw', { id: 'intensity_ir', type: 'intensity', modifier: 'ir', info: 'raw' }],
      ['in_voltage0_input', { id: 'voltage0', info: 'input' }],
      ['in_timestamp_en', { id: 'timestamp', type: 'timestamp', info: 'en' }],
      ['in_voltage3_supply_raw', { id: 'voltage3', info: 'supply_raw' }],
    ];
    for (const [file, want] of cases) {
      const got = p.parseAttribute(file);
      assert.ok(got, file);
      for (const [k, v] of Object.entries(want)) assert.deepEqual((got as unknown as Record<string, unknown>)[k], v, `${file}: ${k}`);
    }
  });

  it('rejects what is not a channel attribute', () => {
    for (const f of ['name', 'sampling_frequency', 'in_', 'in_bogus0_raw', 'inn_voltage0_raw', 'in_voltagex_raw']) {
      assert.equal(p.parseAttribute(f), null, f);
    }
  });

  it('event attributes: channel, event type, direction and info', () => {
    assert.deepEqual(p.parseEventAttribute('in_temp_thresh_rising_value'), { direction: 'in', id: 'temp', type: 'temp', eventType: 'thresh', eventDirection: 'rising', info: 'value' });
    assert.deepEqual(p.parseEventAttribute('in_voltage2_thresh_falling_en'), { direction: 'in', id: 'voltage2', type: 'voltage', index: 2, eventType: 'thresh', eventDirection: 'falling', info: 'en' });
    assert.deepEqual(p.parseEventAttribute('in_accel_x_mag_adaptive_rising_hysteresis'), { direction: 'in', id: 'accel_x', type: 'accel', modifier: 'x', eventType: 'mag_adaptive', eventDirection: 'rising', info: 'hysteresis' });
    assert.deepEqual(p.parseEventAttribute('in_proximity0_thresh_either_period'), { direction: 'in', id: 'proximity0', type: 'proximity', index: 0, eventType: 'thresh', eventDirection: 'either', info: 'period' });
    assert.equal(p.parseEventAttribute('in_temp_raw'), null);
  });
});
