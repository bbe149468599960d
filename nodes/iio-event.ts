// iio-event: one message per IIO event of its device that passes the channel/type/direction
// filter; optionally configures that event's enable, value, hysteresis and period.
import { parseBoolAttr } from '../src/attr';
import { IioError } from '../src/errors';
import type { Device, DeviceEvent, EventSettings } from '../src/device';
import { deviceNode, reportError, asError, deviceRef, describeValue, textOf, configText } from './lib/common';
import { t, useCatalogs } from './lib/i18n';
import type { DeviceUser, EventListener } from './iio-device';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './lib/red';

interface EventConfig {
  channel: string;
  eventType: string;
  direction: string;
  configure: boolean;
  /** 'scaled': value and hysteresis in the channel's scaled units (m°C, mV…); 'raw': as the attributes take them. */
  units: 'scaled' | 'raw';
  settings: EventSettings;
}


function readConfig(def: NodeDef): EventConfig {
  const settings: EventConfig['settings'] = { en: def.enable !== false };
  for (const key of ['value', 'hysteresis', 'period'] as const) if (configText(def[key]) !== '') settings[key] = configText(def[key]);
  return { channel: configText(def.channel), eventType: configText(def.eventType), direction: configText(def.direction), configure: def.configure === true,
    // Flows from before the setting existed meant raw units.
    units: def.units === 'scaled' ? 'scaled' : 'raw', settings };
}

/** The sysfs event (attributes) this node's filter names exactly, or throws naming what is missing. */
function findEvent(device: Device, cfg: EventConfig): DeviceEvent {
  return device.event(cfg.channel, cfg.eventType, cfg.direction);
}

/** Shortest interval between two updates of the event count in the status (ms). */
const STATUS_EVERY_MS = 100;

