// Triggers: hrtimer triggers (configfs), sysfs triggers (iio_sysfs_trigger), their frequency, and
// a device's current_trigger.
import * as fs from 'fs';
import * as path from 'path';
import { IioError, fromNodeError, invalid } from './errors';
import { AttributeDir } from './attr';
import { IioContext, TriggerInfo, DeviceInfo } from './context';

export const CONFIGFS_HRTIMER = '/sys/kernel/config/iio/triggers/hrtimer';

/** Trigger names go into paths and sysfs: keep them to what the kernel and configfs accept. */
export function validateTriggerName(name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..') {
    throw invalid(`trigger name ${JSON.stringify(name)}: use 1–64 letters, digits, '_', '-' or '.'`);
  }
  return name;
}

function waitForTrigger(ctx: IioContext, name: string): TriggerInfo {
  // The trigger's sysfs directory appears synchronously with its registration.
  const t = ctx.findTrigger(name);
  if (!t) throw new IioError({ code: 'ENOENT', errno: 2, detail: `trigger "${name}" did not appear under ${ctx.root}` });
  return t;
}

/** Creates an hrtimer trigger through configfs (needs the iio-trig-hrtimer module and configfs mounted). */
export function createHrtimerTrigger(name: string, ctx = new IioContext(), configfs = CONFIGFS_HRTIMER): TriggerInfo {
  validateTriggerName(name);
  const dir = path.join(configfs, name);
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    const e = fromNodeError(err as NodeJS.ErrnoException, { syscall: 'mkdir', path: dir });
    if (e.code === 'ENOENT') {
      throw new IioError({ code: 'ENOENT', errno: 2, syscall: 'mkdir', path: dir, detail: 'no hrtimer trigger support: load iio-trig-hrtimer and mount configfs at /sys/kernel/config' });
    }
    throw e;
  }
  return waitForTrigger(ctx, name);
}

export function removeHrtimerTrigger(name: string, configfs = CONFIGFS_HRTIMER): void {
  validateTriggerName(name);
  const dir = path.join(configfs, name);
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    throw fromNodeError(err as NodeJS.ErrnoException, { syscall: 'rmdir', path: dir });
  }
}

function sysfsTriggerControl(ctx: IioContext): AttributeDir {
  const dir = path.join(ctx.root, 'iio_sysfs_trigger');
  if (!fs.existsSync(dir)) {
    throw new IioError({ code: 'ENOENT', errno: 2, path: dir, detail: 'no sysfs trigger support: load the iio-trig-sysfs module' });
  }
  return new AttributeDir(dir, 'iio_sysfs_trigger');
}

/** Creates sysfs trigger `sysfstrig<id>`. */
export function createSysfsTrigger(id: number, ctx = new IioContext()): TriggerInfo {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw invalid(`sysfs trigger id ${String(id)}`);
  sysfsTriggerControl(ctx).writeSync('add_trigger', id);
  return waitForTrigger(ctx, `sysfstrig${id}`);
}

export function removeSysfsTrigger(id: number, ctx = new IioContext()): void {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw invalid(`sysfs trigger id ${String(id)}`);
  sysfsTriggerControl(ctx).writeSync('remove_trigger', id);
}

function triggerAttrs(t: TriggerInfo): AttributeDir {
  return new AttributeDir(t.sysfsPath, t.name);
}

/** Fires a sysfs trigger once: every device attached to it captures one scan. */
export function fireTrigger(t: TriggerInfo): void {
  triggerAttrs(t).writeSync('trigger_now', 1);
}

export function setTriggerFrequency(t: TriggerInfo, hz: number): void {
  if (typeof hz !== 'number' || !Number.isFinite(hz) || hz <= 0) throw invalid(`trigger frequency ${String(hz)} Hz`, { device: t.name });
  triggerAttrs(t).writeSync('sampling_frequency', hz);
}

export function getTriggerFrequency(t: TriggerInfo): number {
  return triggerAttrs(t).readFloatSync('sampling_frequency');
}

/** The name of the device's current trigger, '' when none. */
export function getCurrentTrigger(device: DeviceInfo): string {
  return new AttributeDir(device.sysfsPath, device.name).readStringSync('trigger/current_trigger');
}

/** Attaches `name` as the device's trigger; '' detaches. */
export function setCurrentTrigger(device: DeviceInfo, name: string): void {
  if (name !== '') validateTriggerName(name);
  if (!device.triggerable) {
    throw new IioError({ code: 'ENOTSUP', device: device.name, detail: `${device.name} has no trigger/current_trigger` });
  }
  new AttributeDir(device.sysfsPath, device.name).writeSync('trigger/current_trigger', name);
}
