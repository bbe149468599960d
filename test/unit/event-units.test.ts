import { strict as assert } from 'node:assert';
import { toRawSetting, fromRawSetting, formatAttr } from '../../src/event-units';

// emu-thermo: (raw + 160) × 62.5 m°C
const THERMO = { scale: 62.5, offset: 160 };

describe('event-units: thresholds in the units of the channel\'s scaled value', () => {
  it('converts °C thresholds to emu-thermo\'s raw units: 45 °C → 560, 35 °C → 400, hysteresis 1 °C → 16', () => {
    assert.equal(toRawSetting('value', '45000', THERMO, true), '560');
    assert.equal(toRawSetting('value', '35000', THERMO, true), '400');
    assert.equal(toRawSetting('hysteresis', '1000', THERMO, true), '16');
    assert.equal(toRawSetting('value', '-10000', THERMO, true), '-320');
  });

  it('rounds to the nearest raw step for integer attributes and keeps 6 decimals otherwise', () => {
    assert.equal(toRawSetting('value', '45040', THERMO, true), '561'); // 560.64
    assert.equal(toRawSetting('value', '45020', THERMO, true), '560'); // 560.32
    assert.equal(toRawSetting('value', '45040', THERMO, false), '560.64');
    assert.equal(toRawSetting('value', '1.5', { scale: 0.1, offset: 0 }, false), '15');
    assert.equal(formatAttr(-0.2, true), '0');
    assert.equal(formatAttr(-0.0000001, false), '0');
  });

  it('leaves the period (seconds) alone and converts back for display', () => {
    assert.equal(toRawSetting('period', ' 0.5 ', THERMO, true), '0.5');
    assert.equal(fromRawSetting('value', '560', THERMO), 45000);
    assert.equal(fromRawSetting('hysteresis', '16', THERMO), 1000);
    assert.equal(fromRawSetting('period', '2', THERMO), 2);
  });

  it('uses |scale| for hysteresis, a distance, on channels with a negative scale', () => {
    assert.equal(toRawSetting('hysteresis', '1000', { scale: -62.5, offset: 0 }, true), '16');
    assert.equal(toRawSetting('value', '1000', { scale: -62.5, offset: 0 }, true), '-16');
  });

  it('refuses text that is not a number, and a zero scale, with EINVAL', () => {
    for (const bad of ['', ' ', 'abc', '45 °C', 'NaN', 'Infinity']) {
      assert.throws(() => toRawSetting('value', bad, THERMO, true), (e: { code?: string }) => e.code === 'EINVAL', JSON.stringify(bad));
    }
    assert.throws(() => toRawSetting('value', '1', { scale: 0, offset: 0 }, true), (e: { code?: string }) => e.code === 'EINVAL');
  });
});
