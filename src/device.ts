// The device's character device. /dev/iio:deviceX admits one opener, so the process keeps one
// handle per device, shared by every buffer and event user, and takes the anonymous buffer and
// event fds from it by ioctl.
import { kernel } from './local-backend';
import { IioError } from './errors';
import { IIO_BUFFER_GET_FD_IOCTL, IIO_GET_EVENT_FD_IOCTL, INT_SIZE, decodeInt, encodeInt, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_RDWR } from './uapi';
import type { DeviceInfo } from './context';

const handles = new Map<string, DeviceHandle>();

/** A buffer's fd: anonymous from IIO_BUFFER_GET_FD, or the chardev itself on kernels without it. */
export interface BufferFd {
  fd: number;
  /** False when `fd` is the shared chardev (buffer0 on old kernels): never close it then. */
  owned: boolean;
}

export class DeviceHandle {
  private users = 0;
  private constructor(
    readonly devPath: string,
    /** Name for messages: `name/label`, or the name alone when the device has no label. */
    readonly label: string,
    readonly fd: number,
  ) {}

  /** The process's handle on `device`, opened on first use. Pair every call with `release()`. */
  static acquire(device: DeviceInfo): DeviceHandle {
    let h = handles.get(device.devPath);
    if (!h) {
      const label = device.label ? `${device.name}/${device.label}` : device.name;
      h = new DeviceHandle(device.devPath, label, openChardev(device.devPath, label));
      handles.set(device.devPath, h);
    }
    h.users++;
    return h;
  }

  /** Number of open handles in this process (for leak checks). */
  static openCount(): number {
    return handles.size;
  }

  release(): void {
    if (this.users === 0) return;
    if (--this.users > 0) return;
    handles.delete(this.devPath);
    kernel().close(this.fd, { path: this.devPath, device: this.label });
  }

  /** Opens buffer `index` (IIO_BUFFER_GET_FD_IOCTL); non-blocking. EBUSY if it is already open. */
  openBuffer(index: number): BufferFd {
    if (!Number.isInteger(index) || index < 0 || index > 0xffff) {
      throw new IioError({ code: 'EINVAL', device: this.label, detail: `bad buffer index ${String(index)}` });
    }
    const arg = encodeInt(index);
    try {
      kernel().ioctl(this.fd, IIO_BUFFER_GET_FD_IOCTL, arg, { path: this.devPath, device: this.label, what: 'IIO_BUFFER_GET_FD_IOCTL' });
    } catch (err) {
      // Kernels before 5.11 have no GET_FD: the chardev itself reads buffer0.
      if (index === 0 && err instanceof IioError && err.code === 'ENOTTY') return { fd: this.fd, owned: false };
      throw err;
    }
    const fd = decodeInt(arg);
    kernel().setNonBlocking(fd, { path: this.devPath, device: this.label });
    return { fd, owned: true };
  }

  /** Opens the device's event fd (IIO_GET_EVENT_FD_IOCTL); non-blocking. ENODEV: no events; EBUSY: taken. */
  openEvents(): number {
    const arg = Buffer.alloc(INT_SIZE);
    kernel().ioctl(this.fd, IIO_GET_EVENT_FD_IOCTL, arg, { path: this.devPath, device: this.label, what: 'IIO_GET_EVENT_FD_IOCTL' });
    const fd = decodeInt(arg);
    kernel().setNonBlocking(fd, { path: this.devPath, device: this.label });
    return fd;
  }

  closeFd(fd: number): void {
    if (fd !== this.fd) kernel().close(fd, { path: this.devPath, device: this.label });
  }
}

function openChardev(devPath: string, label: string): number {
  const flags = O_NONBLOCK | O_CLOEXEC;
  try {
    return kernel().open(devPath, O_RDWR | flags, { device: label });
  } catch (err) {
    // Read-only permission still allows capture and events.
    if (err instanceof IioError && (err.code === 'EACCES' || err.code === 'EPERM')) return kernel().open(devPath, O_RDONLY | flags, { device: label });
    throw err;
  }
}