export default function (RED: NodeAPI) {
  useCatalogs(RED);
  function IioEventNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = readConfig(def);
    const dev = deviceNode(RED, def.device);
    const exact = cfg.channel !== '' && cfg.eventType !== '' && cfg.direction !== '';
    let listening = false;
    let closed = false;
    let count = 0;
    /** The `en` value before this node enabled the event, restored on close. */
    let enabledFrom: { device: Device; attr: string; was: string } | null = null;

    if (!dev) {
      node.status({ fill: 'red', shape: 'ring', text: t('iio-device', 'status.noDevice') });
      node.on('input', (_m, _s, done) => done(new Error('iio-event: no iio-device configured')));
      return;
    }

    if (dev.uri !== 'local:') {
      // iiod 0.24 has no event commands: refuse at deploy, not silently never fire.
      const err = new IioError({ code: 'ENOTSUP', errno: 95, device: dev.selector.label ?? dev.selector.name ?? dev.selector.id, detail: `IIO events are not available over iiod (${dev.uri}): its protocol (0.24) has no event commands` });
      reportError(node, err);
      node.status({ fill: 'red', shape: 'ring', text: t('iio-event', 'status.remote') });
      node.on('input', (_m, _s, done) => done(err));
      return;
    }

    // The event count shows at most every STATUS_EVERY_MS: a status update costs more than the
    // message itself, and made right after send() it delayed the message's delivery.
    let statusTimer: NodeJS.Timeout | null = null;
    const showCount = () => {
      statusTimer = null;
      if (!closed) node.status({ fill: 'green', shape: 'dot', text: count === 1 ? t('iio-event', 'status.oneEvent') : t('iio-event', 'status.events', { count }) });
    };

    const listener: EventListener = (events) => {
      const device = dev.device();
      for (const e of events) {
        if ((cfg.eventType !== '' && e.typeName !== cfg.eventType) || (cfg.direction !== '' && e.directionName !== cfg.direction)) continue;
        const channel = device.channelIdOf(e);
        if (cfg.channel !== '' && channel !== cfg.channel) continue;
        const msg: NodeMessage = {
          topic: `${device.label ?? device.name}/${channel}/${e.typeName}/${e.directionName}`,
          payload: {
            channel,
            channelType: e.channelTypeName,
            index: e.channel,
            channel2: e.channel2,
            modifier: e.modifierName || null,
            differential: e.differential,
            type: e.typeName,
            direction: e.directionName,
            timestamp: e.timestamp.toString(),
            timestampMs: Number(e.timestamp) / 1e6,
            code: `0x${e.id.toString(16).padStart(16, '0')}`,
          },
          device: deviceRef(device),
        };
        count++;
        node.send(msg);
      }
      statusTimer ??= setTimeout(showCount, STATUS_EVERY_MS);
    };

    async function start(): Promise<void> {
      const device = dev!.resolve();
      // Listen first: the kernel drops events while no event fd is open, so enabling first could
      // lose the very crossing the user is waiting for.
      if (!listening) {
        dev!.addEventListener(listener, (err) => reportError(node, err));
        listening = true;
      }
      if (cfg.configure && exact) {
        const ev = findEvent(device, cfg);
        if (ev.attributes.en && !enabledFrom) {
          enabledFrom = { device, attr: ev.attributes.en, was: await device.attrs.readString(ev.attributes.en) };
        }
        if (closed) return;
        await ev.writeSettings(cfg.settings, cfg.units);
      }
      if (!closed) node.status({ fill: 'green', shape: 'dot', text: t('iio-event', 'status.listening') });
    }

    const user: DeviceUser = {
      status: (st) => node.status(st),
      deviceConnected: () => {
        start().catch((err) => reportError(node, err));
      },
      // The config node closes the dead event fd; our listener stays registered for the return.
    };
    dev.register(user);
    start().catch((err) => reportError(node, err));

    node.on('input', (msg, _send, done) => {
      const p = (msg.payload ?? {}) as Record<string, unknown>;
      const settings: EventConfig['settings'] = {};
      if (typeof p === 'object') {
        if (p.enable !== undefined) {
          try {
            settings.en = enableValue(p.enable);
          } catch (err) {
            done(asError(err));
            return;
          }
        }
        try {
          for (const key of ['value', 'hysteresis', 'period'] as const) if (p[key] !== undefined) settings[key] = textOf(p[key], `msg.payload.${key}`);
        } catch (err) {
          done(asError(err));
          return;
        }
      }
      if (!exact) {
        done(new IioError({ code: 'EINVAL', detail: 'iio-event: configuring needs a specific channel, event type and direction in the node' }));
        return;
      }
      if (Object.keys(settings).length === 0) {
        done(new IioError({ code: 'EINVAL', detail: 'iio-event: msg.payload must be an object with enable, value, hysteresis or period' }));
        return;
      }
      Promise.resolve()
        .then(() => {
          const device = dev.resolve();
          return findEvent(device, cfg).writeSettings(settings, cfg.units);
        })
        .then(() => done(), (err) => done(asError(err)));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      dev.deregister(user);
      // Leave the event as this node found it.
      const restore = enabledFrom ? enabledFrom.device.attrs.write(enabledFrom.attr, enabledFrom.was) : Promise.resolve();
      restore
        .catch(() => undefined)
        .then(() => dev.removeEventListener(listener))
        .catch((err) => node.warn(err))
        .finally(() => done());
    });
  }

  RED.nodes.registerType('iio-event', IioEventNode as unknown as new (def: NodeDef) => unknown);
}

/** msg.payload.enable as the kernel's boolean parser reads it (true/1/"1"/"on"/"y"…); else EINVAL. */
export function enableValue(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'number' && typeof v !== 'string') {
    throw new IioError({ code: 'EINVAL', detail: `iio-event: msg.payload.enable must be a boolean, 0/1 or a word such as "on", not ${v === null ? 'null' : typeof v}` });
  }
  try {
    return parseBoolAttr(String(v));
  } catch {
    throw new IioError({ code: 'EINVAL', detail: `iio-event: msg.payload.enable must be true/false, 1/0, on/off or y/n, not ${describeValue(v)}` });
  }
}
