// The editor's live dropdowns: devices, channels, buffers, events and triggers from discovery.
import type { IioContext } from '../../src/context';
import type { Device } from '../../src/device';

/** The device's current trigger ('' for none), or null when it cannot be read. */
function currentTrigger(d: Device): string | null {
  try {
    return d.readCurrentTrigger().trim();
  } catch {
    return null;
  }
}

/** A numeric attribute of the device, or null (absent, unreadable, not a number). */
function numberAttr(d: Device, rel: string | undefined): number | null {
  if (!rel) return null;
  try {
    return d.attrs.readFloatSync(rel);
  } catch {
    return null;
  }
}
import type { NodeAPI, HttpRequest, HttpResponse } from './red';

/** The JSON shape the editor reads (see nodes/*.html). */
export function describeDevice(d: Device) {
  return {
    id: d.id,
    name: d.name,
    label: d.label ?? null,
    channels: d.channels.map((c) => ({
      id: c.id,
      direction: c.direction,
      type: c.type,
      scanIndex: c.scanIndex ?? null,
      scanType: c.scanType ?? null,
      attributes: Object.keys(c.attributes).sort(),
      // For the dialogs that show engineering units beside raw ones (iio-event thresholds).
      scale: numberAttr(d, c.attributes.scale),
      offset: numberAttr(d, c.attributes.offset),
    })),
    buffers: d.buffers.map((b) => ({ index: b.index, direction: b.direction, channels: b.scanElements.map((e) => e.channel) })),
    events: d.events.map((e) => ({ channel: e.channel, type: e.type, direction: e.eventDirection, attributes: Object.keys(e.attributes).sort() })),
    attributes: d.attributes,
    triggerable: d.triggerable,
    /** The attached trigger's name, '' for none, null when not triggerable or unreadable: the dialogs warn before a deploy that would fail. */
    currentTrigger: d.triggerable ? currentTrigger(d) : null,
    /** Why the device could not be described (an odd scan type, permission denied…), else null. */
    error: d.error ? { code: d.error.code, message: d.error.message } : null,
  };
}

const registered = new WeakSet<object>();

export function registerAdminEndpoints(RED: NodeAPI, context: IioContext): void {
  if (registered.has(RED.httpAdmin)) return;
  registered.add(RED.httpAdmin);
  const canRead = RED.auth.needsPermission('iio.read');
  // An unreadable sysfs root (EACCES) answers 500 with its message instead of an Express stack.
  const devices = (res: HttpResponse) => {
    try {
      return context.devices();
    } catch (err) {
      res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
      return null;
    }
  };
  RED.httpAdmin.get('/iio/devices', canRead, (_req: HttpRequest, res: HttpResponse) => {
    const all = devices(res);
    if (all) res.json(all.map(describeDevice));
  });
  RED.httpAdmin.get('/iio/devices/:id', canRead, (req: HttpRequest, res: HttpResponse) => {
    const all = devices(res);
    if (!all) return;
    const d = all.find((x) => x.id === req.params.id || x.name === req.params.id || x.label === req.params.id);
    if (!d) {
      res.status(404).json({ error: `no IIO device "${req.params.id}"` });
      return;
    }
    res.json(describeDevice(d));
  });
  RED.httpAdmin.get('/iio/triggers', canRead, (_req: HttpRequest, res: HttpResponse) => {
    res.json(context.triggers().map((t) => ({ id: t.id, name: t.name })));
  });
}
