// iio-device: the config node for one IIO device. Finds it by name and/or label (stable across
// boots; the iio:deviceN id only as a fallback), shares the device among the nodes using it,
// owns the device's one event fd, and watches for the device disappearing and coming back.
import { DeviceInfo, DeviceSelector } from '../src/context';
import { EventStream, IioEvent } from '../src/events';
import { IioError } from '../src/errors';
import { registerAdminEndpoints } from './lib/admin';
import type { Node, NodeAPI, NodeDef, NodeStatus } from './lib/red';
import { nodeContext, configText } from './lib/common';
import { t, useCatalogs } from './lib/i18n';

/** What a node using the device implements. */
export interface DeviceUser {
  /** The device is (again) present: (re)start what was running. */
  deviceConnected?(device: DeviceInfo): void;
  /** The device vanished: stop using it (its fds are dead), keep the flow running. */
  deviceDisconnected?(err: IioError): void | Promise<void>;
  status(status: NodeStatus): void;
}

export type EventListener = (events: IioEvent[]) => void;

export interface IioDeviceNode extends Node {
  selector: DeviceSelector;
  /** Looks the device up now (a sysfs scan), or throws ENOENT naming the selector. */
  resolve(): DeviceInfo;
  /** The device as last found, looking it up only when it is not known to be present. */
  device(): DeviceInfo;
  /**
   * The device, checked to be still at its sysfs path (name and label), else looked up afresh: a
   * replug can renumber iio:deviceN before the watcher notices. For sysfs access by path.
   */
  current(): DeviceInfo;
  readonly connected: boolean;
  register(user: DeviceUser): void;
  deregister(user: DeviceUser): void;
  /** Delivers this device's events to `listener`; the event fd is open while any listener is. */
  addEventListener(listener: EventListener, onError: (err: IioError) => void): void;
  removeEventListener(listener: EventListener): Promise<void>;
}

/** How often the presence of the device is checked (ms). */
const WATCH_INTERVAL_MS = 2000;

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
    const users = new Set<DeviceUser>();
    const listeners = new Map<EventListener, (err: IioError) => void>();
    let events: EventStream | null = null;
    let present: DeviceInfo | null = null;

    node.resolve = () => {
      const d = context.findDevice(node.selector);
      present = d;
      return d;
    };
    node.device = () => present ?? node.resolve();
    Object.defineProperty(node, 'connected', { get: () => present !== null });

    const stillThere = (d: DeviceInfo) => {
      const now = context.identify(d.id);
      return now !== null && !now.error && now.name === d.name && now.label === d.label;
    };
    // Only reads: connecting and disconnecting (and telling the users) stay with the watcher.
    node.current = () => (present && stillThere(present) ? present : context.findDevice(node.selector));

    const disconnect = async (why: IioError) => {
      present = null;
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

    const connect = (d: DeviceInfo) => {
      present = d;
      if (listeners.size > 0) startEvents();
      for (const u of users) u.deviceConnected?.(d);
    };

    const watch = setInterval(() => {
      if (users.size === 0) return;
      if (present && !stillThere(present)) {
        const gone = new IioError({ code: 'ENODEV', errno: 19, device: present.name, path: present.sysfsPath, detail: 'the IIO device disappeared' });
        void disconnect(gone);
      } else if (!present) {
        try {
          connect(context.findDevice(node.selector));
        } catch {
          /* still absent */
        }
      }
    }, WATCH_INTERVAL_MS);
    watch.unref?.();

    node.register = (user) => {
      users.add(user);
    };
    node.deregister = (user) => {
      users.delete(user);
    };

    const dispatch = (batch: IioEvent[]) => {
      for (const l of listeners.keys()) {
        try {
          l(batch);
        } catch (err) {
          listeners.get(l)?.(err instanceof IioError ? err : new IioError({ code: 'EIO', detail: String(err) }));
        }
      }
    };
    const fail = (err: IioError) => {
      for (const onError of listeners.values()) onError(err);
    };

    function startEvents() {
      if (events) return;
      const d = present ?? node.resolve();
      const s = new EventStream(d, { onEvents: dispatch, onError: fail });
      s.start();
      events = s;
    }
    async function stopEvents() {
      const s = events;
      events = null;
      await s?.stop();
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

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      clearInterval(watch);
      listeners.clear();
      stopEvents()
        .catch((err) => node.warn(err))
        .finally(done);
    });
  }

  RED.nodes.registerType('iio-device', IioDevice as unknown as new (def: NodeDef) => unknown);
  registerAdminEndpoints(RED, context);
}
