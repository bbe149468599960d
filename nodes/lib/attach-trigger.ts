// Attaching a node's configured trigger to its device, waiting for a trigger that an iio-trigger
// node of the same deploy may still be creating, and detaching it again.
import { isIioError } from '../../src/errors';
import { getCurrentTrigger, setCurrentTrigger, waitForTrigger } from '../../src/trigger';
import type { IioContext, DeviceInfo } from '../../src/context';

/**
 * Makes `name` the device's trigger. Returns the name (the caller detaches it on stop), or null
 * when no trigger is configured. `stillWanted` ends the wait early. Whether the device points at
 * the live trigger is checked again by the core right before the buffer is enabled.
 */
export async function attachTrigger(context: IioContext, device: DeviceInfo, name: string, stillWanted: () => boolean): Promise<string | null> {
  if (!name || !device.triggerable) return null;
  // The kernel silently detaches on an unknown name, so wait for the trigger to exist first.
  await waitForTrigger(context, name, { stillWanted, device: device.name });
  if (getCurrentTrigger(device) !== name) setCurrentTrigger(device, name);
  return name;
}

/**
 * Detaches `name` if it is still the device's trigger. `device` looks the device up; a vanished
 * device has nothing attached. EBUSY means another buffer of the device is running on the trigger:
 * it stays attached for that one. Other failures are thrown.
 */
export function detachTrigger(device: () => DeviceInfo, name: string | null): void {
  if (!name) return;
  let d: DeviceInfo;
  try {
    d = device();
  } catch {
    return; // the device is gone
  }
  try {
    if (getCurrentTrigger(d) === name) setCurrentTrigger(d, '');
  } catch (err) {
    if (isIioError(err, 'EBUSY') || isIioError(err, 'ENOENT') || isIioError(err, 'ENODEV')) return;
    throw err;
  }
}
