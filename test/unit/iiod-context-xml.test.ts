import { strict as assert } from 'node:assert';
import { parseContextXml, kernelFormat } from '../../src/iiod/context-xml';
import { channelMask, selectChannels, libiioScanBytes } from '../../src/iiod/session';
import { parseXml, XmlError } from '../../src/iiod/xml';
import { computeLayout } from '../../src/scan';
import { IioError } from '../../src/errors';
import { EMU_ADC_CHANNELS } from '../lib/emu-pattern';
import { CONTEXT_XML as FIXTURE } from '../lib/fake-iiod';

describe('iiod context description (libiio XML)', () => {
  const info = parseContextXml(FIXTURE);
  const dev = (name: string) => info.devices.find((d) => d.name === name)!;

  it('reads the context, its devices and triggers as iiod 0.24 describes them', () => {
    assert.equal(info.name, 'local');
    assert.deepEqual(info.version, { major: 0, minor: 24, git: 'v0.24' });
    assert.match(info.description!, /^Linux iio-vm 6\.12/);
    assert.equal(info.attributes['local,kernel'], '6.12.117+deb12-amd64');
    assert.deepEqual(info.devices.map((d) => [d.id, d.name, d.label]), [
      ['iio:device0', 'emu-thermo', 'board-temp'],
      ['iio:device1', 'emu-adc', 'adc-main'],
      ['iio:device2', 'emu-dac', 'dac-main'],
      ['iio:device3', 'emu-mux', 'mux-adc'],
      ['iio_sysfs_trigger', undefined, undefined],
    ]);
    assert.deepEqual(info.triggers, [{ id: 'trigger0', name: 't0', attributes: ['sampling_frequency'] }]);
    assert.ok(info.devices.every((d) => d.error === undefined));
  });

  it('channels: ids, directions, scan elements in the kernel\'s format words, attributes with their files', () => {
    const adc = dev('emu-adc');
    assert.deepEqual(adc.channels.map((c) => [c.id, c.direction, c.scanElement?.index, c.scanElement?.typeString, c.maskBit]),
      EMU_ADC_CHANNELS.map((c, i) => [c.name, 'in', c.index, c.type, i]));
    assert.deepEqual(adc.channels[4].scanElement!.type, { endian: 'le', signed: false, realBits: 16, storageBits: 16, repeat: 4, shift: 0 });
    assert.equal(adc.channels[0].scanElement!.scale, 0.805664);
    assert.equal(adc.channels[8].scanElement!.scale, undefined);
    assert.deepEqual(adc.channels[3].attributes, [
      { name: 'offset', filename: 'in_voltage3_offset' },
      { name: 'raw', filename: 'in_voltage3_raw' },
      { name: 'scale', filename: 'in_voltage_scale' },
    ]);
    assert.deepEqual(adc.attributes, ['current_timestamp_clock', 'emu_dropped_scans', 'emu_free_running', 'sampling_frequency']);
    assert.deepEqual(adc.bufferAttributes, ['data_available', 'direction']);
    assert.deepEqual(adc.debugAttributes, []);
    assert.deepEqual(dev('emu-dac').channels.map((c) => [c.id, c.direction]), [['voltage0', 'out'], ['voltage1', 'out']]);
  });

  it('libiio quirks survive: extended names, repeated attribute names, channels without a scan element last', () => {
    const mux = dev('emu-mux');
    const supply = mux.channels.find((c) => c.id === 'voltage4')!;
    assert.equal(supply.name, 'supply');
    assert.deepEqual(mux.channels[0].attributes.filter((a) => a.name === 'scale').map((a) => a.filename), ['in_voltage_scale', 'in_voltage-voltage_scale']);
    const sampling = mux.channels[mux.channels.length - 1];
    assert.deepEqual([sampling.id, sampling.scanElement, sampling.maskBit], ['sampling', undefined, 7]);
  });

  it('the OPEN mask and the layout agree with the kernel\'s (voltage0, voltage1, timestamp → 00000103, 16-byte scans)', () => {
    const adc = dev('emu-adc');
    const some = selectChannels(adc, 'in', ['timestamp', 'voltage1', 'voltage0']);
    assert.equal(channelMask(adc, some), '00000103');
    assert.equal(channelMask(adc, selectChannels(adc, 'in')), '000001ff');
    const layout = (chs: typeof some) => computeLayout(chs.map((c) => ({ name: c.id, index: c.scanElement!.index, type: c.scanElement!.type })));
    assert.equal(layout(some).scanBytes, 16);
    assert.equal(layout(selectChannels(adc, 'in')).scanBytes, 40);
    assert.deepEqual(layout(selectChannels(adc, 'in', ['accel_z', 'voltage3', 'voltage2'])).elements.map((e) => [e.name, e.offset]), [['voltage2', 0], ['voltage3', 4], ['accel_z', 8]]);
    // libiio 0.24 leaves out the kernel's trailing padding: equal with the timestamp, short without.
    assert.equal(libiioScanBytes(selectChannels(adc, 'in')), 40);
    assert.equal(libiioScanBytes(some), 16);
    assert.equal(libiioScanBytes(selectChannels(adc, 'in', ['accel_z', 'voltage3', 'voltage2'])), 10);
    assert.equal(libiioScanBytes(selectChannels(adc, 'in', ['accel_z', 'voltage3', 'voltage2', 'timestamp'])), 24);
    // 40 channels → two words, the high one first.
    const wide = { ...adc, channels: Array.from({ length: 40 }, (_, i) => ({ ...adc.channels[1], id: `voltage${i}`, maskBit: i, scanElement: { ...adc.channels[1].scanElement!, index: i } })) };
    assert.equal(channelMask(wide, [wide.channels[0], wide.channels[33]]), '0000000200000001');
  });

  it('selecting channels names what is wrong', () => {
    const adc = dev('emu-adc');
    assert.throws(() => selectChannels(adc, 'in', ['voltage9']), (e: IioError) => e.code === 'ENOENT' && /no input scan element "voltage9" \(it has voltage0, /.test(e.message));
    assert.throws(() => selectChannels(adc, 'out'), (e: IioError) => e.code === 'ENODEV' && /no output scan elements/.test(e.message));
    assert.throws(() => selectChannels(adc, 'in', []), (e: IioError) => e.code === 'EINVAL');
  });

  it('libiio\'s S/U sign letters become the kernel\'s', () => {
    assert.equal(kernelFormat('le:S16/16>>0'), 'le:s16/16>>0');
    assert.equal(kernelFormat('be:U16/16X4>>0'), 'be:u16/16X4>>0');
    assert.equal(kernelFormat('le:s24/32>>8'), 'le:s24/32>>8');
  });

  it('an undecodable scan format marks its device, and later channels keep their mask bits', () => {
    const xml = FIXTURE.replace('format="le:s24/32&gt;&gt;8"', 'format="le:s24/24&gt;&gt;0"');
    const adc = parseContextXml(xml).devices.find((d) => d.name === 'emu-adc')!;
    assert.ok(adc.error instanceof IioError && adc.error.code === 'EINVAL' && /storagebits/.test(adc.error.message));
    assert.equal(adc.channels[3].scanElement, undefined);
    assert.deepEqual(adc.channels.map((c) => c.maskBit), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('XML: entities, comments, single quotes; malformed input is an XmlError naming the offset', () => {
    const el = parseXml(`<?xml version="1.0"?><!-- x --><a b='1 &lt; 2 &amp;&#x41;&#66;' ><c/><!-- y --></a>`);
    assert.deepEqual(JSON.parse(JSON.stringify(el)), { name: 'a', attrs: { b: '1 < 2 &AB' }, children: [{ name: 'c', attrs: {}, children: [] }] });
    const bad = [
      FIXTURE.slice(0, 5000),
      '<a><b></a>',
      '<a b="1" b="2"/>',
      '<a b="&bogus;"/>',
      '<a>text</a>',
      '<a/><b/>',
      '<a b=1/>',
      'junk',
      '<'.repeat(10),
      '<a>'.repeat(100) + '</a>'.repeat(100),
      '\u0000\u0001binary',
    ];
    for (const text of bad) {
      assert.throws(() => parseXml(text), (e: Error) => e instanceof XmlError && /^context XML at offset \d+: /.test(e.message), JSON.stringify(text.slice(0, 40)));
    }
    assert.throws(() => parseContextXml('<html/>'), (e: Error) => e instanceof XmlError && /<html>/.test(e.message));
    assert.throws(() => parseContextXml('<context name="x"><device/></context>'), (e: Error) => e instanceof XmlError && /<device> without id/.test(e.message));
  });
});
