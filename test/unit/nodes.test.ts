// The nodes' pure logic, and the nodes in a Node-RED runtime on a fake sysfs tree
// ($IIO_SYSFS_ROOT): what needs no kernel.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sysfsRoot, nodeContext } from '../../nodes/lib/common';
import { enableValue } from '../../nodes/iio-event';
import { IioError } from '../../src/errors';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

const root = path.join(__dirname, '../../..');
type Msg = Record<string, any>;

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}

async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('nodes: IIO_SYSFS_ROOT', () => {
  it('is the sysfs root when set and non-empty, else the kernel\'s', () => {
    assert.equal(sysfsRoot({ IIO_SYSFS_ROOT: '/tmp/fake-iio' }), '/tmp/fake-iio');
    assert.equal(sysfsRoot({ IIO_SYSFS_ROOT: '' }), '/sys/bus/iio/devices');
    assert.equal(sysfsRoot({}), '/sys/bus/iio/devices');
    const saved = process.env.IIO_SYSFS_ROOT;
    process.env.IIO_SYSFS_ROOT = '/tmp/fake-iio';
    try {
      assert.equal(nodeContext().root, '/tmp/fake-iio');
    } finally {
      if (saved === undefined) delete process.env.IIO_SYSFS_ROOT;
      else process.env.IIO_SYSFS_ROOT = saved;
    }
  });
});

describe('iio-event: msg.payload.enable', () => {
  it('reads booleans as the kernel does, and rejects anything else with EINVAL', () => {
    assert.deepEqual([true, 1, '1', 'on', 'ON', 'true', 'y', 'yes', ' on '].map(enableValue), Array(9).fill(true));
    assert.deepEqual([false, 0, '0', 'off', 'false', 'n', 'no'].map(enableValue), Array(7).fill(false));
    for (const bad of ['maybe', '', 2, -1, null, {}, [1]]) {
      assert.throws(() => enableValue(bad), (e: IioError) => e instanceof IioError && e.code === 'EINVAL' && /msg\.payload\.enable/.test(e.message), String(bad));
    }
  });
});

