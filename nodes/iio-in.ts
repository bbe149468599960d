// iio-in: buffered capture. Maps its config onto a CaptureStream and each block onto a message.
import { CapturedBlock } from '../src/buffer';
import { Input, transportChoice } from '../src/transport';
import { ScanDecoder, formatScanType } from '../src/scan';
import { IioError } from '../src/errors';
import type { Device } from '../src/device';
import { deviceNode, reportError, deviceRef, intConfig, asError, describeValue, nodeContext, shortStatus } from './lib/common';
import { t, useCatalogs } from './lib/i18n';
import { StreamController } from './lib/stream-node';
import { toArrays, toObjects, OutputShape } from './lib/payload';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './lib/red';

interface InConfig {
  channels: string[];
  buffer: number;
  trigger: string;
  samples: number;
  output: OutputShape;
  scaled: boolean;
  timestamps: boolean;
  autoStart: boolean;
  transport: ReturnType<typeof transportChoice>;
  zeroCopy: boolean;
  bufferLength: number;
}

function readConfig(def: NodeDef): InConfig {
  const output = def.output === 'objects' || def.output === 'raw' ? def.output : 'arrays';
  return {
    channels: Array.isArray(def.channels) ? def.channels.filter((c): c is string => typeof c === 'string' && c !== '') : [],
    buffer: intConfig(def.buffer, 0),
    trigger: typeof def.trigger === 'string' ? def.trigger.trim() : '',
    samples: Math.max(1, intConfig(def.samples, 100)),
    output,
    scaled: def.scaled === true,
    timestamps: def.timestamps !== false,
    autoStart: def.autoStart !== false,
    transport: transportChoice(def.transport),
    zeroCopy: def.payloadMode === 'zerocopy',
    bufferLength: intConfig(def.bufferLength, 0),
  };
}

/** The channels to enable: the configured ones (or every data channel), plus the timestamp if wanted. */
function channelsFor(device: Device, cfg: InConfig): string[] {
  const buffer = device.buffers.find((b) => b.index === cfg.buffer);
  const all = buffer ? buffer.scanElements.map((e) => e.channel) : [];
  const data = cfg.channels.length > 0 ? cfg.channels : all.filter((c) => c !== 'timestamp');
  return cfg.timestamps && all.includes('timestamp') ? [...data.filter((c) => c !== 'timestamp'), 'timestamp'] : data.filter((c) => c !== 'timestamp');
}

export default function (RED: NodeAPI) {
  useCatalogs(RED);
  const context = nodeContext();
  function IioIn(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = readConfig(def);
    const dev = deviceNode(RED, def.device);
    let messages = 0;

    if (!dev) {
      node.status({ fill: 'red', shape: 'ring', text: t('iio-device', 'status.noDevice') });
      node.on('input', (_msg, _send, done) => done(new Error('iio-in: no iio-device configured')));
      return;
    }

    const topic = (d: Device) => `${d.label ?? d.name}/buffer${cfg.buffer}`;

    const ctl = new StreamController<Input['stream']>(node, dev, context, {
      trigger: cfg.trigger,
      async open(device, fail) {
        const channels = channelsFor(device, cfg);
        // Read before the stream opens: blocks may arrive as soon as it does.
        const scales = cfg.scaled ? await device.readScales(channels) : null;
        let decoder: ScanDecoder | null = null;
        let repeats: Record<string, number> = {};
        let text = '';
        const input: Input = device.openInput(
          {
            index: cfg.buffer,
            channels,
            scansPerBlock: cfg.samples,
            length: cfg.bufferLength || undefined,
            // Decoded outputs read the DMABUF in place; raw output copies unless zero-copy is asked for.
            payload: cfg.output !== 'raw' ? 'borrow' : cfg.zeroCopy ? 'zerocopy' : 'copy',
            onBlock: (b) => deliver(device, input, text, decoder!, repeats, b),
            onError: fail,
          },
          cfg.transport,
        );
        decoder = new ScanDecoder(input.stream.layout, scales ? { scales } : {});
        repeats = Object.fromEntries(input.stream.layout.elements.map((e) => [e.name, e.type.repeat]));
        // The status says what the user chose or lost; the kernel's reason goes to the log.
        const key = input.transport === 'iiod' ? 'status.runningIiod' : input.transport === 'dmabuf' ? 'status.runningDmabuf' : input.transport === 'block' ? 'status.runningBlock' : input.fallback ? 'status.runningFallback' : 'status.running';
        text = t('iio-in', key);
        if (input.fallback) node.log(t('iio-in', 'status.fallbackLog', { code: input.fallback }));
        node.status({ fill: 'green', shape: 'dot', text });
        return input.stream;
      },
    });

    function deliver(device: Device, input: Input, runningText: string, decoder: ScanDecoder, repeats: Record<string, number>, b: CapturedBlock): void {
      const s = input.stream;
      const msg: NodeMessage = { topic: topic(device), transport: input.transport, scans: b.scans, sequence: b.sequence, overrun: b.overrun, overruns: s.overruns, device: deviceRef(device) };
      if (b.lost !== undefined) msg.lost = b.lost;
      if (cfg.output === 'raw') {
        msg.payload = b.data;
        msg.layout = { scanBytes: s.layout.scanBytes, elements: s.layout.elements.map((e) => ({ name: e.name, offset: e.offset, type: formatScanType(e.type) })) };
      } else {
        const decoded = cfg.scaled ? decoder.decodeScaled(b.data, b.scans) : decoder.decode(b.data, b.scans);
        msg.payload = cfg.output === 'objects' ? toObjects(decoded, repeats) : toArrays(decoded);
      }
      node.send(msg);
      messages++;
      if (b.overrun || messages === 1) {
        const over = t('iio-in', 'status.overruns', { running: runningText, count: s.overruns });
        const text = s.gaps.lost > 0 ? t('iio-in', 'status.lost', { text: over, count: s.gaps.lost }) : over;
        node.status({ fill: s.overruns ? 'yellow' : 'green', shape: 'dot', text: s.overruns ? text : runningText });
      }
    }

    if (cfg.autoStart) ctl.start().catch((err) => reportError(node, err));
    else node.status({ fill: 'yellow', shape: 'ring', text: t('iio-device', 'status.stopped') });

    node.on('input', (msg, _send, done) => {
      const command = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : '';
      if (command === 'start') {
        ctl.start().then(() => done(), (err) => {
          node.status({ fill: 'red', shape: 'ring', text: shortStatus(asError(err)) });
          done(asError(err));
        });
      } else if (command === 'stop') {
        ctl.stop().then(() => done(), (err) => done(asError(err)));
      } else {
        done(new IioError({ code: 'EINVAL', detail: `iio-in: msg.payload must be "start" or "stop", not ${describeValue(msg.payload)}` }));
      }
    });
  }

  RED.nodes.registerType('iio-in', IioIn as unknown as new (def: NodeDef) => unknown);
}
