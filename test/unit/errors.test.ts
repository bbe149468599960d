import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { IioError, errnoFromCode, errnoName, errnoText, fromNodeError, invalid, isIioError, toIioError } from '../../src/errors';

describe('errors', () => {
  describe('errno mapping', () => {
    it('maps numbers to Linux names, preferring the canonical alias', () => {
      assert.equal(errnoName(2), 'ENOENT');
      assert.equal(errnoName(-16), 'EBUSY');
      assert.equal(errnoName(11), 'EAGAIN');
      assert.equal(errnoName(95), 'EOPNOTSUPP');
      assert.equal(errnoName(25), 'ENOTTY');
      assert.equal(errnoName(125), 'ECANCELED');
      assert.equal(errnoName(99999), 'EUNKNOWN');
    });

    it('maps names to numbers, 0 for project codes that are not errnos', () => {
      assert.equal(errnoFromCode('EBUSY'), 16);
      assert.equal(errnoFromCode('ENODEV'), 19);
      assert.equal(errnoFromCode('ERANGE'), 34);
      assert.equal(errnoFromCode('NOT_AN_ERRNO'), 0);
      assert.equal(errnoFromCode('toString'), 0);
    });

    it('has strerror text for common codes and falls back to the code', () => {
      assert.equal(errnoText('EBUSY'), 'Device or resource busy');
      assert.equal(errnoText('ENOTTY'), 'Inappropriate ioctl for device');
      assert.equal(errnoText('EXYZ'), 'EXYZ');
    });
  });

  describe('IioError', () => {
    it('formats syscall failures with path, device and strerror', () => {
      const e = new IioError({ errno: 16, syscall: 'ioctl IIO_BUFFER_GET_FD', path: '/dev/iio:device1', device: 'emu-adc' });
      assert.equal(e.message, 'ioctl IIO_BUFFER_GET_FD on /dev/iio:device1 (emu-adc) failed: EBUSY (Device or resource busy)');
      assert.equal(e.code, 'EBUSY');
      assert.equal(e.errno, 16);
      assert.equal(e.syscall, 'ioctl IIO_BUFFER_GET_FD');
      assert.equal(e.path, '/dev/iio:device1');
      assert.equal(e.device, 'emu-adc');
      assert.equal(e.name, 'IioError');
      assert.ok(e instanceof Error);
    });

    it('uses the errno name when only errno is given, and keeps a negative errno positive', () => {
      const e = new IioError({ errno: -19, syscall: 'open' });
      assert.equal(e.code, 'ENODEV');
      assert.equal(e.errno, 19);
      assert.equal(e.message, 'open failed: ENODEV (No such device)');
    });

    it('validation errors have errno 0 and a detail', () => {
      const e = invalid('invalid scan type "x"', { attribute: 'in_voltage0_type', device: 'adc' });
      assert.equal(e.code, 'EINVAL');
      assert.equal(e.errno, 0);
      assert.equal(e.attribute, 'in_voltage0_type');
      assert.equal(e.message, 'invalid scan type "x" on in_voltage0_type (adc): EINVAL (Invalid argument)');
      assert.equal(invalid('too big', { code: 'ERANGE' }).code, 'ERANGE');
    });

    it('takes a verbatim message', () => {
      const e = new IioError({ code: 'ENOSYS', message: 'Linux IIO is not available' });
      assert.equal(e.message, 'Linux IIO is not available');
      assert.equal(e.code, 'ENOSYS');
    });

    it('isIioError checks the class and the code', () => {
      const e = invalid('x');
      assert.ok(isIioError(e));
      assert.ok(isIioError(e, 'EINVAL'));
      assert.ok(!isIioError(e, 'EBUSY'));
      assert.ok(!isIioError(new Error('x')));
    });
  });

  describe('fromNodeError', () => {
    it('wraps an fs error keeping code, errno, syscall and path', () => {
      let caught: NodeJS.ErrnoException | undefined;
      try {
        fs.readFileSync('/nonexistent/iio/attr');
      } catch (err) {
        caught = err as NodeJS.ErrnoException;
      }
      assert.ok(caught);
      const e = fromNodeError(caught, { device: 'emu-adc', attribute: 'attr' });
      assert.equal(e.code, 'ENOENT');
      assert.equal(e.errno, 2);
      assert.equal(e.syscall, 'open');
      assert.equal(e.path, '/nonexistent/iio/attr');
      assert.equal(e.attribute, 'attr');
      assert.equal(e.message, 'open on /nonexistent/iio/attr (emu-adc) failed: ENOENT (No such file or directory)');
      assert.equal(e.cause, caught);
    });

    it('context overrides the error own syscall and path; IioErrors pass through', () => {
      const err = Object.assign(new Error('x'), { code: 'EACCES', errno: -13, syscall: 'open', path: '/a' });
      const e = fromNodeError(err, { syscall: 'write', path: '/b' });
      assert.equal(e.syscall, 'write');
      assert.equal(e.path, '/b');
      assert.equal(e.errno, 13);
      const same = invalid('y');
      assert.equal(fromNodeError(same as unknown as NodeJS.ErrnoException), same);
    });

    it('keeps the message of errors that carry no errno', () => {
      const e = fromNodeError(Object.assign(new Error('short write: 1 of 2 bytes'), { code: 'EIO' }), { syscall: 'write' });
      assert.equal(e.code, 'EIO');
      assert.equal(e.errno, 5);
      assert.match(e.message, /short write/);
    });
  });

  describe('toIioError, the one normaliser', () => {
    it('keeps an IioError as it is', () => {
      const e = new IioError({ code: 'EBUSY' });
      assert.equal(toIioError(e, 'dev'), e);
    });
    it('keeps the errno of an fs error and names the device', () => {
      const e = toIioError(Object.assign(new Error('x'), { code: 'EACCES', errno: -13, syscall: 'open', path: '/p' }), 'adc');
      assert.deepEqual([e.code, e.errno, e.syscall, e.path, e.device], ['EACCES', 13, 'open', '/p', 'adc']);
    });
    it('calls TypeError and RangeError bad input (EINVAL), anything else EIO, never throwing on odd values', () => {
      assert.equal(toIioError(new TypeError('bad')).code, 'EINVAL');
      assert.equal(toIioError(new RangeError('bad')).code, 'EINVAL');
      const e = toIioError(new Error('boom'), 'adc');
      assert.deepEqual([e.code, e.device], ['EIO', 'adc']);
      assert.match(e.message, /boom/);
      assert.match(toIioError(10n).message, /10n/);
      assert.equal(toIioError(Object.assign(new Error('odd'), { code: 'ERR_SOMETHING' })).code, 'EIO');
    });
  });
});
