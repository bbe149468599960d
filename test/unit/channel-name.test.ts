import { strict as assert } from 'assert';
import { ChannelNameParser } from '../../src/channel-name';
import { channelTypeNames, modifierNames } from '../../src/uapi';

describe('sysfs channel attribute names', () => {
  const p = new ChannelNameParser(channelTypeNames(), modifierNames());

  // Every form __iio_device_attr_init builds, with the exact parse.
  const cases: Array<[string, object]> = [
    // separate, indexed
    ['in_voltage0_raw', { direction: 'in', id: 'voltage0', type: 'voltage', index: 0, info: 'raw', available: false, scope: 'channel' }],
    ['in_voltage12_scale_available', { direction: 'in', id: 'voltage12', type: 'voltage', index: 12, info: 'scale', available: true, scope: 'channel' }],
    ['in_voltage0_input', { direction: 'in', id: 'voltage0', type: 'voltage', index: 0, info: 'input', available: false, scope: 'channel' }],
    ['out_voltage1_raw', { direction: 'out', id: 'voltage1', type: 'voltage', index: 1, info: 'raw', available: false, scope: 'channel' }],
    ['in_angl0_raw', { direction: 'in', id: 'angl0', type: 'angl', index: 0, info: 'raw', available: false, scope: 'channel' }],
    ['in_voltage0_peak_raw', { direction: 'in', id: 'voltage0', type: 'voltage', index: 0, info: 'peak_raw', available: false, scope: 'channel' }],
    ['in_voltage0_label', { direction: 'in', id: 'voltage0', type: 'voltage', index: 0, info: 'label', available: false, scope: 'channel' }],
    // a driver's ext_info name stays the info
    ['in_voltage0_sys_calibration_mode', { direction: 'in', id: 'voltage0', type: 'voltage', index: 0, info: 'sys_calibration_mode', available: false, scope: 'channel' }],
    // separate, modified (non-indexed and indexed)
    ['in_accel_x_raw', { direction: 'in', id: 'accel_x', type: 'accel', modifier: 'x', info: 'raw', available: false, scope: 'channel' }],
    ['in_accel_x_scale', { direction: 'in', id: 'accel_x', type: 'accel', modifier: 'x', info: 'scale', available: false, scope: 'channel' }],
    ['in_accel0_x_raw', { direction: 'in', id: 'accel0_x', type: 'accel', index: 0, modifier: 'x', info: 'raw', available: false, scope: 'channel' }],
    ['in_anglvel_z_calibbias', { direction: 'in', id: 'anglvel_z', type: 'anglvel', modifier: 'z', info: 'calibbias', available: false, scope: 'channel' }],
    ['in_intensity_ir_raw', { direction: 'in', id: 'intensity_ir', type: 'intensity', modifier: 'ir', info: 'raw', available: false, scope: 'channel' }],
    ['in_accel_x&y&z_raw', { direction: 'in', id: 'accel_x&y&z', type: 'accel', modifier: 'x&y&z', info: 'raw', available: false, scope: 'channel' }],
    // separate, non-indexed: the same shape as shared by type (discovery decides)
    ['in_temp_raw', { direction: 'in', id: 'temp', type: 'temp', info: 'raw', available: false, scope: 'type' }],
    ['in_timestamp_en', { direction: 'in', id: 'timestamp', type: 'timestamp', info: 'en', available: false, scope: 'type' }],
    // shared by type
    ['in_voltage_scale', { direction: 'in', id: 'voltage', type: 'voltage', info: 'scale', available: false, scope: 'type' }],
    ['in_accel_scale', { direction: 'in', id: 'accel', type: 'accel', info: 'scale', available: false, scope: 'type' }],
    ['out_voltage_scale_available', { direction: 'out', id: 'voltage', type: 'voltage', info: 'scale', available: true, scope: 'type' }],
    // differential, separate and shared by type
    ['in_voltage0-voltage1_raw', { direction: 'in', id: 'voltage0-voltage1', type: 'voltage', index: 0, index2: 1, differential: true, info: 'raw', available: false, scope: 'channel' }],
    ['in_voltage2-voltage3_en', { direction: 'in', id: 'voltage2-voltage3', type: 'voltage', index: 2, index2: 3, differential: true, info: 'en', available: false, scope: 'channel' }],
    ['in_voltage-voltage_scale', { direction: 'in', id: 'voltage-voltage', type: 'voltage', differential: true, info: 'scale', available: false, scope: 'type' }],
    ['in_voltage-voltage_offset', { direction: 'in', id: 'voltage-voltage', type: 'voltage', differential: true, info: 'offset', available: false, scope: 'type' }],
    ['in_voltage-voltage_scale_available', { direction: 'in', id: 'voltage-voltage', type: 'voltage', differential: true, info: 'scale', available: true, scope: 'type' }],
    // extend names (before a known info), indexed, modified, non-indexed, differential
    ['in_voltage4_supply_raw', { direction: 'in', id: 'voltage4_supply', type: 'voltage', index: 4, extendName: 'supply', info: 'raw', available: false, scope: 'channel' }],
    ['in_voltage4_supply_scale', { direction: 'in', id: 'voltage4_supply', type: 'voltage', index: 4, extendName: 'supply', info: 'scale', available: false, scope: 'channel' }],
    ['in_voltage4_supply_en', { direction: 'in', id: 'voltage4_supply', type: 'voltage', index: 4, extendName: 'supply', info: 'en', available: false, scope: 'channel' }],
    ['in_voltage3_supply_sampling_frequency_available', { direction: 'in', id: 'voltage3_supply', type: 'voltage', index: 3, extendName: 'supply', info: 'sampling_frequency', available: true, scope: 'channel' }],
    ['in_accel_x_ref_raw', { direction: 'in', id: 'accel_x_ref', type: 'accel', modifier: 'x', extendName: 'ref', info: 'raw', available: false, scope: 'channel' }],
    ['in_voltage_vddio_raw', { direction: 'in', id: 'voltage_vddio', type: 'voltage', extendName: 'vddio', info: 'raw', available: false, scope: 'channel' }],
    ['in_voltage0-voltage1_cal_raw', { direction: 'in', id: 'voltage0-voltage1_cal', type: 'voltage', index: 0, index2: 1, differential: true, extendName: 'cal', info: 'raw', available: false, scope: 'channel' }],
    ['out_altvoltage0_ZD_OUTPUT_frequency', { direction: 'out', id: 'altvoltage0_ZD_OUTPUT', type: 'altvoltage', index: 0, extendName: 'ZD_OUTPUT', info: 'frequency', available: false, scope: 'channel' }],
    // shared by direction
    ['in_sampling_frequency', { direction: 'in', id: '', type: '', info: 'sampling_frequency', available: false, scope: 'direction' }],
    ['in_sampling_frequency_available', { direction: 'in', id: '', type: '', info: 'sampling_frequency', available: true, scope: 'direction' }],
    ['out_oversampling_ratio', { direction: 'out', id: '', type: '', info: 'oversampling_ratio', available: false, scope: 'direction' }],
  ];

  for (const [file, want] of cases) {
    it(file, () => assert.deepEqual(p.parseAttribute(file), want));
  }

  it('rejects what is not a channel attribute', () => {
    const not = [
      'name', 'sampling_frequency', 'in_', 'in_bogus0_raw', 'inn_voltage0_raw', 'in_voltagex_raw', 'in_voltage0',
      // differential: mixed types, missing or extra index, dangling dash
      'in_voltage0-current1_raw', 'in_voltage0-voltage_raw', 'in_voltage-voltage0_raw', 'in_voltage-current_scale', 'in_voltage0-_raw',
      'in_voltage-voltage', 'in_voltage-', 'in_voltage-voltage_available',
      // shared by direction only with a core info name
      'in_bogus', 'in_conversion_mode', 'out_',
    ];
    for (const f of not) assert.equal(p.parseAttribute(f), null, f);
  });

  const events: Array<[string, object]> = [
    ['in_temp_thresh_rising_value', { direction: 'in', id: 'temp', type: 'temp', eventType: 'thresh', eventDirection: 'rising', info: 'value', scope: 'type' }],
    ['in_voltage2_thresh_falling_en', { direction: 'in', id: 'voltage2', type: 'voltage', index: 2, eventType: 'thresh', eventDirection: 'falling', info: 'en', scope: 'channel' }],
    ['in_accel_x_mag_adaptive_rising_hysteresis', { direction: 'in', id: 'accel_x', type: 'accel', modifier: 'x', eventType: 'mag_adaptive', eventDirection: 'rising', info: 'hysteresis', scope: 'channel' }],
    ['in_proximity0_thresh_either_period', { direction: 'in', id: 'proximity0', type: 'proximity', index: 0, eventType: 'thresh', eventDirection: 'either', info: 'period', scope: 'channel' }],
    ['in_voltage0-voltage1_thresh_rising_value', { direction: 'in', id: 'voltage0-voltage1', type: 'voltage', index: 0, index2: 1, differential: true, eventType: 'thresh', eventDirection: 'rising', info: 'value', scope: 'channel' }],
    ['in_accel_x&y&z_mag_rising_value', { direction: 'in', id: 'accel_x&y&z', type: 'accel', modifier: 'x&y&z', eventType: 'mag', eventDirection: 'rising', info: 'value', scope: 'channel' }],
    ['in_accel_mag_rising_value', { direction: 'in', id: 'accel', type: 'accel', eventType: 'mag', eventDirection: 'rising', info: 'value', scope: 'type' }],
    ['in_voltage-voltage_thresh_rising_hysteresis', { direction: 'in', id: 'voltage-voltage', type: 'voltage', differential: true, eventType: 'thresh', eventDirection: 'rising', info: 'hysteresis', scope: 'type' }],
    ['in_thresh_rising_period', { direction: 'in', id: '', type: '', eventType: 'thresh', eventDirection: 'rising', info: 'period', scope: 'direction' }],
    ['in_steps_change_value', { direction: 'in', id: 'steps', type: 'steps', eventType: 'change', eventDirection: 'none', info: 'value', scope: 'type' }],
    ['in_accel_gesture_singletap_en', { direction: 'in', id: 'accel', type: 'accel', eventType: 'gesture', eventDirection: 'singletap', info: 'en', scope: 'type' }],
    ['in_accel_mag_referenced_rising_value', { direction: 'in', id: 'accel', type: 'accel', eventType: 'mag_referenced', eventDirection: 'rising', info: 'value', scope: 'type' }],
    ['in_voltage4_supply_thresh_falling_value', { direction: 'in', id: 'voltage4_supply', type: 'voltage', index: 4, extendName: 'supply', eventType: 'thresh', eventDirection: 'falling', info: 'value', scope: 'channel' }],
    ['in_accel_thresh_rising_value_available', { direction: 'in', id: 'accel', type: 'accel', eventType: 'thresh', eventDirection: 'rising', info: 'value_available', scope: 'type' }],
  ];
  for (const [file, want] of events) {
    it(`event ${file}`, () => assert.deepEqual(p.parseEventAttribute(file), want));
  }

  it('rejects what is not an event attribute', () => {
    const not = ['in_temp_raw', 'in_voltage0_raw', 'thresh_rising_value', 'in_bogus0_thresh_rising_value', 'in_voltage0-current1_thresh_rising_value', 'in_voltage0_thresh', 'in_accel_change_bogus', 'in_voltage-voltage_supply_thresh_rising_value'];
    for (const f of not) assert.equal(p.parseEventAttribute(f), null, f);
  });
});
