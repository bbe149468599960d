// A real Node-RED runtime (node-red-node-test-helper) with our nodes, instrumented at the Node
// prototype: the last status of every node, every node.error() and every done(), recorded from
// the node's constructor on (before a test could wrap the instance).
import * as path from 'path';
import { SEED } from './seed';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'), { logging: { console: { level: 'off' } } });

export type Msg = Record<string, any>;

export const root = path.join(__dirname, '../../../..');
const ours = ['iio-device', 'iio-in', 'iio-trigger', 'iio-event', 'iio-attr', 'iio-dmabuf-out'].map((n) => require(path.join(root, 'dist/nodes', n)).default);
const core = ['common/25-catch', 'common/25-status'].map((f) => require(path.join(root, 'node_modules/@node-red/nodes/core', f)));
export const allNodes = [...ours, ...core];

export interface ErrorRecord {
  id: string;
  err: unknown;
  msg: Msg | undefined;
  /** It came through done(err), not node.error() on its own. */
  viaDone: boolean;
}

export const status = new Map<string, { fill?: string; text?: string }>();
export const errors: ErrorRecord[] = [];
/** Messages whose done() (or a sync throw Node-RED caught) has been seen. */
export const finished = new WeakSet<object>();
export let completions = 0;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const proto = require(path.join(root, 'node_modules/@node-red/runtime/lib/nodes/Node.js')).prototype;
{
  const origStatus = proto.status;
  const origError = proto.error;
  const origComplete = proto._complete;
  let inDone = false;
  proto.status = function (this: Msg, st: Msg) {
    status.set(this.id, { fill: st?.fill, text: st?.text });
    return origStatus.call(this, st);
  };
  proto.error = function (this: Msg, err: unknown, msg?: Msg) {
    errors.push({ id: this.id, err, msg, viaDone: inDone });
    // A synchronous throw in an input handler lands here with the message: it is finished too.
    if (msg && typeof msg === 'object') finished.add(msg);
    return origError.call(this, err, msg);
  };
  proto._complete = function (this: Msg, msg: Msg, err: unknown) {
    completions++;
    if (msg && typeof msg === 'object') finished.add(msg);
    inDone = err !== undefined && err !== null;
    try {
      return origComplete.call(this, msg, err);
    } finally {
      inDone = false;
    }
  };
}

export const statusText = (id: string) => status.get(id)?.text ?? '';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check()` holds; false after `ms` (the caller decides what that means). */
export async function eventually(check: () => boolean, ms: number, every = 20): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(every);
  }
  return true;
}

/** An errno-style code: what every error reaching done(err) must carry. */
export function codeOf(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : null;
}

export function describeErr(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}(${String((err as { code?: unknown }).code)}): ${err.message.slice(0, 200)}`;
  return `non-Error ${typeof err}: ${String(err).slice(0, 200)}`;
}

/** Deploys `flow` as a fresh runtime (full deploy), forgetting the statuses of the last one. */
export async function load(flow: Msg[]): Promise<void> {
  status.clear();
  await helper.load(allNodes, flow);
}

/**
 * A partial deploy of the running runtime ('nodes': only added, changed or removed nodes are
 * started or stopped), as the editor's "Modified nodes" deploy does.
 */
export async function deployNodes(flow: Msg[]): Promise<void> {
  const started = new Promise<void>((resolve) => {
    const on = () => {
      helper._events.off('flows:started', on);
      resolve();
    };
    helper._events.on('flows:started', on);
  });
  await helper._redNodes.setFlows(flow, {}, 'nodes');
  await started;
}

export function unload(): Promise<void> {
  return helper.unload();
}

export function seedNote(): string {
  return `IIO_SEED=${SEED}`;
}

/** Gathers the messages a helper node receives (the helper's spies keep them anyway). */
export function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}
