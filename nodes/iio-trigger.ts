// iio-trigger: creates (or adopts) an hrtimer or sysfs trigger on deploy and removes it on close
// only if this runtime created it, and never while a device still names it. With a device set, it
// also attaches the trigger to that device; a device on a board (iiod) can only adopt the board's
// existing triggers. Input fires a sysfs trigger or changes the frequency.
import type { Device } from '../src/device';
import type { Trigger } from '../src/trigger';
import { IioError, describeValue, isIioError } from '../src/errors';
import { createHrtimerTrigger, removeHrtimerTrigger, createSysfsTrigger, removeSysfsTrigger, validateTriggerName } from '../src/trigger';
import { asError, reportError, intConfig, nodeContext, deviceNode, OpQueue } from './lib/common';
import { attachTrigger, detachTrigger } from './lib/attach-trigger';
import type { DeviceUser, IioDeviceNode } from './iio-device';
import { t, useCatalogs } from './lib/i18n';
import type { Node, NodeAPI, NodeDef } from './lib/red';

/** Most fires one message may ask for. */
const MAX_FIRES = 1000;
/** Fires per event-loop turn: the loop stays responsive during a long series. */
const FIRES_PER_TURN = 10;
/** How long close waits for running devices to let go of the trigger before leaving it to the reaper. */
const CLOSE_WAIT_MS = 3000;
/** How often a trigger left in use is checked for being free to remove. */
const REAP_INTERVAL_MS = 1000;

/** "adc-trigger 100 Hz", "sysfstrig1 (existing)". */
function statusText(name: string, hz: number, ours: boolean): string {
  const text = hz > 0 ? t('iio-trigger', 'status.readyHz', { name, hz }) : t('iio-trigger', 'status.ready', { name });
  return ours ? text : t('iio-trigger', 'status.existing', { text });
}

/** Fires `trigger` `times` times (or until `stop()`), yielding to the event loop every few fires. */
async function fireSeries(trigger: Trigger, times: number, remote: boolean, stop: () => boolean): Promise<void> {
  for (let i = 0; i < times && !stop(); i++) {
    if (remote) await trigger.fireAsync();
    else trigger.fire();
    if ((i + 1) % FIRES_PER_TURN === 0) await new Promise((r) => setImmediate(r));
  }
}

/** The fire count a message asks for, or EINVAL. */
function fireCount(payload: unknown): number {
  const times = typeof payload === 'number' ? payload : 1;
  if (!Number.isInteger(times) || times < 1 || times > MAX_FIRES) {
    throw new IioError({ code: 'EINVAL', detail: `fire count must be an integer from 1 to ${MAX_FIRES}, not ${describeValue(payload)}` });
  }
  return times;
}

/** The frequency a message asks for (undefined: none), or EINVAL. */
function requestedFrequency(msg: { frequency?: unknown; payload?: unknown }, kind: string): number | undefined {
  const hz = msg.frequency ?? (kind === 'hrtimer' && typeof msg.payload === 'number' ? msg.payload : undefined);
  if (hz === undefined) return undefined;
  if (kind !== 'hrtimer') throw new IioError({ code: 'EINVAL', detail: `a sysfs trigger has no frequency; msg.frequency applies to hrtimer triggers` });
  if (typeof hz !== 'number' && typeof hz !== 'string') throw new IioError({ code: 'EINVAL', detail: `msg.frequency must be a number of Hz, not ${describeValue(hz)}` });
  return Number(hz);
}

