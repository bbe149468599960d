// Triggers: hrtimer triggers (configfs), sysfs triggers (iio_sysfs_trigger), their frequency, and
// a device's current_trigger.
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { IioError, describeValue, fromNodeError, invalid } from './errors';
import { AttributeDir } from './attr';
import { IioContext, TriggerInfo } from './context';
import { kernel } from './local-backend';
import type { AttributeStore } from './attr';
import type { Device } from './device';

export const CONFIGFS_HRTIMER = '/sys/kernel/config/iio/triggers/hrtimer';

/** Trigger names go into paths and sysfs: keep them to what the kernel and configfs accept. */
export function validateTriggerName(name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..') {
    throw invalid(`trigger name ${describeValue(name)}: use 1–64 letters, digits, '_', '-' or '.'`);
  }
  return name;
}

/** A trigger of a context; its own enumerable fields are its TriggerInfo, the context and attributes getters. */
export class Trigger implements TriggerInfo {
  declare readonly id: string;
  declare readonly name: string;
  declare readonly sysfsPath: string;
  readonly #context: IioContext;
  #attrs: AttributeStore | null = null;

  constructor(context: IioContext, info: TriggerInfo) {
    this.#context = context;
    Object.assign(this, info);
  }

  get context(): IioContext {
    return this.#context;
  }

  get attrs(): AttributeStore {
    this.#attrs ??= this.#context.access.attributes(this.sysfsPath, this.name);
    return this.#attrs;
  }

  /** Fires a sysfs trigger once: every device attached to it captures one scan. */
  fire(): void {
    this.attrs.writeSync('trigger_now', 1);
  }

  readFrequency(): number {
    return this.attrs.readFloatSync('sampling_frequency');
  }

