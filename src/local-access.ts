// The local DeviceAccess: a device's attributes are files of this machine's sysfs, its buffers run
// on its chardev, both through kernel().
import { AttributeDir } from './attr';
import { openInput, openOutput } from './transport';
import { EventStream } from './events';
import type { DeviceAccess } from './device';

export const localAccess: DeviceAccess = {
  name: 'local',
  attributes: (dir, label) => new AttributeDir(dir, label),
  openInput: (buffer, opts, choice) => openInput(buffer.device, opts, choice),
  openOutput: (buffer, opts, choice) => openOutput(buffer.device, opts, choice),
  openEvents(device, opts) {
    const s = new EventStream(device, opts);
    s.start();
    return s;
  },
};
