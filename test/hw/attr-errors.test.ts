import { strict as assert } from 'assert';
import { AttributeDir } from '../../src/attr';
import { CaptureStream, CapturedBlock } from '../../src/buffer';
import { DeviceHandle } from '../../src/device';
import { IioError } from '../../src/errors';
import { EventStream } from '../../src/events';
import { openFile, closeFd, O_RDONLY } from '../../src/libc';
import { createSysfsTrigger, removeSysfsTrigger } from '../../src/trigger';
import { reactor } from '../../src/reactor';
import { emuAdcRaw } from '../lib/emu-pattern';
import { emu, setTemperature, resources, waitFor, readSys } from '../lib/hw';

describe('sysfs attributes on the real kernel', () => {
  it('reads scale and offset, and computes °C from raw after a scripted temperature', () => {
    const t = emu('emu-thermo');
    const a = new AttributeDir(t.sysfsPath, t.name);
    assert.equal(a.readFloatSync('in_temp_scale'), 62.5);
    assert.equal(a.readIntSync('in_temp_offset'), 160);
    setTemperature(31250);
    const raw = a.readIntSync('in_temp_raw');
    assert.equal(raw, 340);
    assert.equal((raw + 160) * 62.5, 31250);
    setTemperature(25000);
  });

  it('round-trips event attributes and device attributes', () => {
    const t = emu('emu-thermo');
    const a = new AttributeDir(t.sysfsPath, t.name);
    a.writeSync('events/in_temp_thresh_rising_value', 600);
    assert.equal(a.readIntSync('events/in_temp_thresh_rising_value'), 600);
    a.writeSync('events/in_temp_thresh_rising_value', 560);
    a.writeSync('events/in_temp_thresh_rising_en', true);
    assert.equal(a.readBoolSync('events/in_temp_thresh_rising_en'), true);
    a.writeSync('events/in_temp_thresh_rising_en', false);
    const adc = new AttributeDir(emu('emu-adc').sysfsPath, 'emu-adc');
    adc.writeSync('sampling_frequency', 500);
    assert.equal(adc.readIntSync('sampling_frequency'), 500);
    adc.writeSync('sampling_frequency', 1000);
  });

  it('async reads and writes work too', async () => {
    const a = new AttributeDir(emu('emu-thermo').sysfsPath, 'emu-thermo');
    await a.write('events/in_temp_thresh_falling_hysteresis', 20);
    assert.equal(await a.readInt('events/in_temp_thresh_falling_hysteresis'), 20);
    await a.write('events/in_temp_thresh_falling_hysteresis', 16);
  });

  it('surfaces the driver\'s EINVAL, and EACCES on a read-only attribute, naming the attribute', () => {
    const t = emu('emu-thermo');
    const a = new AttributeDir(t.sysfsPath, t.name);
    assert.throws(() => a.writeSync('events/in_temp_thresh_rising_value', 'hot'), (e: IioError) => e.code === 'EINVAL' && e.attribute === 'events/in_temp_thresh_rising_value' && /emu-thermo/.test(e.message));
    assert.throws(() => a.writeSync('name', 'x'), (e: IioError) => e.code === 'EACCES' && e.attribute === 'name');
    assert.throws(() => a.readStringSync('no_such_attribute'), (e: IioError) => e.code === 'ENOENT');
    assert.throws(() => a.readStringSync('../../../../etc/passwd'), (e: IioError) => e.code === 'EINVAL');
  });
});

describe('errors and resource hygiene on the real kernel', function () {
  this.timeout(600000);

  it('a second opener of /dev/iio:deviceX gets EBUSY while the handle is held', () => {
    const adc = emu('emu-adc');
    const h = adc.openHandle();
    try {
      assert.throws(() => openFile(adc.devPath, O_RDONLY), (e: IioError) => e.code === 'EBUSY' && e.syscall === 'open' && e.path === adc.devPath);
    } finally {
      h.close();
    }
    const fd = openFile(adc.devPath, O_RDONLY);
    closeFd(fd);
  });

  it('opening a missing device node is ENOENT naming the path', () => {
    assert.throws(() => openFile('/dev/iio:device999', O_RDONLY), (e: IioError) => e.code === 'ENOENT' && e.path === '/dev/iio:device999');
  });

  it('1000 open/capture/close cycles leave fds and mappings as they were', async () => {
    const adc = emu('emu-adc');
    const trig = createSysfsTrigger(9);
    adc.writeCurrentTrigger(trig.name);
    const before = resources();
    const errors: IioError[] = [];
    try {
      for (let i = 0; i < 1000; i++) {
        const got: CapturedBlock[] = [];
        const cap = new CaptureStream(adc, { channels: ['voltage1', 'timestamp'], scansPerBlock: 1, onBlock: (b) => got.push(b), onError: (e) => errors.push(e) });
        cap.start();
        try {
          // One fire per enable: each enable has a fresh pollfunc, so no fire is still in flight.
          trig.fire();
          await waitFor(() => got.length === 1, `cycle ${i}`);
        } finally {
          await cap.close();
        }
        // voltage1 (s16 at 0) + timestamp (at 8) = 16 bytes; each enable restarts at scan 0 (raw 961).
        assert.deepEqual(got.map((b) => [b.scans, b.data.length, b.data.readInt16LE(0)]), [[1, 16, emuAdcRaw(1, 0, 16, true)]], `cycle ${i}`);
        if (i % 100 === 0) {
          const events: unknown[] = [];
          const ev = new EventStream(emu('emu-thermo'), { onEvents: (e) => events.push(...e), onError: (e) => errors.push(e) });
          ev.start();
          await ev.close();
          assert.deepEqual(events, []);
        }
      }
    } finally {
      adc.writeCurrentTrigger('');
      removeSysfsTrigger(9);
    }
    await waitFor(() => reactor.size === 0, 'the reactor to go idle');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(errors, []);
    assert.deepEqual(resources(), before);
    assert.equal(DeviceHandle.openCount(), 0);
    assert.equal(readSys(adc, 'buffer0/enable'), '0');
  });
});