export default function (RED: NodeAPI) {
  useCatalogs(RED);
  const context = nodeContext();

  /**
   * Triggers this runtime created, by name, with how to remove them. They outlive a node that is
   * redeployed: the next iio-trigger of the same name adopts them as its own.
   */
  const owned = new Map<string, { remove: () => void; reaper: NodeJS.Timeout | null }>();

  /** The devices that still name `name` as their trigger. */
  const namedBy = (name: string) => context.devices().filter((d) => d.triggerable && currentTriggerOf(d) === name);

  /**
   * Removes an owned trigger once no device names it. Devices that name it with no buffer running
   * are detached first (harmless, and removing a trigger a device names would crash the kernel
   * the next time that device enables a buffer). Returns true when removed.
   */
  function removeIfFree(name: string): boolean {
    const entry = owned.get(name);
    if (!entry) return true;
    for (const d of namedBy(name)) {
      if (d.anyBufferEnabled()) continue;
      try {
        d.writeCurrentTrigger('');
      } catch {
        /* busy or gone: checked again below */
      }
    }
    if (namedBy(name).length > 0) return false;
    owned.delete(name);
    if (entry.reaper) clearInterval(entry.reaper);
    try {
      entry.remove();
    } catch (err) {
      RED.log.warn(`iio-trigger: could not remove ${name}: ${asError(err).message}`);
    }
    return true;
  }

  function IioTrigger(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kind = def.kind === 'sysfs' ? 'sysfs' : 'hrtimer';
    const sysfsId = intConfig(def.sysfsId, 0);
    const name = kind === 'sysfs' ? `sysfstrig${sysfsId}` : String(def.triggerName ?? '').trim();
    const frequency = Number(def.frequency) || 0;
    const dev = deviceNode(RED, def.device);
    if (dev && dev.uri !== 'local:') return remoteTrigger(node, dev, kind, name, frequency);
    let trigger: Trigger | null = null;
    let ours = false;
    let closed = false;
    /** The trigger as this node attached it to its device (null: not attached by us). */
    let attached: string | null = null;
    const ops = new OpQueue();

    try {
      if (kind === 'hrtimer') validateTriggerName(name);
      trigger = context.findTrigger(name) ?? null;
      const leftover = owned.get(name);
      if (trigger && leftover) {
        // Ours from the previous deploy, still in use then: take it back.
        if (leftover.reaper) clearInterval(leftover.reaper);
        leftover.reaper = null;
        ours = true;
      } else if (!trigger) {
        owned.delete(name);
        trigger = kind === 'hrtimer' ? createHrtimerTrigger(name, context) : createSysfsTrigger(sysfsId, context);
        owned.set(name, { remove: kind === 'hrtimer' ? () => removeHrtimerTrigger(name) : () => removeSysfsTrigger(sysfsId, context), reaper: null });
        ours = true;
      }
      if (kind === 'hrtimer' && frequency > 0) trigger.writeFrequency(frequency);
      node.status({ fill: 'green', shape: 'dot', text: statusText(name, kind === 'hrtimer' ? frequency : 0, ours) });
    } catch (err) {
      reportError(node, err);
    }

    /** Attaches the trigger to the node's device, when it has one and it is present. */
    const attach = (d: Device) =>
      ops.run(async () => {
        if (!trigger || closed) return;
        attached = (await attachTrigger(context, d, name, () => !closed)) ?? attached;
      });
    const user: DeviceUser = {
      status: (st) => node.status(st),
      deviceConnected: (d) => {
        attach(d).then(() => trigger && node.status({ fill: 'green', shape: 'dot', text: statusText(name, kind === 'hrtimer' ? frequency : 0, ours) }), (err) => reportError(node, err));
      },
      deviceDisconnected: () => {
        attached = null; // it went with the device
      },
    };
    if (dev) {
      dev.register(user);
      let d: Device | null = null;
      try {
        d = dev.device();
      } catch {
        /* absent for now: the device node connects it when it appears */
      }
      if (d) attach(d).catch((err) => reportError(node, err));
    }

    node.on('input', (msg, _send, done) => {
      try {
        if (!trigger) throw new IioError({ code: 'ENOENT', errno: 2, detail: `trigger "${name}" was not created (see the earlier error)` });
        const hz = requestedFrequency(msg, kind);
        if (hz !== undefined) {
          trigger.writeFrequency(hz);
          node.status({ fill: 'green', shape: 'dot', text: statusText(name, hz, ours) });
          done();
        } else if (kind === 'sysfs') {
          fireSeries(trigger, fireCount(msg.payload), false, () => closed).then(() => done(), (err) => done(asError(err)));
        } else {
          done();
        }
      } catch (err) {
        done(asError(err));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      // A trigger we only adopted stays, but not attached where we attached it.
      const detached = ops.run(() => (dev && !ours ? detachTrigger(() => dev.current(), attached) : undefined)).catch((err) => node.warn(err));
      if (dev) dev.deregister(user, detached);
      if (!ours) {
        void detached.finally(done);
        return;
      }
      const end = Date.now() + CLOSE_WAIT_MS;
      const attempt = () => {
        if (removeIfFree(name)) return done();
        if (Date.now() < end) {
          setTimeout(attempt, 50);
          return;
        }
        // Still driving a running buffer: leave it to the reaper rather than crash the kernel.
        const entry = owned.get(name);
        if (entry && !entry.reaper) {
          entry.reaper = setInterval(() => removeIfFree(name), REAP_INTERVAL_MS);
          entry.reaper.unref();
        }
        node.warn(`iio-trigger: ${name} is still used by ${namedBy(name).map((d) => d.label ?? d.name).join(', ')}; it is removed once no device uses it`);
        done();
      };
      void detached.finally(attempt);
    });
  }

  /**
   * The trigger on a board, reached through `dev`'s iiod connection: adopted (iiod cannot create
   * one), its frequency set and attached to the device; again after every reconnect.
   */
  function remoteTrigger(node: Node, dev: IioDeviceNode, kind: 'hrtimer' | 'sysfs', name: string, frequency: number): void {
    let trigger: Trigger | null = null;
    let attached: string | null = null;
    let closed = false;
    const ops = new OpQueue();
    const adopt = () =>
      ops.run(async () => {
        if (closed) return;
        let d: Device;
        try {
          d = dev.resolve();
        } catch (err) {
          if (!isIioError(err, 'EINPROGRESS')) throw err;
          node.status({ fill: 'yellow', shape: 'ring', text: t('iio-device', 'status.connecting') });
          return; // its connect adopts (deviceConnected)
        }
        if (kind === 'hrtimer') validateTriggerName(name);
        // Absent on the board: refused at once, naming the board's triggers.
        const found = await d.context.waitForTrigger(name, { device: d.name });
        if (kind === 'hrtimer' && frequency > 0) await found.writeFrequencyAsync(frequency);
        trigger = found;
        attached = (await attachTrigger(d.context, d, name, () => !closed, true)) ?? attached;
        node.status({ fill: 'green', shape: 'dot', text: t('iio-trigger', 'status.onBoard', { text: statusText(name, kind === 'hrtimer' ? frequency : 0, true), uri: dev.uri }) });
      });
    const user: DeviceUser = {
      status: (st) => node.status(st),
      deviceConnected: () => {
        adopt().catch((err) => reportError(node, err));
      },
      deviceDisconnected: () => {
        trigger = null;
        attached = null;
      },
    };
    dev.register(user);
    adopt().catch((err) => reportError(node, err));

    node.on('input', (msg, _send, done) => {
      ops
        .run(async () => {
          const hz = requestedFrequency(msg, kind);
          if (!trigger) throw new IioError({ code: 'ENOTCONN', errno: 107, device: name, detail: `trigger "${name}" on ${dev.uri} is not adopted (see the status)` });
          if (hz !== undefined) {
            await trigger.writeFrequencyAsync(hz);
            node.status({ fill: 'green', shape: 'dot', text: t('iio-trigger', 'status.onBoard', { text: statusText(name, hz, true), uri: dev.uri }) });
          } else if (kind === 'sysfs') {
            await fireSeries(trigger, fireCount(msg.payload), true, () => closed);
          }
        })
        .then(() => done(), (err) => done(asError(err)));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      const detached = ops.run(() => detachTrigger(() => dev.resolve(), attached, true));
      dev.deregister(user, detached);
      detached.catch((err) => node.warn(err)).finally(done);
    });
  }

  RED.nodes.registerType('iio-trigger', IioTrigger as unknown as new (def: NodeDef) => unknown);
}

function currentTriggerOf(d: Device): string {
  try {
    return d.readCurrentTrigger();
  } catch {
    return ''; // gone meanwhile
  }
}
