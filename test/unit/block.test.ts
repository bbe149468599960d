import { strict as assert } from 'node:assert';
import { blockChardevFor, isBlockUnsupported, BlockApiUnsupportedError } from '../../src/block';
import { IioError } from '../../src/errors';

describe('block API helpers', () => {
  it('IIO_BLOCK_CHARDEV: name or label, optionally one buffer, /dev paths only', () => {
    const adc = { name: 'emu-adc', label: 'adc-main' };
    const env = 'emu-adc/buffer1=/dev/emu-adc-blocks, adc-main=/dev/x,emu-dac=/dev/emu-dac-blocks,bad,emu-mux=/tmp/no';
    assert.equal(blockChardevFor(adc, 1, env), '/dev/emu-adc-blocks');
    assert.equal(blockChardevFor(adc, 0, env), '/dev/x', 'the label key has no buffer: every buffer');
    assert.equal(blockChardevFor({ name: 'emu-dac' }, 3, env), '/dev/emu-dac-blocks');
    assert.equal(blockChardevFor({ name: 'emu-mux' }, 0, env), undefined, 'not under /dev');
    assert.equal(blockChardevFor({ name: 'emu-thermo' }, 0, env), undefined);
    assert.equal(blockChardevFor(adc, 1, ''), undefined);
    assert.equal(blockChardevFor(adc, 1, undefined), undefined);
  });

  it('what counts as "no block API here"', () => {
    const einval = new IioError({ code: 'EINVAL', errno: 22, syscall: 'ioctl' });
    assert.equal(isBlockUnsupported(einval), false, 'a plain EINVAL is a real error');
    const probe = new BlockApiUnsupportedError(einval, { path: '/dev/iio:device1', device: 'emu-adc' });
    assert.equal(isBlockUnsupported(probe), true);
    assert.equal(probe.code, 'EINVAL');
    assert.match(probe.message, /IIO_BUFFER_BLOCK_FREE_IOCTL/);
    assert.equal(isBlockUnsupported(new IioError({ code: 'ENOTTY' })), true);
    assert.equal(isBlockUnsupported(new IioError({ code: 'ENOMEM' })), false);
    assert.equal(isBlockUnsupported(new Error('x')), false);
  });
});
