// The local backend's file operations on a temporary directory: the rules the contract states
// (no O_CREAT, errors as Node's fs gives them, entry kinds), on the host.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localBackend as k, kernel, useBackend } from '../../src/local-backend';
import { FakeBackend } from '../lib/fake-backend';

describe('local backend: files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iio-local-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads and writes whole files; a write never creates one (ENOENT, syscall open)', async () => {
    const f = path.join(dir, 'enable');
    fs.writeFileSync(f, '0\n');
    k.writeText(f, '1');
    assert.equal(k.readText(f), '1');
    await k.writeTextAsync(f, '22');
    assert.equal(await k.readTextAsync(f), '22');
    assert.deepEqual([...k.readBytes(f)], [0x32, 0x32]);
    const missing = path.join(dir, 'nope');
    assert.throws(() => k.writeText(missing, '1'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'open');
    await assert.rejects(k.writeTextAsync(missing, '1'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.equal(fs.existsSync(missing), false);
  });

  it('lists entries with their own kind (a symlink is a link), resolves real paths, and makes and removes directories', async () => {
    fs.writeFileSync(path.join(dir, 'a'), '');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.symlinkSync(path.join(dir, 'sub'), path.join(dir, 'ln'));
    assert.deepEqual(k.list(dir).sort((x, y) => x.name.localeCompare(y.name)), [{ name: 'a', kind: 'file' }, { name: 'ln', kind: 'link' }, { name: 'sub', kind: 'dir' }]);
    assert.equal(k.realpath(path.join(dir, 'ln')), fs.realpathSync(path.join(dir, 'sub')));
    assert.equal(k.exists(path.join(dir, 'ln')), true);
    assert.equal(await k.existsAsync(path.join(dir, 'none')), false);
    k.mkdir(path.join(dir, 'new'));
    assert.throws(() => k.mkdir(path.join(dir, 'new')), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
    k.rmdir(path.join(dir, 'new'));
    assert.throws(() => k.list(path.join(dir, 'new')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });

  it('useBackend swaps the core\'s backend and puts the previous one back', () => {
    assert.equal(kernel(), k);
    const fake = new FakeBackend();
    const restore = useBackend(fake);
    assert.equal(kernel(), fake);
    restore();
    assert.equal(kernel(), k);
  });
});
