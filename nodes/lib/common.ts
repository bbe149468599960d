// What every IIO node does alike: find its iio-device config node, report errors to Catch nodes
// with a short status, and describe its device in messages.
import { IioError } from '../../src/errors';
import { IioContext, SYSFS_IIO } from '../../src/context';
import type { DeviceInfo } from '../../src/context';
import type { IioDeviceNode } from '../iio-device';
import type { Node, NodeAPI, NodeMessage } from './red';

/** The sysfs root the nodes scan: $IIO_SYSFS_ROOT when set (a test tree, a chroot), else the kernel's. */
export function sysfsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.IIO_SYSFS_ROOT || SYSFS_IIO;
}

/** A discovery context on sysfsRoot(). */
export function nodeContext(): IioContext {
  return new IioContext(sysfsRoot());
}

export function deviceNode(RED: NodeAPI, id: unknown): IioDeviceNode | null {
  if (typeof id !== 'string' || id === '') return null;
  const n = RED.nodes.getNode(id) as IioDeviceNode | null;
  return n && typeof n.resolve === 'function' ? n : null;
}

export function asError(err: unknown): IioError {
  if (err instanceof IioError) return err;
  return new IioError({ code: 'EIO', detail: err instanceof Error ? err.message : String(err), cause: err });
}

/** Sends `err` to Catch nodes (with `msg`, or a message naming the node) and shows it in the status. */
export function reportError(node: Node, err: unknown, msg?: NodeMessage): void {
  const e = asError(err);
  node.status({ fill: 'red', shape: 'ring', text: shortStatus(e) });
  // Catch nodes get msg.error = {message, code, source}: the message names syscall, path and device.
  node.error(e, msg ?? {});
}

export function shortStatus(e: IioError): string {
  return e.code === 'ENODEV' || e.code === 'ENOENT' ? `${e.code}: not found` : e.code;
}

export function deviceRef(d: DeviceInfo): { name: string; label: string | null; id: string } {
  return { name: d.name, label: d.label ?? null, id: d.id };
}

/** A positive integer from config, or the fallback. */
export function intConfig(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}
