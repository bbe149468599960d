// iio-dmabuf-out: a sink that sends samples to an output (DAC) buffer through DMABUF blocks,
// streaming or cyclic, with write() as the fallback. Maps messages onto DmabufOutput/OutputStream.
import { OutputStream } from '../src/buffer';
import { DeviceInfo } from '../src/context';
import { DmabufOutput, fallsBackToReadWrite } from '../src/dmabuf';
import { IioError } from '../src/errors';
import { encodeScans, ScanLayout } from '../src/scan';
import { attachTrigger, detachTrigger } from './lib/attach-trigger';
import { asError, deviceNode, intConfig, reportError, OpQueue, manageStream, nodeContext, shortStatus } from './lib/common';
import { t, useCatalogs } from './lib/i18n';
import type { Node, NodeAPI, NodeDef } from './lib/red';

type Mode = 'streaming' | 'cyclic';

interface OutConfig {
  buffer: number;
  channels: string[];
  mode: Mode;
  blockSize: number;
  blocks: number;
  transport: 'auto' | 'dmabuf' | 'write';
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
    transport: def.transport === 'dmabuf' || def.transport === 'write' ? def.transport : 'auto',
    trigger: typeof def.trigger === 'string' ? def.trigger.trim() : '',
  };
}

/**
 * msg.payload → whole scans in the buffer's layout: per-channel arrays, one array, or a Buffer.
 * Only the first `maxScans` scans are encoded (what the node can take now: the rest would be
 * dropped anyway, and encoding a huge payload would hold the event loop); `total` says how many
 * the payload held.
 */
