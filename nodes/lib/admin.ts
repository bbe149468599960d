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
import { parseUri } from '../../src/iiod/uri';
import { RemoteContext } from '../../src/iiod/client';
import { RemoteIioContext } from '../../src/iiod/remote-context';

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

/** How long the editor waits for a board's iiod before the dropdowns say "unavailable" (ms). */
const REMOTE_TIMEOUT_MS = 3000;

/**
 * Runs `use` on the context the request names: `?uri=ip:HOST[:PORT]` a board's (connected for this
 * request only, closed after), else the local one. The answer is the JSON `use` returns, or an
 * error the editor shows (400 for a bad URI, 502 for a board that cannot be reached).
 */
async function withContext(req: HttpRequest, res: HttpResponse, local: IioContext, use: (c: IioContext, remote: boolean) => unknown | Promise<unknown>): Promise<void> {
  let uri;
  try {
    uri = parseUri(typeof req.query?.uri === 'string' ? req.query.uri : undefined);
  } catch (err) {
    res.status(400).json({ error: err instanceof Error ? err.message : String(err) });
    return;
  }
  if (uri.kind === 'local') {
    try {
      res.json(await use(local, false));
    } catch (err) {
      // An unreadable sysfs root (EACCES) answers 500 with its message instead of an Express stack.
      res.status(statusOf(err, 500)).json({ error: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  let remote: RemoteContext | null = null;
  try {
    remote = await RemoteContext.connect(uri, { timeoutMs: REMOTE_TIMEOUT_MS });
    res.json(await use(new RemoteIioContext(remote), true));
  } catch (err) {
    res.status(statusOf(err, 502)).json({ error: err instanceof Error ? err.message : String(err) });
  } finally {
    await remote?.close();
  }
}

/** The HTTP status an error carries (a missing device: 404), else `fallback`. */
function statusOf(err: unknown, fallback: number): number {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : fallback;
}

/** The description, with what only an async read of a board gives (the attached trigger). */
async function describeAny(d: Device, remote: boolean) {
  const out = describeDevice(d);
  if (remote && d.triggerable) out.currentTrigger = await d.readCurrentTriggerAsync().catch(() => null);
  return out;
}

const registered = new WeakSet<object>();

export function registerAdminEndpoints(RED: NodeAPI, context: IioContext): void {
  if (registered.has(RED.httpAdmin)) return;
  registered.add(RED.httpAdmin);
  const canRead = RED.auth.needsPermission('iio.read');
  RED.httpAdmin.get('/iio/devices', canRead, (req: HttpRequest, res: HttpResponse) => {
    void withContext(req, res, context, (c, remote) => Promise.all(c.devices().map((d) => describeAny(d, remote))));
  });
  RED.httpAdmin.get('/iio/devices/:id', canRead, (req: HttpRequest, res: HttpResponse) => {
    const id = req.params.id;
    void withContext(req, res, context, (c, remote) => {
      const d = c.devices().find((x) => x.id === id || x.name === id || x.label === id);
      return d ? describeAny(d, remote) : Promise.reject(Object.assign(new Error(`no IIO device "${id}"`), { status: 404 }));
    });
  });
  RED.httpAdmin.get('/iio/triggers', canRead, (req: HttpRequest, res: HttpResponse) => {
    void withContext(req, res, context, (c) => c.triggers().map((t) => ({ id: t.id, name: t.name })));
  });
}
