// Which Node-RED the node tests load: the project's own (node_modules, Node-RED 4.1) or the one
// in $IIO_NODE_RED_MODULES (a node_modules directory; harness/node-red5.sh puts Node-RED 5 there
// and runs the node tests under Node 22).
import * as path from 'path';

const root = path.join(__dirname, '../../..');

/** The node_modules directory holding node-red and @node-red/nodes. */
export const NODE_RED_MODULES = process.env.IIO_NODE_RED_MODULES || path.join(root, 'node_modules');

/** What node-red-node-test-helper's init() takes: the node-red module's entry point. */
export function nodeRedEntry(): string {
  return require.resolve('node-red', { paths: [NODE_RED_MODULES] });
}

/** A core node file (e.g. common/20-inject) of that Node-RED. */
export function coreNode(file: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(NODE_RED_MODULES, '@node-red/nodes/core', file));
}
