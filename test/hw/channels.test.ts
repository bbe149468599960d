// Channel naming on the real kernel: emu-mux (harness/emu/emu_mux.c) shows every form the 6.12
// core builds — differential pairs, `in_voltage-voltage_scale` shared by the differential
// channels only, `in_voltage_scale` by the single-ended ones, an extend name, a modified accel
// channel — and, like a real multiplexed ADC, takes one channel per scan.
import { strict as assert } from 'assert';
import { CaptureStream, CapturedBlock } from '../../src/buffer';
import { IioError } from '../../src/errors';
import { ScanDecoder } from '../../src/scan';
import { createSysfsTrigger, removeSysfsTrigger } from '../../src/trigger';
import { EMU_MUX_CHANNELS, EMU_MUX_DISCOVERED, EMU_MUX_EVENTS, emuMuxRawAttr, emuMuxValues } from '../lib/emu-pattern';
import { emu, readSys, waitFor, writeSys } from '../lib/hw';

describe('channel naming on the real kernel (emu-mux)', function () {
  this.timeout(60000);

  it('every channel with exactly its own and shared attributes', () => {
    const mux = emu('emu-mux');
    assert.equal(mux.label, 'mux-adc');
    assert.equal(mux.error, undefined);
    assert.deepEqual(mux.channels.map((c) => [c.id, c.scanIndex, c.scanType, c.attributes, c.available]), EMU_MUX_DISCOVERED);
    const ids = mux.channels.map((c) => [c.id, c.type, c.index, c.index2, c.differential, c.modifier, c.extendName, c.label]);
    assert.deepEqual(ids, [
      ['voltage0-voltage1', 'voltage', 0, 1, true, undefined, undefined, undefined],
      ['voltage2-voltage3', 'voltage', 2, 3, true, undefined, undefined, undefined],
      ['voltage0', 'voltage', 0, undefined, undefined, undefined, undefined, undefined],
      ['voltage1', 'voltage', 1, undefined, undefined, undefined, undefined, undefined],
      ['voltage4_supply', 'voltage', 4, undefined, undefined, undefined, 'supply', 'supply'],
      ['accel_x', 'accel', undefined, undefined, undefined, 'x', undefined, undefined],
      ['timestamp', 'timestamp', undefined, undefined, undefined, undefined, undefined, undefined],
    ]);
    // Nothing shared left over as a device attribute.
    assert.deepEqual(mux.attributes.filter((a) => a.startsWith('in_')), []);
    // The values behind the names.
    assert.deepEqual(
      ['in_voltage-voltage_scale', 'in_voltage_scale', 'in_voltage4_supply_scale', 'in_accel_scale', 'in_sampling_frequency'].map((a) => readSys(mux, a)),
      ['0.062500', '1.000000', '2.000000', '0.009576', '128'],
    );
    for (const c of EMU_MUX_CHANNELS.filter((x) => x.name !== 'timestamp')) {
      const ch = mux.channels.find((x) => x.id === c.name)!;
      assert.equal(Number(readSys(mux, ch.attributes.raw)), emuMuxRawAttr(c.name), c.name);
    }
    assert.deepEqual(mux.buffers.map((b) => [b.index, b.direction, b.scanElements.map((e) => e.channel)]), [
      [0, 'in', ['voltage0-voltage1', 'voltage2-voltage3', 'voltage0', 'voltage1', 'voltage4_supply', 'accel_x', 'timestamp']],
    ]);
  });

  it('event attributes, shared ones attached to the events they are shared by', () => {
    const mux = emu('emu-mux');
    assert.deepEqual(mux.events.map((e) => [e.channel, e.type, e.eventDirection, e.attributes]).sort(), EMU_MUX_EVENTS);
  });

  it('captures one differential channel with exact values; a second channel is EINVAL naming its scan element', async () => {
    const mux = emu('emu-mux');
    const trig = createSysfsTrigger(41);
    const errors: IioError[] = [];
    let cap: CaptureStream | undefined;
    /** Captures `scans` single-scan blocks, one sysfs fire each; `values(ch)` decodes a channel. */
    const capture = async (channels: string[], scans: number) => {
      const blocks: CapturedBlock[] = [];
      const stream = new CaptureStream(mux, { channels, scansPerBlock: 1, length: 16, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
      cap = stream;
      stream.start();
      for (let i = 0; i < scans; i++) {
        trig.fire();
        await waitFor(() => blocks.length === i + 1, `scan ${i}`);
      }
      await stream.close();
      const dec = new ScanDecoder(stream.layout);
      return { stream, values: (ch: string) => blocks.map((b) => Number(dec.decode(b.data, b.scans).channels[ch][0])) };
    };
    try {
      mux.writeCurrentTrigger(trig.name);
      // A known start: no scan element set (earlier captures leave theirs).
      for (const el of mux.buffers[0].scanElements) writeSys(mux, el.enableAttr, 0);
      const two = new CaptureStream(mux, { channels: ['voltage0-voltage1', 'accel_x'], scansPerBlock: 1, onBlock: () => undefined, onError: (e) => errors.push(e) });
      assert.throws(
        () => two.start(),
        (e: IioError) => e.code === 'EINVAL' && e.path === `${mux.sysfsPath}/buffer0/in_accel_x_en` && /emu-mux refuses this channel combination \(voltage0-voltage1 \+ accel_x\)/.test(e.message),
      );
      assert.equal(readSys(mux, 'buffer0/enable'), '0');
      // The failed start put the scan elements back as they were: none set.
      assert.deepEqual(mux.buffers[0].scanElements.filter((el) => readSys(mux, el.enableAttr) === '1'), []);
      // Leave voltage0-voltage1 set, as another program might: a capture of accel_x must clear it first.
      writeSys(mux, 'buffer0/in_voltage0-voltage1_en', 1);
      const accel = await capture(['accel_x', 'timestamp'], 4);
      assert.equal(accel.stream.layout.scanBytes, 16);
      assert.deepEqual(accel.values('accel_x'), emuMuxValues('accel_x', 0, 4));
      // Stopping restored the element set before: voltage0-voltage1 only.
      assert.deepEqual(mux.buffers[0].scanElements.filter((el) => readSys(mux, el.enableAttr) === '1').map((el) => el.channel), ['voltage0-voltage1']);
      // Back to a channel of a lower index, with accel_x set by someone else: cleared first.
      writeSys(mux, 'buffer0/in_voltage0-voltage1_en', 0);
      writeSys(mux, 'buffer0/in_accel_x_en', 1);
      const diff = await capture(['voltage0-voltage1'], 3);
      assert.equal(diff.stream.layout.scanBytes, 2);
      assert.deepEqual(diff.values('voltage0-voltage1'), [0, 257, 514]);
      assert.deepEqual(emuMuxValues('voltage0-voltage1', 0, 3), [0, 257, 514]);
    } finally {
      await cap?.close();
      for (const el of mux.buffers[0].scanElements) writeSys(mux, el.enableAttr, 0);
      mux.writeCurrentTrigger('');
      removeSysfsTrigger(41);
    }
    assert.deepEqual(errors, []);
  });
});

