// iio-in: buffered capture. Maps its config onto a CaptureStream and each block onto a message.
import { CapturedBlock } from '../src/buffer';
import { startCapture, StartedCapture } from '../src/dmabuf';
import { ScanDecoder, ChannelScale, formatScanType } from '../src/scan';
import { AttributeDir } from '../src/attr';
import { IioError } from '../src/errors';
import { DeviceInfo } from '../src/context';
import { attachTrigger, detachTrigger } from './lib/attach-trigger';
import { deviceNode, reportError, deviceRef, intConfig, asError, describeValue, OpQueue, manageStream, nodeContext, shortStatus } from './lib/common';
import { t, useCatalogs } from './lib/i18n';
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
  transport: 'auto' | 'read' | 'dmabuf';
  zeroCopy: boolean;
  bufferLength: number;
}

function readConfig(def: NodeDef): InConfig {
  const output = def.output === 'objects' || def.output === 'raw' ? def.output : 'arrays';
  const transport = def.transport === 'read' || def.transport === 'dmabuf' ? def.transport : 'auto';
  return {
    channels: Array.isArray(def.channels) ? def.channels.filter((c): c is string => typeof c === 'string' && c !== '') : [],
    buffer: intConfig(def.buffer, 0),
    trigger: typeof def.trigger === 'string' ? def.trigger.trim() : '',
    samples: Math.max(1, intConfig(def.samples, 100)),
    output,
    scaled: def.scaled === true,
    timestamps: def.timestamps !== false,
    autoStart: def.autoStart !== false,
    transport,
    zeroCopy: def.payloadMode === 'zerocopy',
    bufferLength: intConfig(def.bufferLength, 0),
  };
}

/** The channels to enable: the configured ones (or every data channel), plus the timestamp if wanted. */
function channelsFor(device: DeviceInfo, cfg: InConfig): string[] {
  const buffer = device.buffers.find((b) => b.index === cfg.buffer);
  const all = buffer ? buffer.scanElements.map((e) => e.channel) : [];
  const data = cfg.channels.length > 0 ? cfg.channels : all.filter((c) => c !== 'timestamp');
  return cfg.timestamps && all.includes('timestamp') ? [...data.filter((c) => c !== 'timestamp'), 'timestamp'] : data.filter((c) => c !== 'timestamp');
}

function scalesFor(device: DeviceInfo, channels: string[]): Record<string, ChannelScale> {
  const attrs = new AttributeDir(device.sysfsPath, device.name);
  const scales: Record<string, ChannelScale> = {};
  for (const id of channels) {
    const ch = device.channels.find((c) => c.direction === 'in' && c.id === id);
    if (!ch || id === 'timestamp') continue;
    scales[id] = {
      scale: ch.attributes.scale ? attrs.readFloatSync(ch.attributes.scale) : 1,
      offset: ch.attributes.offset ? attrs.readFloatSync(ch.attributes.offset) : 0,
    };
  }
  return scales;
}

