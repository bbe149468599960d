// What every IIO node does alike: find its iio-device config node, report errors to Catch nodes
// with a short status, and describe its device in messages.
import { IioError, describeValue, toIioError } from '../../src/errors';
import { IioContext, SYSFS_IIO } from '../../src/context';
import type { DeviceInfo } from '../../src/context';
import type { IioDeviceNode } from '../iio-device';
import type { Node, NodeAPI, NodeMessage } from './red';
import { t } from './i18n';

/** The sysfs root the nodes scan: $IIO_SYSFS_ROOT when set (a test tree, a chroot), else the kernel's. */
export function sysfsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.IIO_SYSFS_ROOT || SYSFS_IIO;
}

const contexts = new Map<string, IioContext>();

/** The runtime's one discovery context on sysfsRoot(), shared by every node type. */
export function nodeContext(): IioContext {
  const root = sysfsRoot();
  let c = contexts.get(root);
  if (!c) contexts.set(root, (c = new IioContext(root)));
  return c;
}

export function deviceNode(RED: NodeAPI, id: unknown): IioDeviceNode | null {
  if (typeof id !== 'string' || id === '') return null;
  const n = RED.nodes.getNode(id) as IioDeviceNode | null;
  return n && typeof n.resolve === 'function' ? n : null;
}

/** The core's one error normaliser, under the name the nodes use. */
export const asError = (err: unknown): IioError => toIioError(err);

export { describeValue };

/** Sends `err` to Catch nodes (with `msg`, or a message naming the node) and shows it in the status. */
export function reportError(node: Node, err: unknown, msg?: NodeMessage): void {
  const e = asError(err);
  node.status({ fill: 'red', shape: 'ring', text: shortStatus(e) });
  // Catch nodes get msg.error = {message, code, source}: the message names syscall, path and device.
  node.error(e, msg ?? {});
}

/** Codes with their own words in the catalog (iio-device.status.code.*); others say "error". */
const WORDED = ['ENOENT', 'ENODEV', 'EBUSY', 'EACCES', 'EPERM', 'EINVAL', 'ENOMEM', 'EMFILE', 'EPIPE', 'ECANCELED', 'EIO', 'ETIMEDOUT', 'ENOTTY'];

/** A status a user understands, with the code to search for: "in use elsewhere (EBUSY)". The full message goes to the log and Catch. */
export function shortStatus(e: IioError): string {
  // src/buffer.ts words the usual cause of an EINVAL on enable this way.
  const what = e.code === 'EINVAL' && /no trigger is attached/.test(e.message) ? 'needsTrigger' : WORDED.includes(e.code) ? e.code : 'other';
  return t('iio-device', 'status.problem', { what: t('iio-device', `status.code.${what}`), code: e.code });
}

export function deviceRef(d: DeviceInfo): { name: string; label: string | null; id: string } {
  return { name: d.name, label: d.label ?? null, id: d.id };
}

/** A positive integer from config, or the fallback. */
export function intConfig(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

/**
 * Runs a node's start/stop operations one after another, in the order asked: a "start" sent right
 * after a "stop" waits until the stop has released the buffer instead of racing it into EBUSY.
 */
export class OpQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(op);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/**
 * A config or message field as trimmed text: strings, numbers, booleans and bigints; '' for
 * undefined and null. Anything else (objects, symbols) is EINVAL naming `what`: String() on them
 * can throw, or yield "[object Object]".
 */
export function textOf(v: unknown, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new IioError({ code: 'EINVAL', detail: `${what} must be text or a number, not ${describeValue(v)}` });
}

/** Config text from the editor; a value no editor produces counts as empty (the node then says what is missing). */
export function configText(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v).trim() : '';
}
