import { strict as assert } from 'assert';
import { EventStream, IioEvent } from '../../src/events';
import { DeviceHandle } from '../../src/device';
import { IioError } from '../../src/errors';
import { emu, readSys, writeSys, setTemperature, waitFor, resources } from '../lib/hw';
import { reactor } from '../../src/reactor';

describe('events (emu-thermo threshold events through IIO_GET_EVENT_FD)', function () {
  this.timeout(60000);

  beforeEach(() => {
    const t = emu('emu-thermo');
    setTemperature(25000);
    writeSys(t, 'events/in_temp_thresh_rising_value', 560); // 45 °C
    writeSys(t, 'events/in_temp_thresh_falling_value', 400); // 35 °C
    writeSys(t, 'events/in_temp_thresh_rising_hysteresis', 16);
    writeSys(t, 'events/in_temp_thresh_falling_hysteresis', 16);
  });

  afterEach(() => {
    const t = emu('emu-thermo');
    writeSys(t, 'events/in_temp_thresh_rising_en', 0);
    writeSys(t, 'events/in_temp_thresh_falling_en', 0);
    setTemperature(25000);
  });

  it('heating past the rising threshold and cooling below the falling one give exact events', async () => {
    const t = emu('emu-thermo');
    const events: IioEvent[] = [];
    const errors: IioError[] = [];
    const before = resources();
    const stream = new EventStream(t, { onEvents: (e) => events.push(...e), onError: (e) => errors.push(e) });
    stream.start();
    try {
      assert.equal(reactor.size, 0, 'read on the event loop: the reactor waits on nothing');
      writeSys(t, 'events/in_temp_thresh_rising_en', 1);
      writeSys(t, 'events/in_temp_thresh_falling_en', 1);
      setTemperature(30000);
      setTemperature(46000); // raw 576 ≥ 560: rising
      await waitFor(() => events.length === 1, 'the rising event');
      setTemperature(46500); // still above: no new event
      setTemperature(30000); // raw 320 ≤ 400: falling
      await waitFor(() => events.length === 2, 'the falling event');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(events.length, 2);
      const [rise, fall] = events;
      for (const e of events) {
        assert.deepEqual([e.typeName, e.channelTypeName, e.channel, e.modifierName, e.differential], ['thresh', 'temp', 0, '', false]);
      }
      assert.equal(rise.directionName, 'rising');
      assert.equal(fall.directionName, 'falling');
      // IIO_UNMOD_EVENT_CODE(IIO_TEMP = 9, 0, THRESH, dir): dir << 48 | 9 << 32.
      assert.deepEqual([rise.id, fall.id], [0x0001000900000000n, 0x0002000900000000n]);
      assert.ok(rise.timestamp > 0n && fall.timestamp > rise.timestamp, 'monotonic timestamps');
      assert.deepEqual(errors, []);
    } finally {
      await stream.close();
    }
    assert.deepEqual(resources(), before, 'the event fd and its duplicate closed');
  });

  it('hysteresis: the rising event re-arms only after falling below value − hysteresis', async () => {
    const t = emu('emu-thermo');
    const events: IioEvent[] = [];
    const errors: IioError[] = [];
    const stream = new EventStream(t, { onEvents: (e) => events.push(...e), onError: (e) => errors.push(e) });
    stream.start();
    try {
      writeSys(t, 'events/in_temp_thresh_rising_en', 1);
      setTemperature(46000); // rise (raw 576)
      await waitFor(() => events.length === 1, 'first rising event');
      setTemperature(44500); // raw 552: below 560 but not below 544 → stays disarmed
      setTemperature(46000);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(events.length, 1, 'no event within the hysteresis band');
      setTemperature(43000); // raw 528 < 544: re-armed
      setTemperature(46000);
      await waitFor(() => events.length === 2, 'second rising event');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(events.map((e) => [e.directionName, e.id]), [['rising', 0x0001000900000000n], ['rising', 0x0001000900000000n]]);
    } finally {
      await stream.close();
    }
    assert.deepEqual(errors, []);
  });

  it('a second event fd on the same device is EBUSY; a device without events is ENODEV', async () => {
    const t = emu('emu-thermo');
    const events: IioEvent[] = [];
    const errors: IioError[] = [];
    const stream = new EventStream(t, { onEvents: (e) => events.push(...e), onError: (e) => errors.push(e) });
    stream.start();
    const h = t.openHandle();
    try {
      assert.throws(() => h.openEvents(), (e: IioError) => e.code === 'EBUSY' && /IIO_GET_EVENT_FD_IOCTL/.test(e.message));
    } finally {
      h.close();
      await stream.close();
    }
    assert.deepEqual([events, errors], [[], []]);
    const dac = emu('emu-dac').openHandle();
    try {
      assert.throws(() => dac.openEvents(), (e: IioError) => e.code === 'ENODEV');
    } finally {
      dac.close();
    }
    assert.equal(readSys(t, 'events/in_temp_thresh_rising_en'), '0');
  });
});
