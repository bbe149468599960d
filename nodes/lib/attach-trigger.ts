// Attaching a node's configured trigger to its device, waiting for a trigger that an iio-trigger
// node of the same deploy may still be creating.
import { IioError } from '../../src/errors';
import { getCurrentTrigger, setCurrentTrigger } from '../../src/trigger';
import type { IioContext, DeviceInfo } from '../../src/context';

/** How long to wait for the trigger to appear. */
const TRIGGER_WAIT_MS = 5000;

/**
 * Makes `name` the device's trigger. Returns the name when this call attached it (so the caller
 * detaches it on stop), null when there was nothing to do. `stillWanted` ends the wait early.
 */
export async function attachTrigger(context: IioContext, device: DeviceInfo, name: string, stillWanted: () => boolean): Promise<string | null> {
  if (!name || !device.triggerable) return null;
  if (getCurrentTrigger(device) === name) return null;
  // The kernel silently detaches on an unknown name, so wait for the trigger to exist first.
  const end = Date.now() + TRIGGER_WAIT_MS;
  while (!context.findTrigger(name)) {
    if (Date.now() > end || !stillWanted()) {
      throw new IioError({ code: 'ENOENT', errno: 2, device: device.name, detail: `no IIO trigger named "${name}"` });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  setCurrentTrigger(device, name);
  return name;
}

/**
 * Detaches `name` if it is still the device's trigger. `device` looks the device up; a vanished
 * device has nothing attached, so failing to find it is fine.
 */
export function detachTrigger(device: () => DeviceInfo, name: string | null): void {
  if (!name) return;
  try {
    const d = device();
    if (getCurrentTrigger(d) === name) setCurrentTrigger(d, '');
  } catch {
    /* the device is gone */
  }
}