export function encodePayload(layout: ScanLayout, payload: unknown, maxScans = Infinity): { data: Buffer; total: number } {
  if (Buffer.isBuffer(payload)) {
    if (payload.length === 0 || payload.length % layout.scanBytes !== 0) {
      throw new IioError({ code: 'EINVAL', detail: `a Buffer payload must hold whole ${layout.scanBytes}-byte scans, not ${payload.length} bytes` });
    }
    const total = payload.length / layout.scanBytes;
    return { data: payload.subarray(0, Math.min(total, maxScans) * layout.scanBytes), total };
  }
  const data = layout.elements.filter((e) => !e.isTimestamp);
  let values: Record<string, ArrayLike<number | bigint>>;
  if (Array.isArray(payload) || ArrayBuffer.isView(payload)) {
    if (data.length !== 1) throw new IioError({ code: 'EINVAL', detail: `an array payload needs exactly one enabled channel; ${data.length} are enabled: send {channel: [...]}` });
    values = { [data[0].name]: payload as unknown as ArrayLike<number> };
  } else if (payload && typeof payload === 'object') {
    values = payload as Record<string, ArrayLike<number | bigint>>;
  } else {
    throw new IioError({ code: 'EINVAL', detail: 'msg.payload must be per-channel arrays, an array, a typed array or a Buffer' });
  }
  const counts = data.map((e) => {
    const v = values[e.name];
    if (!v || typeof v.length !== 'number') throw new IioError({ code: 'EINVAL', detail: `msg.payload has no array for channel "${e.name}"` });
    return v.length / e.type.repeat;
  });
  const scans = counts[0];
  if (!Number.isInteger(scans) || scans < 1 || counts.some((c) => c !== scans)) {
    throw new IioError({ code: 'EINVAL', detail: `every channel needs the same number of samples (got ${data.map((e, i) => `${e.name}: ${counts[i]}`).join(', ')})` });
  }
  return { data: encodeScans(layout, values, Math.min(scans, maxScans)), total: scans };
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
    let out: DmabufOutput | OutputStream | null = null;
    let kind: 'DMABUF' | 'write()' = 'DMABUF';
    let attachedTrigger: string | null = null;
    let wanted = true;
    let closed = false;
    /** start/stop/reconnect and the messages run one at a time, in order. */
    const ops = new OpQueue();
    /** Blocks waiting for room (streaming); bounded, beyond that input is dropped. */
    const pending: Buffer[] = [];
    const pendingLimit = cfg.blocks * 2;
    let drops = 0;
    /** Cyclic over write(): the node itself keeps the kernel buffer topped up with this block. */
    let cyclicBlock: Buffer | null = null;
    /** Cyclic over DMABUF: the newest block waiting for a free DMABUF (older ones are superseded). */
    let nextCyclic: Buffer | null = null;

    if (!dev) {
      node.status({ fill: 'red', shape: 'ring', text: t('iio-device', 'status.noDevice') });
      node.on('input', (_m, _s, done) => done(new Error('iio-dmabuf-out: no iio-device configured')));
      return;
    }

    const stillWanted = () => wanted && !closed;
    /** The code of the last message refused while the output kept running (shown after the mode). */
    let lastRefused = '';
    const showStatus = () => {
      let text = t('iio-dmabuf-out', 'status.running', { mode: t('iio-dmabuf-out', `status.mode.${cfg.mode}`), transport: kind, queue: pending.length });
      if (drops) text = t('iio-dmabuf-out', 'status.dropped', { text, count: drops });
      if (lastRefused) text = t('iio-dmabuf-out', 'status.refused', { text, code: lastRefused });
      node.status({ fill: drops || lastRefused ? 'yellow' : 'green', shape: 'dot', text });
    };

    /** Sends what fits now: pending blocks (streaming) or the repeated block (cyclic). */
    function flush(): void {
      if (!out) return;
      if (out instanceof OutputStream) {
        while (pending.length > 0 && out.queued < cfg.blocks) out.write(pending.shift()!);
        if (cyclicBlock) while (out.queued < cfg.blocks) out.write(cyclicBlock);
      } else {
        if (nextCyclic && out.write(nextCyclic, true)) nextCyclic = null;
        while (pending.length > 0 && out.write(pending[0], false)) pending.shift();
      }
      showStatus();
    }

    async function doStart(): Promise<void> {
      if (out || !stillWanted()) return;
      const device: DeviceInfo = dev!.resolve();
      attachedTrigger = (await attachTrigger(context, device, cfg.trigger, stillWanted)) ?? attachedTrigger;
      if (!stillWanted()) return doStop();
      const setup = {
        index: cfg.buffer,
        channels: cfg.channels.length > 0 ? cfg.channels : undefined,
        scansPerBlock: cfg.blockSize,
        length: cfg.blockSize * cfg.blocks,
        blocks: cfg.blocks,
        queueLimit: cfg.blocks,
        onError: (err: IioError) => {
          reportError(node, err);
          void ops.run(doStop);
        },
        onDrain: () => flush(),
      };
      try {
        if (cfg.transport !== 'write') {
          const d = new DmabufOutput(device, setup);
          try {
            d.start();
            out = d;
            kind = 'DMABUF';
          } catch (err) {
            if (cfg.transport === 'dmabuf' || !fallsBackToReadWrite(err)) throw err;
          }
        }
        if (!out) {
          const w = new OutputStream(device, setup);
          w.start();
          out = w;
          kind = 'write()';
        }
      } catch (err) {
        detachOurTrigger();
        throw err;
      }
      showStatus();
    }

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
      const o = out;
      out = null;
      pending.length = 0;
      cyclicBlock = null;
      nextCyclic = null;
      try {
        await o?.stop();
      } finally {
        detachOurTrigger();
      }
    }

    function send(payload: unknown): void {
      const o = out!;
      const blockBytes = cfg.blockSize * o.layout.scanBytes;
      // Streaming takes what fits in the queue; cyclic one block (more is refused, not encoded).
      const room = cfg.mode === 'cyclic' ? cfg.blockSize + 1 : Math.max(0, pendingLimit - pending.length) * cfg.blockSize;
      const { data, total } = encodePayload(o.layout, payload, room);
      if (cfg.mode === 'cyclic') {
        if (total > cfg.blockSize) {
          throw new IioError({ code: 'EINVAL', detail: `a cyclic block holds at most ${cfg.blockSize} scans (Block size); got ${total}` });
        }
        if (o instanceof DmabufOutput) {
          // No free DMABUF yet (the previous cyclic block completes once the device moves on):
          // keep only the newest, sent as soon as a block frees up.
          nextCyclic = Buffer.from(data);
          flush();
        } else {
          cyclicBlock = Buffer.from(data);
          flush();
        }
        showStatus();
        return;
      }
      for (let off = 0; off < data.length; off += blockBytes) {
        const chunk = data.subarray(off, Math.min(off + blockBytes, data.length));
        if (pending.length >= pendingLimit) {
          drops++;
          continue;
        }
        pending.push(o instanceof DmabufOutput ? chunk : Buffer.from(chunk));
      }
      // Blocks beyond the queue's room were never encoded: count them as dropped too.
      drops += Math.ceil((total * o.layout.scanBytes - data.length) / blockBytes);
      flush();
    }

    manageStream(node, dev, ops, {
      start: doStart,
      stop: doStop,
      drop: async () => {
        const o = out;
        out = null;
        attachedTrigger = null; // it went with the device
        await o?.stop().catch(() => undefined);
      },
      closing: () => {
        wanted = false;
        closed = true;
      },
    });
    ops.run(doStart).catch((err) => reportError(node, err));

    node.on('input', (msg, _send, done) => {
      if (msg.payload === 'stop') {
        wanted = false;
        ops.run(doStop).then(() => {
          if (!wanted) node.status({ fill: 'yellow', shape: 'ring', text: t('iio-device', 'status.stopped') });
          done();
        }, (err) => done(asError(err)));
        return;
      }
      wanted = true;
      ops
        .run(async () => {
          if (!out) await doStart();
          if (msg.payload === 'start') return;
          if (!out) throw new IioError({ code: 'EPIPE', detail: 'the output is not running' });
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
          if (out) {
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
