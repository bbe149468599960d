// iio-trigger: creates (or adopts) an hrtimer or sysfs trigger on deploy and removes it on close
// only if this node created it. Input fires a sysfs trigger or changes the frequency.
import { TriggerInfo, DeviceInfo } from '../src/context';
import { IioError } from '../src/errors';
import {
  createHrtimerTrigger, removeHrtimerTrigger, createSysfsTrigger, removeSysfsTrigger, fireTrigger,
  setTriggerFrequency, validateTriggerName, getCurrentTrigger,
} from '../src/trigger';
import { asError, reportError, intConfig, nodeContext } from './lib/common';
import type { Node, NodeAPI, NodeDef } from './lib/red';

/** Most fires one message may ask for, so a typo cannot hold the event loop. */
const MAX_FIRES = 10000;
/** How long close waits for devices to detach the trigger before removing it anyway. */
const CLOSE_WAIT_MS = 3000;

function safeCurrentTrigger(d: DeviceInfo): string {
  try {
    return getCurrentTrigger(d);
  } catch {
    return '';
  }
}

export default function (RED: NodeAPI) {
  const context = nodeContext();

  function IioTrigger(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kind = def.kind === 'sysfs' ? 'sysfs' : 'hrtimer';
    const sysfsId = intConfig(def.sysfsId, 0);
    const name = kind === 'sysfs' ? `sysfstrig${sysfsId}` : String(def.triggerName ?? '').trim();
    const frequency = Number(def.frequency) || 0;
    let trigger: TriggerInfo | null = null;
    let created = false;

    try {
      if (kind === 'hrtimer') validateTriggerName(name);
      trigger = context.findTrigger(name) ?? null;
      if (!trigger) {
        trigger = kind === 'hrtimer' ? createHrtimerTrigger(name, context) : createSysfsTrigger(sysfsId, context);
        created = true;
      }
      if (kind === 'hrtimer' && frequency > 0) setTriggerFrequency(trigger, frequency);
      node.status({ fill: 'green', shape: 'dot', text: `${name}${kind === 'hrtimer' && frequency > 0 ? ` ${frequency} Hz` : ''}${created ? '' : ' (existing)'}` });
    } catch (err) {
      reportError(node, err);
    }

    node.on('input', (msg, _send, done) => {
      try {
        if (!trigger) throw new IioError({ code: 'ENOENT', errno: 2, detail: `trigger "${name}" was not created (see the earlier error)` });
        const hz = msg.frequency ?? (kind === 'hrtimer' && typeof msg.payload === 'number' ? msg.payload : undefined);
        if (hz !== undefined) {
          if (kind !== 'hrtimer') throw new IioError({ code: 'EINVAL', detail: `a sysfs trigger has no frequency; msg.frequency applies to hrtimer triggers` });
          setTriggerFrequency(trigger, Number(hz));
          node.status({ fill: 'green', shape: 'dot', text: `${name} ${Number(hz)} Hz` });
        } else if (kind === 'sysfs') {
          const times = typeof msg.payload === 'number' ? msg.payload : 1;
          if (!Number.isInteger(times) || times < 1 || times > MAX_FIRES) {
            throw new IioError({ code: 'EINVAL', detail: `fire count must be an integer from 1 to ${MAX_FIRES}, not ${String(msg.payload)}` });
          }
          for (let i = 0; i < times; i++) fireTrigger(trigger);
        }
        done();
      } catch (err) {
        done(asError(err));
      }
    });

    /** Devices still using the trigger (their iio-in nodes detach it while closing too). */
    const users = () => context.devices().filter((d) => d.triggerable && safeCurrentTrigger(d) === name);

    node.on('close', (_removed: boolean, done: () => void) => {
      if (!created) return done();
      const end = Date.now() + CLOSE_WAIT_MS;
      const removeWhenFree = () => {
        if (users().length > 0 && Date.now() < end) {
          setTimeout(removeWhenFree, 50);
          return;
        }
        try {
          if (kind === 'hrtimer') removeHrtimerTrigger(name);
          else removeSysfsTrigger(sysfsId, context);
        } catch (err) {
          node.warn(`iio-trigger: could not remove ${name}: ${asError(err).message}`);
        }
        done();
      };
      removeWhenFree();
    });
  }

  RED.nodes.registerType('iio-trigger', IioTrigger as unknown as new (def: NodeDef) => unknown);
}
