// Loading our nodes into a real Node-RED runtime (node-red-node-test-helper) for the hardware
// suite, and watching what they send and show.
import * as path from 'path';
import { nodeRedEntry, coreNode } from './node-red-runtime';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper');
helper.init(nodeRedEntry());

const root = path.join(__dirname, '../../..');
const ours = ['iio-device', 'iio-in', 'iio-trigger', 'iio-event', 'iio-attr', 'iio-dmabuf-out'].map((n) => require(path.join(root, 'dist/nodes', n)).default);
const core = ['common/20-inject', 'common/21-debug', 'common/25-catch', 'common/90-comment', 'function/15-change', 'function/10-function', 'function/10-switch'].map(coreNode);
/** Our six node types and the core nodes the tests wire them to. */
export const allNodes = [...ours, ...core];

export type Msg = Record<string, any>;

/** Collects what a helper node receives. */
export function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}

/** Records every status a node shows from now on. */
export function statusesOf(id: string): Msg[] {
  const node = helper.getNode(id);
  const statuses: Msg[] = [];
  const original = node.status.bind(node);
  node.status = (st: Msg) => {
    statuses.push(st);
    original(st);
  };
  return statuses;
}

/** A Catch node for every error and the helper node that collects what it catches. */
export const CATCH_ALL = [
  { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-caught']] },
  { id: 'n-caught', type: 'helper' },
];
