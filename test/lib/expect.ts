// Assertions the host tests share.
import { strict as assert } from 'node:assert';
import { IioError } from '../../src/errors';

/** `fn` throws an IioError with `code` (and a message matching `text`). */
export function expectCode(fn: () => unknown, code: string, text?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IioError, `expected IioError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (text) assert.match(e.message, text);
    return true;
  });
}
