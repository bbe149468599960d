// Attaching a node's configured trigger to its device, waiting for a trigger that an iio-trigger
// node of the same deploy may still be creating, and detaching it again.
import { isIioError } from '../../src/errors';

import type { IioContext } from '../../src/context';
import type { Device } from '../../src/device';

/**
 * Makes `name` the device's trigger. Returns the name (the caller detaches it on stop), or null
 * when no trigger is configured. `stillWanted` ends the wait early. Whether the device points at
 * the live trigger is checked again by the core right before the buffer is enabled.
 */
export async function attachTrigger(context: IioContext, device: Device, name: string, stillWanted: () => boolean): Promise<string | null> {
  if (!name || !device.triggerable) return null;
  // The kernel silently detaches on an unknown name, so wait for the trigger to exist first.
  await context.waitForTrigger(name, { stillWanted, device: device.name });
  if ((await device.readCurrentTriggerAsync()) !== name) await device.writeCurrentTriggerAsync(name);
  return name;
}

/**
 * Detaches `name` if it is still the device's trigger. `device` looks the device up; a vanished
 * device has nothing attached. EBUSY means another buffer of the device is running on the trigger:
 * it stays attached for that one. Other failures are thrown.
 */
export async function detachTrigger(device: () => Device, name: string | null): Promise<void> {
  if (!name) return;
  let d: Device;
  try {
    d = device();
  } catch {
    return; // the device is gone
  }
  try {
    if ((await d.readCurrentTriggerAsync()) === name) await d.writeCurrentTriggerAsync('');
  } catch (err) {
    if (isIioError(err, 'EBUSY') || isIioError(err, 'ENOENT') || isIioError(err, 'ENODEV')) return;
    throw err;
  }
}
