import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IioError } from '../../src/errors';
import { expectCode } from '../lib/expect';
import {
  AttributeDir, formatValue, parseAvailable, parseBoolAttr, parseFloatAttr, parseIntAttr, validateAttributeName,
} from '../../src/attr';

async function expectCodeAsync(promise: Promise<unknown>, code: string): Promise<IioError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof IioError, `expected IioError, got ${String(e)}`);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('attr', () => {
  describe('validateAttributeName', () => {
    for (const name of [
      'sampling_frequency', 'buffer0/enable', 'events/in_temp_thresh_rising_en', 'scan_elements/in_voltage0_en',
      'in_voltage0-voltage1_raw', 'buffer0/in_voltage0_type', 'in_accel_x_scale', 'a/b/c', 'name', 'iio:device0',
    ]) {
      it(`accepts ${name}`, () => assert.equal(validateAttributeName(name), name));
    }

    const rejected: Array<[string, unknown]> = [
      ['..', '..'], ['. ', '.'], ['parent path', '../name'], ['inner ..', 'a/../b'], ['trailing ..', 'events/..'],
      ['absolute', '/etc/passwd'], ['absolute sysfs', '/sys/bus/iio/devices/iio:device0/name'], ['NUL', 'name\0'],
      ['empty segment', 'a//b'], ['trailing slash', 'buffer0/'], ['too deep', 'a/b/c/d'], ['empty', ''],
      ['backslash', 'a\\b'], ['space', 'in voltage'], ['newline', 'name\n'], ['tab', 'a\tb'], ['tilde', '~root'],
      ['glob', 'in_*_raw'], ['number', 42], ['undefined', undefined], ['null', null], ['object', { toString: () => 'name' }],
      ['too long', 'a'.repeat(256)],
    ];
    for (const [what, name] of rejected) {
      it(`rejects ${what}`, () => expectCode(() => validateAttributeName(name, 'emu-adc'), 'EINVAL', /invalid attribute name/));
    }

    it('names the attribute and the device', () => {
      try {
        validateAttributeName('../x', 'emu-adc');
        assert.fail('accepted');
      } catch (e) {
        const err = e as IioError;
        assert.equal(err.attribute, '../x');
        assert.equal(err.device, 'emu-adc');
        assert.equal(err.errno, 0);
        assert.match(err.message, /"\.\.\/x"/);
      }
    });
  });

  describe('value parsing', () => {
    it('integers', () => {
      assert.equal(parseIntAttr('42\n'), 42);
      assert.equal(parseIntAttr('-17'), -17);
      assert.equal(parseIntAttr('+3'), 3);
      assert.equal(parseIntAttr('0x1F'), 31);
      for (const bad of ['', 'abc', '1.5', '12a', '0x', '- 1']) expectCode(() => parseIntAttr(bad), 'EINVAL', /integer/);
      expectCode(() => parseIntAttr('18446744073709551615'), 'ERANGE');
    });

    it('IIO fixed point and exponents', () => {
      assert.equal(parseFloatAttr('0.805664\n'), 0.805664);
      assert.equal(parseFloatAttr('-0.5'), -0.5);
      assert.equal(parseFloatAttr('62.500000'), 62.5);
      assert.equal(parseFloatAttr('-0.000001'), -0.000001);
      assert.equal(parseFloatAttr('1e-3'), 0.001);
      assert.equal(parseFloatAttr('100'), 100);
      assert.equal(parseFloatAttr('.5'), 0.5);
      for (const bad of ['', 'nan', 'inf', '1.2.3', '0.5 1', '1e', 'x']) expectCode(() => parseFloatAttr(bad), 'EINVAL', /number/);
    });

    it('booleans as kstrtobool reads them', () => {
      for (const t of ['1', '1\n', 'Y', 'y', 'on', 'true']) assert.equal(parseBoolAttr(t), true, t);
      for (const f of ['0', '0\n', 'N', 'n', 'off', 'false']) assert.equal(parseBoolAttr(f), false, f);
      for (const bad of ['', '2', 'maybe']) expectCode(() => parseBoolAttr(bad), 'EINVAL', /boolean/);
    });

    it('*_available lists and ranges', () => {
      assert.deepEqual(parseAvailable('0.000610351 0.001220703 0.002441406\n'), {
        kind: 'list', values: ['0.000610351', '0.001220703', '0.002441406'], numbers: [0.000610351, 0.001220703, 0.002441406],
      });
      assert.deepEqual(parseAvailable('normal low_power\n'), { kind: 'list', values: ['normal', 'low_power'], numbers: null });
      assert.deepEqual(parseAvailable('[1 1 100000]\n'), { kind: 'range', min: 1, step: 1, max: 100000 });
      assert.deepEqual(parseAvailable('[-0.5 0.25 0.5]'), { kind: 'range', min: -0.5, step: 0.25, max: 0.5 });
      assert.deepEqual(parseAvailable('\n'), { kind: 'list', values: [], numbers: [] });
      for (const bad of ['[1 2]', '[1 2 3', '[a b c]', '[1 2 3 4]']) expectCode(() => parseAvailable(bad), 'EINVAL', /range/);
    });

    it('formatValue writes what the kernel parses', () => {
      assert.equal(formatValue(true), '1');
      assert.equal(formatValue(false), '0');
      assert.equal(formatValue(1000), '1000');
      assert.equal(formatValue(-0.5), '-0.5');
      assert.equal(formatValue(0.805664), '0.805664');
      assert.equal(formatValue(1e-7), '0.0000001');
      assert.equal(formatValue(-1.25e-9), '-0.00000000125');
      assert.equal(formatValue(1.5e21), '1500000000000000000000');
      assert.equal(formatValue(1.2345e22), '12345000000000000000000');
      assert.equal(formatValue(12345678901234567890n), '12345678901234567890');
      assert.equal(formatValue('hrtimer-1'), 'hrtimer-1');
      assert.equal(formatValue(''), '\n', 'an empty write never reaches the driver');
      expectCode(() => formatValue(NaN), 'EINVAL');
      expectCode(() => formatValue(Infinity), 'EINVAL');
      expectCode(() => formatValue('a\0b'), 'EINVAL');
      expectCode(() => formatValue('x'.repeat(4097)), 'EINVAL');
      expectCode(() => formatValue(null as unknown as string), 'EINVAL');
      expectCode(() => formatValue({} as unknown as string), 'EINVAL');
    });
  });

  describe('AttributeDir on a temporary directory', () => {
    let dir: string;
    let attrs: AttributeDir;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iio-attr-'));
      fs.mkdirSync(path.join(dir, 'buffer0'));
      fs.writeFileSync(path.join(dir, 'name'), 'emu-adc\n');
      fs.writeFileSync(path.join(dir, 'in_voltage0_scale'), '0.805664\n');
      fs.writeFileSync(path.join(dir, 'in_voltage0_raw'), '-123\n');
      fs.writeFileSync(path.join(dir, 'buffer0', 'enable'), '0\n');
      fs.writeFileSync(path.join(dir, 'sampling_frequency_available'), '[1 1 1000]\n');
      fs.writeFileSync(path.join(dir, 'current_trigger'), '\n');
      attrs = new AttributeDir(dir, 'emu-adc');
    });

    afterEach(() => {
      for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) fs.chmodSync(path.join(dir, f), 0o700);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('reads typed values synchronously, without the trailing newline', () => {
      assert.equal(attrs.readStringSync('name'), 'emu-adc');
      assert.equal(attrs.readStringSync('current_trigger'), '');
      assert.equal(attrs.readFloatSync('in_voltage0_scale'), 0.805664);
      assert.equal(attrs.readIntSync('in_voltage0_raw'), -123);
      assert.equal(attrs.readBoolSync('buffer0/enable'), false);
      assert.deepEqual(attrs.readAvailableSync('sampling_frequency_available'), { kind: 'range', min: 1, step: 1, max: 1000 });
      assert.ok(attrs.existsSync('buffer0/enable'));
      assert.ok(!attrs.existsSync('buffer1/enable'));
    });

    it('writes synchronously and reads back', () => {
      attrs.writeSync('buffer0/enable', true);
      assert.equal(attrs.readStringSync('buffer0/enable'), '1');
      attrs.writeSync('in_voltage0_scale', 0.5);
      assert.equal(attrs.readFloatSync('in_voltage0_scale'), 0.5);
      attrs.writeSync('current_trigger', 'hrtimer-1');
      assert.equal(attrs.readStringSync('current_trigger'), 'hrtimer-1');
      attrs.writeSync('current_trigger', '');
      assert.equal(attrs.readStringSync('current_trigger'), '');
    });

    it('async reads and writes', async () => {
      assert.equal(await attrs.readString('name'), 'emu-adc');
      assert.equal(await attrs.readInt('in_voltage0_raw'), -123);
      assert.equal(await attrs.readFloat('in_voltage0_scale'), 0.805664);
      assert.equal(await attrs.readBool('buffer0/enable'), false);
      assert.equal((await attrs.readAvailable('sampling_frequency_available')).kind, 'range');
      await attrs.write('buffer0/enable', 1);
      assert.equal(await attrs.readBool('buffer0/enable'), true);
      await attrs.write('in_voltage0_raw', 77n);
      assert.equal(await attrs.readInt('in_voltage0_raw'), 77);
      assert.equal(await attrs.exists('name'), true);
      assert.equal(await attrs.exists('nope'), false);
    });

    it('a missing attribute is ENOENT with path, device and attribute; writes never create it', async () => {
      expectCode(() => attrs.readStringSync('missing'), 'ENOENT', /open on .*missing \(emu-adc\) failed: ENOENT/);
      expectCode(() => attrs.writeSync('missing', 1), 'ENOENT');
      assert.ok(!fs.existsSync(path.join(dir, 'missing')));
      const e = await expectCodeAsync(attrs.readString('missing'), 'ENOENT');
      assert.equal(e.path, path.join(dir, 'missing'));
      assert.equal(e.attribute, 'missing');
      assert.equal(e.device, 'emu-adc');
      assert.equal(e.errno, 2);
      await expectCodeAsync(attrs.write('missing', 1), 'ENOENT');
      assert.ok(!fs.existsSync(path.join(dir, 'missing')));
    });

    it('invalid names are rejected before touching the file system', async () => {
      fs.writeFileSync(path.join(path.dirname(dir), 'outside-' + path.basename(dir)), 'secret');
      try {
        expectCode(() => attrs.readStringSync(`../outside-${path.basename(dir)}`), 'EINVAL');
        expectCode(() => attrs.writeSync(`../outside-${path.basename(dir)}`, 'x'), 'EINVAL');
        await expectCodeAsync(attrs.readString('/etc/hostname'), 'EINVAL');
        await expectCodeAsync(attrs.write('a/../../x', 1), 'EINVAL');
      } finally {
        fs.rmSync(path.join(path.dirname(dir), 'outside-' + path.basename(dir)));
      }
    });

    it('unparseable content is EINVAL naming the attribute', async () => {
      fs.writeFileSync(path.join(dir, 'in_voltage0_raw'), 'garbage\n');
      expectCode(() => attrs.readIntSync('in_voltage0_raw'), 'EINVAL', /garbage.*in_voltage0_raw \(emu-adc\)/);
      const e = await expectCodeAsync(attrs.readFloat('in_voltage0_raw'), 'EINVAL');
      assert.equal(e.attribute, 'in_voltage0_raw');
    });

    it('a directory is EISDIR and bad values are rejected before writing', () => {
      expectCode(() => attrs.readStringSync('buffer0'), 'EISDIR');
      expectCode(() => attrs.writeSync('name', NaN), 'EINVAL');
      assert.equal(attrs.readStringSync('name'), 'emu-adc');
    });

    it('permission errors keep their code (skipped as root)', async function () {
      if (process.getuid?.() === 0) this.skip();
      fs.chmodSync(path.join(dir, 'name'), 0o444);
      expectCode(() => attrs.writeSync('name', 'x'), 'EACCES', /open on .*name \(emu-adc\) failed: EACCES/);
      await expectCodeAsync(attrs.write('name', 'x'), 'EACCES');
      fs.chmodSync(path.join(dir, 'in_voltage0_raw'), 0o200);
      const e = await expectCodeAsync(attrs.readString('in_voltage0_raw'), 'EACCES');
      assert.equal(e.syscall, 'open');
    });
  });
});
