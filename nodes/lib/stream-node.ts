// What iio-in and iio-dmabuf-out share: one controller for a node that runs a stream on its
// device. It attaches the node's trigger, opens the stream, stops it and detaches the trigger
// again; restarts after a reconnect and lets go after a disconnect; and runs all of that, and the
// node's own operations, one after another in the order asked.
import type { IioContext } from '../../src/context';
import type { Device } from '../../src/device';
import { attachTrigger, detachTrigger } from './attach-trigger';
import { reportError, OpQueue } from './common';
import { isLinkError } from '../../src/iiod/remote-context';
import { isIioError } from '../../src/errors';
import { t } from './i18n';
import type { IioDeviceNode, DeviceUser } from '../iio-device';
import type { Node } from './red';

export interface Stream {
  close(): Promise<void>;
}

export interface StreamNodeSpec<S extends Stream> {
  /** Trigger to attach before opening ('' for none). */
  trigger: string;
  /** Opens the stream on the device (its trigger attached). `fail` reports an error of the running stream and stops it. */
  open(device: Device, fail: (err: unknown) => void): S | Promise<S>;
  /** The stream is gone (stopped or dropped): forget what was queued for it. */
  stopped?(): void;
}

export class StreamController<S extends Stream> {
  stream: S | null = null;
  private attachedTrigger: string | null = null;
  private wanted = false;
  private closed = false;
  private readonly ops = new OpQueue();

  constructor(
    private readonly node: Node,
    private readonly dev: IioDeviceNode,
    private readonly context: IioContext,
    private readonly spec: StreamNodeSpec<S>,
  ) {
    const user: DeviceUser = {
      usesChardev: true,
      status: (st) => node.status(st),
      deviceConnected: () => {
        this.ops.run(() => this.open()).catch((err) => reportError(node, err));
      },
      deviceDisconnected: (err) => {
        // A board that went away is an error worth catching (it names host and device); a local
        // device unplugged is what the status says. The status stays the "disconnected" the config
        // node just showed: an error status here flashed between two of them.
        if (dev.uri !== 'local:') node.error(err, {});
        return this.ops.run(() => this.drop());
      },
    };
    dev.register(user);
    node.on('close', (_removed: boolean, done: () => void) => {
      this.wanted = false;
      this.closed = true;
      const closing = this.ops.run(() => this.close());
      dev.deregister(user, closing);
      closing.catch((err) => node.warn(err)).finally(() => done());
    });
  }

  private stillWanted = () => this.wanted && !this.closed;

  /** Runs `op` after every operation asked for before it. */
  run<T>(op: () => Promise<T> | T): Promise<T> {
    return this.ops.run(op);
  }

  /** The stream is wanted from now on (the next `open` opens it). */
  want(): void {
    this.wanted = true;
  }

  /** The stream is wanted from now on: opens it, in turn. */
  start(): Promise<void> {
    this.wanted = true;
    return this.ops.run(() => this.open());
  }

  /** The stream is not wanted any more: closes it, in turn. Shows "stopped" unless started again meanwhile. */
  stop(): Promise<void> {
    this.wanted = false;
    return this.ops.run(async () => {
      await this.close();
      if (!this.wanted) this.node.status({ fill: 'yellow', shape: 'ring', text: t('iio-device', 'status.stopped') });
    });
  }

  /** Opens the stream if it is wanted and not running. Call only from inside `run`. */
  async open(): Promise<void> {
    if (this.stream || !this.stillWanted()) return;
    let device: Device;
    try {
      device = this.dev.resolve();
    } catch (err) {
      // A board still being connected to: its connect opens the stream (deviceConnected).
      if (isIioError(err, 'EINPROGRESS')) {
        this.node.status({ fill: 'yellow', shape: 'ring', text: t('iio-device', 'status.connecting') });
        return;
      }
      throw err;
    }
    this.attachedTrigger = (await attachTrigger(device.context, device, this.spec.trigger, this.stillWanted, this.dev.uri !== 'local:')) ?? this.attachedTrigger;
    if (!this.stillWanted()) return this.close(); // stopped while waiting for the trigger
    try {
      const stream = await this.spec.open(device, (err) => {
        // A board's lost link is reported once, by the config node's disconnect that follows.
        if (!(this.dev.uri !== 'local:' && isLinkError(err))) reportError(this.node, err);
        void this.ops.run(() => this.close());
      });
      if (this.stream || !this.stillWanted()) await stream.close();
      else this.stream = stream;
    } catch (err) {
      await this.detachOurTrigger();
      throw err;
    }
  }

  private async close(): Promise<void> {
    const s = this.stream;
    this.stream = null;
    this.spec.stopped?.();
    try {
      await s?.close();
    } finally {
      await this.detachOurTrigger();
    }
  }

  /** The device vanished: let go of the dead stream without touching the device. */
  private async drop(): Promise<void> {
    const s = this.stream;
    this.stream = null;
    this.attachedTrigger = null; // it went with the device
    this.spec.stopped?.();
    await s?.close().catch(() => undefined);
  }

  /** Detaches the trigger this node attached; a failure is reported, and the name kept to retry. */
  private async detachOurTrigger(): Promise<void> {
    if (!this.attachedTrigger) return;
    try {
      await detachTrigger(() => this.dev.resolve(), this.attachedTrigger, this.dev.uri !== 'local:');
      this.attachedTrigger = null;
    } catch (err) {
      reportError(this.node, err);
    }
  }
}
