// iio-attr: reads and writes device, channel, buffer, event and trigger attributes, on input or
// on an interval; scaled channel reads as (raw + offset) × scale.
import { validateAttributeName } from '../src/attr';
import type { AttributeStore } from '../src/attr';
import type { Channel } from '../src/channel';
import { IioError } from '../src/errors';
import { deviceNode, reportError, asError, deviceRef, nodeContext, textOf, configText, shortStatus } from './lib/common';
import { useCatalogs } from './lib/i18n';
import type { DeviceUser } from './iio-device';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './lib/red';

type Target = 'device' | 'channel' | 'trigger';

interface AttrConfig {
  target: Target;
  attribute: string;
  channel: string;
  trigger: string;
  action: 'read' | 'write';
  interval: number;
  scaled: boolean;
  valueType: 'auto' | 'string';
}


function readConfig(def: NodeDef): AttrConfig {
  const target: Target = def.target === 'channel' || def.target === 'trigger' ? def.target : 'device';
  return {
    target,
    attribute: configText(def.attribute),
    channel: configText(def.channel),
    trigger: configText(def.trigger),
    action: def.action === 'write' ? 'write' : 'read',
    interval: Math.max(0, Number(def.interval) || 0),
    scaled: def.scaled === true,
    valueType: def.valueType === 'string' ? 'string' : 'auto',
  };
}

/** "42" → 42, "0.805664" → 0.805664; anything else stays text. */
function typed(s: string, valueType: AttrConfig['valueType']): string | number {
  if (valueType === 'string') return s;
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) ? Number(s) : s;
}

export default function (RED: NodeAPI) {
  useCatalogs(RED);
  const context = nodeContext();

  function IioAttr(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = readConfig(def);
    const dev = deviceNode(RED, def.device);

    /** The directory, attribute file and label a request resolves to. */
    function locate(msg: NodeMessage): { dir: AttributeStore; attribute: string; topic: string; channel?: Channel; info?: string } {
      const attribute = textOf(msg.attribute ?? cfg.attribute, 'msg.attribute');
      if (cfg.target === 'trigger') {
        const name = textOf(msg.trigger ?? cfg.trigger, 'msg.trigger');
        // A remote device's triggers are its board's.
        const t = (dev ? dev.context() : context).findTrigger(name);
        if (!t) throw new IioError({ code: 'ENOENT', errno: 2, detail: `no IIO trigger named "${name}"` });
        validateAttributeName(attribute, name);
        return { dir: t.attrs, attribute, topic: `${name}/${attribute}` };
      }
      if (!dev) throw new IioError({ code: 'EINVAL', detail: 'iio-attr: no iio-device configured' });
      const device = dev.current();
      const dir = device.attrs;
      if (cfg.target === 'channel') {
        const channel = device.channel(textOf(msg.channel ?? cfg.channel, 'msg.channel'));
        const info = attribute || 'raw';
        const file = channel.file(info);
        return { dir, attribute: file, topic: `${device.label ?? device.name}/${file}`, channel, info };
      }
      validateAttributeName(attribute, device.name);
      return { dir, attribute, topic: `${device.label ?? device.name}/${attribute}` };
    }

    async function readValue(loc: ReturnType<typeof locate>): Promise<unknown> {
      if (cfg.scaled && loc.channel) return loc.channel.readScaled(loc.info);
      return typed(await loc.dir.readString(loc.attribute), cfg.valueType);
    }

    async function handle(msg: NodeMessage): Promise<NodeMessage> {
      const loc = locate(msg);
      if (cfg.action === 'write') {
        const v = msg.payload;
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          throw new IioError({ code: 'EINVAL', attribute: loc.attribute, detail: `msg.payload to write must be a string, number or boolean, not ${v === null ? 'null' : typeof v}` });
        }
        await loc.dir.write(loc.attribute, v);
      }
      msg.payload = await readValue(loc);
      msg.topic = loc.topic;
      msg.attribute = loc.attribute;
      if (loc.channel) msg.device = deviceRef(loc.channel.device);
      else if (dev && cfg.target !== 'trigger') msg.device = deviceRef(dev.current());
      return msg;
    }

    node.on('input', (msg, send, done) => {
      handle(msg).then(
        (out) => {
          node.status({ fill: 'green', shape: 'dot', text: String(out.payload).slice(0, 24) });
          send(out);
          done();
        },
        (err) => {
          node.status({ fill: 'red', shape: 'ring', text: shortStatus(asError(err)) });
          done(asError(err));
        },
      );
    });

    // Registered, so the device node watches for a replug (it skips that while nobody uses it)
    // and the status shows it; every access resolves the device afresh through current().
    const user: DeviceUser = { status: (st) => node.status(st) };
    if (dev && cfg.target !== 'trigger') {
      dev.register(user);
      try {
        dev.device(); // known as present, the watcher can tell when it goes
      } catch {
        /* absent for now: the watcher connects it when it appears */
      }
    }

    let timer: NodeJS.Timeout | null = null;
    if (cfg.action === 'read' && cfg.interval > 0) {
      timer = setInterval(() => {
        handle({}).then(
          (out) => {
            node.status({ fill: 'green', shape: 'dot', text: String(out.payload).slice(0, 24) });
            node.send(out);
          },
          (err) => reportError(node, err),
        );
      }, cfg.interval * 1000);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      if (dev && cfg.target !== 'trigger') dev.deregister(user);
      done();
    });
  }

  RED.nodes.registerType('iio-attr', IioAttr as unknown as new (def: NodeDef) => unknown);
}