describe('nodes on a fake sysfs tree', function () {
  this.timeout(20000);
  let tree: string;
  let saved: string | undefined;

  before((done) => {
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'iio-nodes-'));
    const dev = path.join(tree, 'iio:device0');
    fs.mkdirSync(dev);
    const files: Record<string, string> = {
      name: 'fake-adc\n',
      label: 'fake-main\n',
      in_voltage0_raw: '\n', // a driver that answers nothing
      in_voltage0_scale: '0.5\n',
      in_voltage0_offset: '2\n',
      in_voltage1_raw: '10\n',
      in_voltage1_scale: '0.5\n',
      in_voltage1_offset: '2\n',
    };
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dev, f), text);
    saved = process.env.IIO_SYSFS_ROOT;
    process.env.IIO_SYSFS_ROOT = tree;
    helper.startServer(done);
  });
  after((done) => {
    if (saved === undefined) delete process.env.IIO_SYSFS_ROOT;
    else process.env.IIO_SYSFS_ROOT = saved;
    fs.rmSync(tree, { recursive: true, force: true });
    helper.stopServer(done);
  });
  afterEach(() => helper.unload());

  const nodes = () => [
    ...['iio-device', 'iio-attr', 'iio-dmabuf-out'].map((n) => require(path.join(root, 'dist/nodes', n)).default),
    require(path.join(root, 'node_modules/@node-red/nodes/core/common/25-catch')),
  ];

  it('iio-attr scaled: (raw + offset) × scale; an empty raw value is EINVAL naming the attribute, not 0', async () => {
    await helper.load(nodes(), [
      { id: 'dev', type: 'iio-device', deviceName: 'fake-adc' },
      { id: 'n-empty', type: 'iio-attr', device: 'dev', target: 'channel', channel: 'voltage0', attribute: 'raw', scaled: true, wires: [['out']] },
      { id: 'n-ok', type: 'iio-attr', device: 'dev', target: 'channel', channel: 'voltage1', attribute: 'raw', scaled: true, wires: [['out']] },
      { id: 'c', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', type: 'helper' },
      { id: 'caught', type: 'helper' },
    ]);
    const got = collect('out');
    const caught = collect('caught');
    helper.getNode('n-ok').receive({});
    await waitFor(() => got.length === 1, 'the scaled value');
    assert.equal(got[0].payload, 6);
    assert.equal(got[0].topic, 'fake-main/in_voltage1_raw');
    helper.getNode('n-empty').receive({});
    await waitFor(() => caught.length === 1 || got.length === 2, 'the empty value\'s outcome');
    assert.equal(got.length, 1, `an empty value was sent as ${JSON.stringify(got[1]?.payload)}`);
    assert.equal(caught[0].error.code, 'EINVAL');
    assert.match(caught[0].error.message, /in_voltage0_raw/);
    assert.match(caught[0].error.message, /cannot parse "" as a number/);
  });

  it('iio-dmabuf-out with Blocks = 1 is not started: its input fails with EINVAL at Catch', async () => {
    await helper.load(nodes(), [
      { id: 'dev', type: 'iio-device', deviceName: 'fake-adc' },
      { id: 'n-out', type: 'iio-dmabuf-out', device: 'dev', blocks: 1 },
      { id: 'c', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    const caught = collect('caught');
    helper.getNode('n-out').receive({ payload: [1, 2] });
    await waitFor(() => caught.length === 1, 'the input error');
    assert.equal(caught[0].error.code, 'EINVAL');
    assert.match(caught[0].error.message, /Blocks must be a whole number from 2 to 64, not 1/);
  });
});

describe('DMABUF allocation errors', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DmabufAllocationError, fallsBackToReadWrite } = require('../../src/dmabuf');
  const fail = (code: string, errno: number, path: string) => new IioError({ code, errno, syscall: 'open', path });
  const allocation = (...f: IioError[]) => new DmabufAllocationError(f, 4096, '/dev/dma_heap/system');

  it('carry the most telling failure: a real one beats no permission beats no allocator; ties keep the first', () => {
    const nomem = allocation(fail('ENOMEM', 12, '/dev/dma_heap/system'), fail('ENOENT', 2, '/dev/udmabuf'));
    assert.deepEqual([nomem.code, nomem.errno, nomem.path, (nomem.cause as IioError).code], ['ENOMEM', 12, '/dev/dma_heap/system', 'ENOMEM']);
    assert.equal(allocation(fail('ENOENT', 2, 'h'), fail('EACCES', 13, 'u')).code, 'EACCES');
    assert.equal(allocation(fail('ENOENT', 2, 'h'), fail('ENOTTY', 25, 'u')).code, 'ENOENT');
    assert.equal(allocation(fail('EACCES', 13, 'h'), fail('EMFILE', 24, 'u')).code, 'EMFILE');
  });

  it('auto falls back for no support, no allocator or no permission; not for a shortage', () => {
    assert.equal(fallsBackToReadWrite(new IioError({ code: 'EPERM', errno: 1 })), true); // ATTACH on kfifo
    assert.equal(fallsBackToReadWrite(new IioError({ code: 'ENOTTY', errno: 25 })), true); // kernel before 6.11
    assert.equal(fallsBackToReadWrite(allocation(fail('ENOENT', 2, 'h'), fail('EACCES', 13, 'u'))), true);
    assert.equal(fallsBackToReadWrite(allocation(fail('ENOMEM', 12, 'h'), fail('ENOENT', 2, 'u'))), false);
    assert.equal(fallsBackToReadWrite(allocation(fail('EMFILE', 24, 'h'), fail('EMFILE', 24, 'u'))), false);
    assert.equal(fallsBackToReadWrite(new IioError({ code: 'ENOENT', errno: 2 })), false); // not an allocation failure
  });
});

describe('iio-dmabuf-out: payload encoding is bounded by what the node can take', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { encodePayload } = require('../../src/scan') as typeof import('../../src/scan');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { computeLayout, parseScanType } = require('../../src/scan') as typeof import('../../src/scan');
  const layout = computeLayout([
    { name: 'voltage0', index: 0, type: parseScanType('le:s16/16>>0') },
    { name: 'voltage1', index: 1, type: parseScanType('le:s16/16>>0') },
  ]);

  it('encodes only the first maxScans scans of per-channel arrays and says how many there were', () => {
    const n = 1_000_000;
    const { data, total } = encodePayload(layout, { voltage0: new Int16Array(n).fill(7), voltage1: new Int16Array(n).fill(-2) }, 3);
    assert.equal(total, n);
    assert.deepEqual([...data], [7, 0, 0xfe, 0xff, 7, 0, 0xfe, 0xff, 7, 0, 0xfe, 0xff]);
  });

  it('a Buffer payload is sliced, not copied; nothing room means nothing encoded', () => {
    const buf = Buffer.alloc(4 * 10);
    const { data, total } = encodePayload(layout, buf, 4);
    assert.equal(total, 10);
    assert.equal(data.length, 16);
    assert.equal(data.buffer, buf.buffer);
    assert.equal(encodePayload(layout, { voltage0: [1, 2], voltage1: [3, 4] }, 0).data.length, 0);
  });
});
