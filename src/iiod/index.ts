// Remote boards over libiio's iiod (protocol 0.24): the client side, not yet under the nodes.
export { parseUri, formatUri, IIOD_PORT } from './uri';
export type { IioUri } from './uri';
export { RemoteContext } from './client';
export type { AttrScope, RemoteContextOptions } from './client';
export type { RemoteContextInfo, RemoteDevice, RemoteChannel, RemoteTrigger, RemoteScanElement, RemoteAttribute } from './context-xml';
export { RemoteCapture } from './capture';
export type { RemoteCaptureOptions } from './capture';
export { RemoteOutput } from './output';
export type { RemoteOutputOptions } from './output';
