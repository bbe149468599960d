// iio-device: the config node for one IIO device. Finds it by name and/or label (stable across
// boots; the iio:deviceN id only as a fallback), shares the device among the nodes using it,
// owns the device's one event fd, and watches for the device disappearing and coming back.
import type { DeviceSelector } from '../src/context';
import type { Device } from '../src/device';
import type { EventStream, IioEvent } from '../src/events';
import { DeviceHandle } from '../src/device';
import { IioError, toIioError } from '../src/errors';
import type { IioContext } from '../src/context';
import { parseUri, formatUri } from '../src/iiod/uri';
import { RemoteBoard } from '../src/iiod/board';
import { registerAdminEndpoints } from './lib/admin';
import type { Node, NodeAPI, NodeDef, NodeStatus } from './lib/red';
import { nodeContext, configText, shortStatus } from './lib/common';
import { t, useCatalogs } from './lib/i18n';

/** What a node using the device implements. */
export interface DeviceUser {
  /** The device is (again) present: (re)start what was running. */
  deviceConnected?(device: Device): void;
  /** The device vanished: stop using it (its fds are dead), keep the flow running. */
  deviceDisconnected?(err: IioError): void | Promise<void>;
  status(status: NodeStatus): void;
  /** The user runs buffers on the chardev: the config node keeps it open while such a user is registered. */
  usesChardev?: boolean;
}

export type EventListener = (events: IioEvent[]) => void;

export interface IioDeviceNode extends Node {
  selector: DeviceSelector;
  /** Where the device lives: `local:` or `ip:HOST[:PORT]` (a board's iiod). */
  readonly uri: string;
  /** The context the device is in: the local one, or the board's while it is connected. */
  context(): IioContext;
  /** Looks the device up now (a sysfs scan), or throws ENOENT naming the selector. */
  resolve(): Device;
  /** The device as last found, looking it up only when it is not known to be present. */
  device(): Device;
  /**
   * The device, checked to be still at its sysfs path (name and label), else looked up afresh: a
   * replug can renumber iio:deviceN before the watcher notices. For sysfs access by path.
   */
  current(): Device;
  readonly connected: boolean;
  /** A board's wait before its next reconnect after a failure now (ms); 0 for a local device. */
  readonly retryDelayMs: number;
  register(user: DeviceUser): void;
  /**
   * `user` is done with the device. `lastWork` is what it still does with it while closing (a
   * detach on a board): a closing device node lets it finish before dropping the connection.
   */
  deregister(user: DeviceUser, lastWork?: Promise<unknown>): void;
  /** Delivers this device's events to `listener`; the event fd is open while any listener is. */
  addEventListener(listener: EventListener, onError: (err: IioError) => void): void;
  removeEventListener(listener: EventListener): Promise<void>;
}

/** How often the presence of the device is checked (ms). */
const WATCH_INTERVAL_MS = 2000;
/** How long a closing device node waits for its users' last work (Node-RED's own limit is 15 s). */
const LAST_WORK_MS = 5000;

