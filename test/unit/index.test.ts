import { strict as assert } from 'assert';
import * as path from 'path';

describe('package entry point', () => {
  it('package.json main loads and exports the core API', () => {
    const root = path.join(__dirname, '../../..');
    const pkg = require(path.join(root, 'package.json'));
    const core = require(path.join(root, pkg.main));
    for (const name of ['IioContext', 'AttributeDir', 'ScanDecoder', 'CaptureStream', 'OutputStream', 'DmabufCapture', 'DmabufOutput', 'openInput', 'openOutput', 'useBackend', 'EventStream', 'createHrtimerTrigger', 'IioError', 'reactor', 'Device', 'DeviceBuffer', 'DeviceEvent', 'Channel', 'Trigger', 'localAccess', 'DeviceHandle']) {
      assert.ok(core[name], `${name} is exported`);
    }
  });
});