export default function (RED: NodeAPI) {
  useCatalogs(RED);
  const context = nodeContext();
  function IioIn(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = readConfig(def);
    const dev = deviceNode(RED, def.device);
    let stream: StartedCapture['stream'] | null = null;
    let attachedTrigger: string | null = null;
    let wanted = false;
    let closed = false;
    let messages = 0;
    let runningText = '';
    let transportKind: 'read' | 'dmabuf' = 'read';
    /** start/stop/reconnect run one at a time, in order. */
    const ops = new OpQueue();

    if (!dev) {
      node.status({ fill: 'red', shape: 'ring', text: t('iio-device', 'status.noDevice') });
      node.on('input', (_msg, _send, done) => done(new Error('iio-in: no iio-device configured')));
      return;
    }

    const topic = (d: DeviceInfo) => `${d.label ?? d.name}/buffer${cfg.buffer}`;
    const stillWanted = () => wanted && !closed;

    async function doStart(): Promise<void> {
      if (stream || !stillWanted()) return;
      const device = dev!.resolve();
      attachedTrigger = (await attachTrigger(context, device, cfg.trigger, stillWanted)) ?? attachedTrigger;
      if (!stillWanted()) return doStop(); // stopped while waiting for the trigger
      const channels = channelsFor(device, cfg);
      let decoder: ScanDecoder | null = null;
      let repeats: Record<string, number> = {};
      let started: StartedCapture;
      try {
        started = startCapture(
          device,
          {
            index: cfg.buffer,
            channels,
            scansPerBlock: cfg.samples,
            length: cfg.bufferLength || undefined,
            // Decoded outputs read the DMABUF in place; raw output copies unless zero-copy is asked for.
            payload: cfg.output !== 'raw' ? 'borrow' : cfg.zeroCopy ? 'zerocopy' : 'copy',
            onBlock: (b) => deliver(device, started.stream, decoder!, repeats, b),
            onError: (err) => {
              reportError(node, err);
              void ops.run(doStop);
            },
          },
          cfg.transport,
        );
      } catch (err) {
        detachOurTrigger();
        throw err;
      }
      decoder = new ScanDecoder(started.stream.layout, cfg.scaled ? { scales: scalesFor(device, channels) } : {});
      repeats = Object.fromEntries(started.stream.layout.elements.map((e) => [e.name, e.type.repeat]));
      stream = started.stream;
      transportKind = started.transport;
      // The status says what the user chose or lost; the kernel's reason goes to the log.
      runningText = t('iio-in', started.transport === 'dmabuf' ? 'status.runningDmabuf' : started.fallback ? 'status.runningFallback' : 'status.running');
      if (started.fallback) node.log(t('iio-in', 'status.fallbackLog', { code: started.fallback }));
      node.status({ fill: 'green', shape: 'dot', text: runningText });
    }

    function deliver(device: DeviceInfo, s: StartedCapture['stream'], decoder: ScanDecoder, repeats: Record<string, number>, b: CapturedBlock): void {
      const msg: NodeMessage = { topic: topic(device), transport: transportKind, scans: b.scans, sequence: b.sequence, overrun: b.overrun, overruns: s.overruns, device: deviceRef(device) };
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

    /** Detaches the trigger this node attached; a failure is reported, and the name kept to retry. */
    function detachOurTrigger(): void {
      if (!attachedTrigger) return;
      try {
        detachTrigger(() => dev!.resolve(), attachedTrigger);
        attachedTrigger = null;
      } catch (err) {
        reportError(node, err);
      }
    }

    async function doStop(): Promise<void> {
      const s = stream;
      stream = null;
      try {
        await s?.stop();
      } finally {
        detachOurTrigger();
      }
    }

    manageStream(node, dev, ops, {
      start: doStart,
      stop: doStop,
      drop: async () => {
        const s = stream;
        stream = null;
        attachedTrigger = null; // it went with the device
        await s?.stop().catch(() => undefined);
      },
      closing: () => {
        wanted = false;
        closed = true;
      },
    });

    const startWanted = () => {
      wanted = true;
      return ops.run(doStart);
    };
    if (cfg.autoStart) startWanted().catch((err) => reportError(node, err));
    else node.status({ fill: 'yellow', shape: 'ring', text: t('iio-device', 'status.stopped') });

    node.on('input', (msg, _send, done) => {
      const command = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : '';
      if (command === 'start') {
        startWanted().then(() => done(), (err) => {
          node.status({ fill: 'red', shape: 'ring', text: shortStatus(asError(err)) });
          done(asError(err));
        });
      } else if (command === 'stop') {
        wanted = false;
        ops.run(doStop).then(() => {
          if (!wanted) node.status({ fill: 'yellow', shape: 'ring', text: t('iio-device', 'status.stopped') });
          done();
        }, (err) => done(asError(err)));
      } else {
        done(new IioError({ code: 'EINVAL', detail: `iio-in: msg.payload must be "start" or "stop", not ${describeValue(msg.payload)}` }));
      }
    });
  }

  RED.nodes.registerType('iio-in', IioIn as unknown as new (def: NodeDef) => unknown);
}
