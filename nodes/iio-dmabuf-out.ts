// iio-dmabuf-out: a sink that sends samples to an output (DAC) buffer through DMABUF blocks,
// streaming or cyclic, with ADI's mmap blocks, then write(), as fallbacks. Maps messages onto an Output (src/transport.ts).
import { IioError } from '../src/errors';
import { encodePayload } from '../src/scan';
import { Output, transportChoice, transportLabel, TransportChoice } from '../src/transport';
import { asError, deviceNode, intConfig, reportError, nodeContext, shortStatus } from './lib/common';
import { t, useCatalogs } from './lib/i18n';
import { StreamController } from './lib/stream-node';
import type { Node, NodeAPI, NodeDef } from './lib/red';

type Mode = 'streaming' | 'cyclic';

interface OutConfig {
  buffer: number;
  channels: string[];
  mode: Mode;
  blockSize: number;
  blocks: number;
  transport: TransportChoice;
  trigger: string;
}

/** Blocks in the pool: 2 to 64, the editor's range (DMABUF streaming needs one block in flight while one is refilled). */
export function blocksConfig(v: unknown): number {
  const n = v === undefined || v === null || v === '' ? 4 : Number(v);
  if (!Number.isInteger(n) || n < 2 || n > 64) {
    // Rejected, not clamped: a silently different pool would change latency and memory behind the user's back.
    throw new IioError({ code: 'EINVAL', detail: `iio-dmabuf-out: Blocks must be a whole number from 2 to 64, not ${JSON.stringify(v)}` });
  }
  return n;
}

function readConfig(def: NodeDef): OutConfig {
  return {
    buffer: intConfig(def.buffer, 1),
    channels: Array.isArray(def.channels) ? def.channels.filter((c): c is string => typeof c === 'string' && c !== '') : [],
    mode: def.mode === 'cyclic' ? 'cyclic' : 'streaming',
    blockSize: Math.max(1, intConfig(def.blockSize, 1024)),
    blocks: blocksConfig(def.blocks),
    transport: transportChoice(def.transport),
    trigger: typeof def.trigger === 'string' ? def.trigger.trim() : '',
  };
}

export default function (RED: NodeAPI) {
  useCatalogs(RED);
  const context = nodeContext();

  function IioDmabufOut(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let cfg: OutConfig;
    try {
      cfg = readConfig(def);
    } catch (err) {
      reportError(node, err);
      node.on('input', (_m, _s, done) => done(asError(err)));
      return;
    }
    const dev = deviceNode(RED, def.device);
    /** Blocks waiting for room (streaming); bounded, beyond that input is dropped. */
    const pending: Buffer[] = [];
    const pendingLimit = cfg.blocks * 2;
    let drops = 0;
    /** Cyclic: the newest block waiting for room (older ones are superseded). */
    let nextCyclic: Buffer | null = null;

    if (!dev) {
      node.status({ fill: 'red', shape: 'ring', text: t('iio-device', 'status.noDevice') });
      node.on('input', (_m, _s, done) => done(new Error('iio-dmabuf-out: no iio-device configured')));
      return;
    }

    /** The code of the last message refused while the output kept running (shown after the mode). */
    let lastRefused = '';
    let kind = '';
    const showStatus = () => {
      let text = t('iio-dmabuf-out', 'status.running', { mode: t('iio-dmabuf-out', `status.mode.${cfg.mode}`), transport: kind, queue: pending.length });
      if (drops) text = t('iio-dmabuf-out', 'status.dropped', { text, count: drops });
      if (lastRefused) text = t('iio-dmabuf-out', 'status.refused', { text, code: lastRefused });
      node.status({ fill: drops || lastRefused ? 'yellow' : 'green', shape: 'dot', text });
    };

    const ctl = new StreamController<Output>(node, dev, context, {
      trigger: cfg.trigger,
      open(device, fail) {
        const out = device.openOutput(
          {
            index: cfg.buffer,
            channels: cfg.channels.length > 0 ? cfg.channels : undefined,
            scansPerBlock: cfg.blockSize,
            length: cfg.blockSize * cfg.blocks,
            blocks: cfg.blocks,
            onError: fail,
            onDrain: () => flush(),
          },
          cfg.transport,
        );
        kind = transportLabel(out.transport);
        // The status names the transport; why DMABUF was not used (the kernel's code) goes to the log.
        if (out.fallback) node.log(t('iio-dmabuf-out', 'status.fallbackLog', { code: out.fallback }));
        showStatus();
        return out;
      },
      stopped() {
        pending.length = 0;
        nextCyclic = null;
      },
    });

    /** Sends what fits now: the newest cyclic block, then pending blocks. */
    function flush(): void {
      const out = ctl.stream;
      if (!out) return;
      if (nextCyclic && out.write(nextCyclic, true)) nextCyclic = null;
      while (pending.length > 0 && out.write(pending[0], false)) pending.shift();
      showStatus();
    }

    function send(payload: unknown): void {
      const o = ctl.stream!;
      const blockBytes = cfg.blockSize * o.layout.scanBytes;
      // Streaming takes what fits in the queue; cyclic one block (more is refused, not encoded).
      const room = cfg.mode === 'cyclic' ? cfg.blockSize + 1 : Math.max(0, pendingLimit - pending.length) * cfg.blockSize;
      const { data, total } = encodePayload(o.layout, payload, room);
      if (cfg.mode === 'cyclic') {
        if (total > cfg.blockSize) {
          throw new IioError({ code: 'EINVAL', detail: `a cyclic block holds at most ${cfg.blockSize} scans (Block size); got ${total}` });
        }
        // No room yet (the previous cyclic block completes once the device moves on): keep only
        // the newest, sent as soon as there is room.
        nextCyclic = Buffer.from(data);
        flush();
        return;
      }
      for (let off = 0; off < data.length; off += blockBytes) {
        if (pending.length >= pendingLimit) {
          drops++;
          continue;
        }
        pending.push(data.subarray(off, Math.min(off + blockBytes, data.length)));
      }
      // Blocks beyond the queue's room were never encoded: count them as dropped too.
      drops += Math.ceil((total * o.layout.scanBytes - data.length) / blockBytes);
      flush();
    }

    ctl.start().catch((err) => reportError(node, err));

    node.on('input', (msg, _send, done) => {
      if (msg.payload === 'stop') {
        ctl.stop().then(() => done(), (err) => done(asError(err)));
        return;
      }
      ctl.want();
      ctl
        .run(async () => {
          if (!ctl.stream) await ctl.open();
          if (msg.payload === 'start') return;
          if (!ctl.stream) throw new IioError({ code: 'EPIPE', detail: 'the output is not running' });
          send(msg.payload);
        })
        .then(() => {
          if (lastRefused) {
            lastRefused = '';
            showStatus();
          }
          done();
        }, (err) => {
          // A refused message leaves a running output running: say so, not just the error.
          if (ctl.stream) {
            lastRefused = asError(err).code;
            showStatus();
          } else {
            node.status({ fill: 'red', shape: 'ring', text: shortStatus(asError(err)) });
          }
          done(asError(err));
        });
    });
  }

  RED.nodes.registerType('iio-dmabuf-out', IioDmabufOut as unknown as new (def: NodeDef) => unknown);
}