export default function (RED: NodeAPI) {
  useCatalogs(RED);
  const context = nodeContext();

  function IioDevice(this: IioDeviceNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    node.selector = {
      name: configText(def.deviceName) || undefined,
      label: configText(def.deviceLabel) || undefined,
      id: configText(def.deviceId) || undefined,
    };
    let uriError: IioError | null = null;
    let uri: ReturnType<typeof parseUri> = { kind: 'local' };
    try {
      uri = parseUri(configText(def.uri) || undefined);
    } catch (err) {
      uriError = toIioError(err);
      node.error(uriError);
    }
    (node as { uri: string }).uri = formatUri(uri);
    const users = new Set<DeviceUser>();
    const listeners = new Map<EventListener, (err: IioError) => void>();
    let events: EventStream | null = null;
    let present: Device | null = null;

    /** Set by a disconnect, cleared by the connect that tells the users. */
    let lost = false;
    /** The board of a remote device, kept connected while the node lives. */
    let board: RemoteBoard | null = null;
    const deviceName = () => node.selector.label ?? node.selector.name ?? node.selector.id ?? '?';
    const remote = uri.kind === 'ip';
    node.context = () => {
      if (uriError) throw uriError;
      if (!remote) return context;
      // Closed: never fall back to this machine's device of the same name.
      if (!board) throw new IioError({ code: 'ECANCELED', errno: 125, device: deviceName(), detail: `the connection to ${node.uri} was closed` });
      if (board.context) return board.context;
      const why = board.lastError;
      // The first attempt is still under way: the users start when it connects.
      if (!why) throw new IioError({ code: 'EINPROGRESS', errno: 115, device: deviceName(), detail: `connecting to the board at ${node.uri}` });
      throw new IioError({ code: why.code, errno: why.errno, device: deviceName(), detail: `the board at ${node.uri} is not connected (${why.message})` });
    };
    node.resolve = () => {
      const d = node.context().findDevice(node.selector);
      // Found again by a user's own lookup before the watcher saw it come back: still tell every
      // user (else the watcher, finding it present, never would and nothing would restart).
      if (lost) connect(d);
      present = d;
      holdHandle();
      return d;
    };

    /**
     * The device's chardev, held by this node while a stream user is registered and the device is
     * present (opened on the first such register, closed on the last deregister or a disconnect),
     * as 10-mqtt.js holds its broker connection. The kernel admits one opener: the runtime's one
     * context shares the open chardev among this node, its streams and any other config node of
     * the same device. A failure to open it (EBUSY: another process has it) is shown to every user.
     */
    let handle: DeviceHandle | null = null;
    function holdHandle(): void {
      if (handle || closed || remote || !present || ![...users].some((u) => u.usesChardev)) return;
      try {
        handle = present.openHandle();
      } catch (err) {
        const e = toIioError(err);
        node.warn(e.message); // the kernel detail goes to the log; the users show it in words
        for (const u of users) u.status({ fill: 'red', shape: 'ring', text: shortStatus(e) });
      }
    }
    function dropHandle(): void {
      const h = handle;
      handle = null;
      try {
        h?.close();
      } catch (err) {
        node.warn(err); // close(2) released the fd anyway
      }
    }
    node.device = () => present ?? node.resolve();
    Object.defineProperty(node, 'connected', { get: () => present !== null });
    Object.defineProperty(node, 'retryDelayMs', { get: () => board?.retryDelayMs ?? 0 });

    // Only reads: connecting and disconnecting (and telling the users) stay with the watcher.
    node.current = () => (present?.isStillThere() ? present : node.context().findDevice(node.selector));

    const disconnect = async (why: IioError) => {
      present = null;
      lost = true;
      dropHandle(); // the device is gone: its fd is dead
      await stopEvents();
      for (const u of users) {
        u.status({ fill: 'red', shape: 'ring', text: t('iio-device', 'status.disconnected') });
        try {
          await u.deviceDisconnected?.(why);
        } catch (err) {
          node.warn(err);
        }
      }
    };

    const connect = (d: Device) => {
      present = d;
      lost = false;
      lookupError = '';
      holdHandle();
      if (listeners.size > 0) startEvents();
      // Every user hears it; a stream node then shows its own running status over this one.
      for (const u of users) {
        u.status({ fill: 'green', shape: 'ring', text: t('iio-device', 'status.connected') });
        u.deviceConnected?.(d);
      }
    };
    /** The last lookup failure other than absence (EACCES…), pushed to the users once. */
    let lookupError = '';

    const watch = setInterval(() => {
      if (users.size === 0 || remote || uriError) return;
      if (present && !present.isStillThere()) {
        const gone = new IioError({ code: 'ENODEV', errno: 19, device: present.name, path: present.sysfsPath, detail: 'the IIO device disappeared' });
        void disconnect(gone);
      } else if (!present) {
        try {
          connect(context.findDevice(node.selector));
        } catch (err) {
          // Absent is what the "disconnected" status already says; anything else is worth showing.
          const e = toIioError(err);
          if (e.code !== 'ENOENT' && e.code !== lookupError) {
            lookupError = e.code;
            node.warn(e.message);
            for (const u of users) u.status({ fill: 'red', shape: 'ring', text: shortStatus(e) });
          }
        }
      }
    }, WATCH_INTERVAL_MS);
    watch.unref?.();

    node.register = (user) => {
      users.add(user);
      holdHandle();
    };
    /** Users' last work on the device, which its close waits for. */
    const lastWork = new Set<Promise<unknown>>();
    node.deregister = (user, work) => {
      users.delete(user);
      if (work) {
        const settled = work.catch(() => undefined);
        lastWork.add(settled);
        void settled.finally(() => lastWork.delete(settled));
      }
      if (![...users].some((u) => u.usesChardev)) dropHandle();
    };

    const dispatch = (batch: IioEvent[]) => {
      for (const l of listeners.keys()) {
        try {
          l(batch);
        } catch (err) {
          listeners.get(l)?.(toIioError(err));
        }
      }
    };
    const fail = (err: IioError) => {
      for (const onError of listeners.values()) onError(err);
    };

    function startEvents() {
      if (events) return;
      if (remote) throw new IioError({ code: 'ENOTSUP', errno: 95, device: deviceName(), detail: `IIO events are not available over iiod (${node.uri}): its protocol (0.24) has no event commands` });
      const d = present ?? node.resolve();
      events = d.openEvents({ onEvents: dispatch, onError: fail });
    }
    async function stopEvents() {
      const s = events;
      events = null;
      await s?.close();
    }

    let closed = false;
    node.addEventListener = (listener, onError) => {
      if (closed) return;
      listeners.set(listener, onError);
      try {
        startEvents();
      } catch (err) {
        listeners.delete(listener);
        throw err;
      }
    };
    node.removeEventListener = async (listener) => {
      listeners.delete(listener);
      if (listeners.size === 0) await stopEvents();
    };

    if (uri.kind === 'ip') {
      // The board's presence is its connection: lost, the users hear why (host and device named).
      const remoteError = (e: IioError) =>
        new IioError({ code: e.code, errno: e.errno, device: deviceName(), detail: `the board at ${node.uri} is unreachable (${e.message})`, cause: e });
      board = new RemoteBoard(uri, {
        connected(ctx) {
          try {
            connect(ctx.findDevice(node.selector));
          } catch (err) {
            const e = toIioError(err);
            node.warn(e.message);
            for (const u of users) u.status({ fill: 'red', shape: 'ring', text: shortStatus(e) });
          }
        },
        disconnected: (e) => (present || !lost ? disconnect(remoteError(e)) : undefined),
        unreachable(e) {
          // Shown once per kind of failure, like a local lookup error.
          if (e.code === lookupError) return;
          lookupError = e.code;
          node.warn(remoteError(e).message);
          for (const u of users) u.status({ fill: 'red', shape: 'ring', text: t('iio-device', 'status.disconnected') });
        },
      });
      board.start();
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      clearInterval(watch);
      // Node-RED closes every node in one turn: the users' last work (a detach over the board's
      // connection) is handed over in it, whichever closes first, and still needs the connection.
      let waited: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((resolve) => {
        waited = setTimeout(resolve, LAST_WORK_MS);
        setImmediate(() => void Promise.all(lastWork).then(() => resolve()));
      });
      bounded
        .then(() => {
          clearTimeout(waited);
          const b = board;
          board = null;
          dropHandle();
          listeners.clear();
          return Promise.all([stopEvents(), b?.close()]);
        })
        .catch((err) => node.warn(err))
        .finally(done);
    });
  }

  RED.nodes.registerType('iio-device', IioDevice as unknown as new (def: NodeDef) => unknown);
  registerAdminEndpoints(RED, context);
}
