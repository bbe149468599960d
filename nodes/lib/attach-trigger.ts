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
export async function attachTrigger(context: IioContext, device: Device, name: string, stillWanted: () => boolean, remote = false): Promise<string | null> {
  if (!name || !device.triggerable) return null;
  // The kernel silently detaches on an unknown name, so wait for the trigger to exist first.
  await context.waitForTrigger(name, { stillWanted, device: device.name });
  // Locally the check and the write stay in one turn of the loop: spread over awaits, the
  // reliability suite's paced sysfs-trigger capture lost scans (a race not yet pinned down).
  // A board's answers can only come over the network.
  if (!remote) {
    if (device.readCurrentTrigger() !== name) device.writeCurrentTrigger(name);
  } else if ((await device.readCurrentTriggerAsync()) !== name) {
    await device.writeCurrentTriggerAsync(name);
  }
  return name;
}

/**
 * Detaches `name` if it is still the device's trigger. `device` looks the device up; a vanished
 * device has nothing attached. EBUSY means another buffer of the device is running on the trigger:
 * it stays attached for that one. Other failures are thrown.
 */
export async function detachTrigger(device: () => Device, name: string | null, remote = false): Promise<void> {
  if (!name) return;
  let d: Device;
  try {
    d = device();
  } catch {
    return; // the device is gone
  }
  try {
    if (!remote) {
      if (d.readCurrentTrigger() === name) d.writeCurrentTrigger('');
    } else if ((await d.readCurrentTriggerAsync()) === name) {
      await d.writeCurrentTriggerAsync('');
    }
  } catch (err) {
    if (isIioError(err, 'EBUSY') || isIioError(err, 'ENOENT') || isIioError(err, 'ENODEV')) return;
    throw err;
  }
}