  writeFrequency(hz: number): void {
    this.attrs.writeSync('sampling_frequency', this.#checkFrequency(hz));
  }

  /** fire(), by the async path: the only one a board's trigger (over iiod) has. */
  fireAsync(): Promise<void> {
    return this.attrs.write('trigger_now', 1);
  }

  /** writeFrequency(), by the async path: the only one a board's trigger (over iiod) has. */
  async writeFrequencyAsync(hz: number): Promise<void> {
    await this.attrs.write('sampling_frequency', this.#checkFrequency(hz));
  }

  #checkFrequency(hz: number): number {
    if (typeof hz !== 'number' || !Number.isFinite(hz) || hz <= 0) throw invalid(`trigger frequency ${String(hz)} Hz`, { device: this.name });
    return hz;
  }
}

function requireTrigger(ctx: IioContext, name: string): Trigger {
  // The trigger's sysfs directory appears synchronously with its registration.
  const t = ctx.findTrigger(name);
  if (!t) throw new IioError({ code: 'ENOENT', errno: 2, detail: `trigger "${name}" did not appear under ${ctx.root}` });
  return t;
}

/** Creates an hrtimer trigger through configfs (needs the iio-trig-hrtimer module and configfs mounted). */
export function createHrtimerTrigger(name: string, ctx = new IioContext(), configfs = CONFIGFS_HRTIMER): Trigger {
  validateTriggerName(name);
  const dir = path.join(configfs, name);
  try {
    kernel().mkdir(dir);
  } catch (err) {
    const e = fromNodeError(err as NodeJS.ErrnoException, { syscall: 'mkdir', path: dir });
    if (e.code === 'ENOENT') {
      throw new IioError({ code: 'ENOENT', errno: 2, syscall: 'mkdir', path: dir, detail: 'no hrtimer trigger support: load iio-trig-hrtimer and mount configfs at /sys/kernel/config' });
    }
    throw e;
  }
  return requireTrigger(ctx, name);
}

export function removeHrtimerTrigger(name: string, configfs = CONFIGFS_HRTIMER): void {
  validateTriggerName(name);
  const dir = path.join(configfs, name);
  try {
    kernel().rmdir(dir);
  } catch (err) {
    throw fromNodeError(err as NodeJS.ErrnoException, { syscall: 'rmdir', path: dir });
  }
}

function sysfsTriggerControl(ctx: IioContext): AttributeDir {
  const dir = path.join(ctx.root, 'iio_sysfs_trigger');
  if (!kernel().exists(dir)) {
    throw new IioError({ code: 'ENOENT', errno: 2, path: dir, detail: 'no sysfs trigger support: load the iio-trig-sysfs module' });
  }
  return new AttributeDir(dir, 'iio_sysfs_trigger');
}

/** Creates sysfs trigger `sysfstrig<id>`. */
export function createSysfsTrigger(id: number, ctx = new IioContext()): Trigger {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw invalid(`sysfs trigger id ${String(id)}`);
  sysfsTriggerControl(ctx).writeSync('add_trigger', id);
  return requireTrigger(ctx, `sysfstrig${id}`);
}

export function removeSysfsTrigger(id: number, ctx = new IioContext()): void {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw invalid(`sysfs trigger id ${String(id)}`);
  sysfsTriggerControl(ctx).writeSync('remove_trigger', id);
}

/** Whether a trigger called `name` is registered under `root` (the IIO sysfs directory). */
function triggerRegistered(root: string, name: string): boolean {
  return new IioContext(root).findTrigger(name) !== undefined;
}

/** Whether any buffer of the device under `sysfsPath` is enabled. */
export function anyBufferEnabled(sysfsPath: string): boolean {
  let entries: string[];
  try {
    entries = kernel().list(sysfsPath).map((e) => e.name);
  } catch {
    return false;
  }
  return entries
    .filter((e) => /^buffer\d*$/.test(e))
    .some((e) => {
      try {
        return kernel().readText(path.join(sysfsPath, e, 'enable')).trim() === '1';
      } catch {
        return false;
      }
    });
}

/**
 * Devices under `root` (other than `except`) running a buffer on trigger `name`: each holds one of
 * the trigger's consumer slots (the kernel takes one when a triggered buffer is enabled).
 */
export function triggerConsumers(root: string, name: string, except?: string): string[] {
  let entries: string[];
  try {
    entries = kernel().list(root).map((e) => e.name).filter((e) => /^iio:device\d+$/.test(e));
  } catch {
    return [];
  }
  return entries.filter((e) => {
    const dir = path.join(root, e);
    if (dir === except) return false;
    try {
      if (kernel().readText(path.join(dir, 'trigger', 'current_trigger')).trim() !== name) return false;
    } catch {
      return false;
    }
    return anyBufferEnabled(dir);
  });
}

/** Kconfig's default for CONFIG_IIO_CONSUMERS_PER_TRIGGER. */
const DEFAULT_CONSUMERS_PER_TRIGGER = 2;
let consumerLimit: number | null = null;

/**
 * How many devices one trigger can drive at once: CONFIG_IIO_CONSUMERS_PER_TRIGGER of the running
 * kernel (from /boot/config-<release> or /proc/config.gz), else the Kconfig default of 2. The
 * kernel itself only logs "Could not find an available irq for trigger" when it runs out.
 */
export function triggerConsumerLimit(): number {
  if (consumerLimit !== null) return consumerLimit;
  let text = '';
  try {
    text = kernel().readText(`/boot/config-${os.release()}`);
  } catch {
    try {
      text = zlib.gunzipSync(kernel().readBytes('/proc/config.gz')).toString('utf8');
    } catch {
      /* neither: use the default */
    }
  }
  const m = /^CONFIG_IIO_CONSUMERS_PER_TRIGGER=(\d+)$/m.exec(text);
  consumerLimit = m ? Number(m[1]) : DEFAULT_CONSUMERS_PER_TRIGGER;
  return consumerLimit;
}

/**
 * Makes sure the device's current trigger is safe to enable a buffer on: it exists, the device
 * points at the live trigger of that name, and the trigger has a free consumer slot. Call it
 * right before enabling a buffer of a triggerable device.
 */
export function checkTriggerBeforeEnable(device: Device): void {
  const attrs = device.attrs;
  const name = attrs.readStringSync('trigger/current_trigger');
  if (name === '') return; // enabling then fails with EINVAL, which the caller explains
  const root = path.dirname(device.sysfsPath);
  if (!anyBufferEnabled(device.sysfsPath)) {
    // A trigger removed while attached leaves the device pointing at the dead one, and a new
    // trigger of the same name does not replace it: enabling would crash the kernel. Detaching
    // and attaching by name again binds the live trigger, or shows that there is none.
    try {
      attrs.writeSync('trigger/current_trigger', '');
      if (triggerRegistered(root, name)) attrs.writeSync('trigger/current_trigger', name);
    } catch {
      /* the check below decides */
    }
    if (attrs.readStringSync('trigger/current_trigger') !== name) {
      throw new IioError({
        code: 'ENOENT', errno: 2, device: device.name, path: path.join(device.sysfsPath, 'trigger/current_trigger'),
        detail: `${device.name}'s trigger "${name}" no longer exists (it was removed while attached); attach a trigger that exists`,
      });
    }
  }
  const others = triggerConsumers(root, name, device.sysfsPath);
  const limit = triggerConsumerLimit();
  if (others.length >= limit) {
    throw new IioError({
      code: 'EBUSY', errno: 16, device: device.name,
      detail: `trigger "${name}" already drives ${others.length} device(s) (${others.join(', ')}); this kernel allows ${limit} per trigger (CONFIG_IIO_CONSUMERS_PER_TRIGGER): use another trigger`,
    });
  }
}
