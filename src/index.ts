// The core's public API: everything a program needs to use IIO devices without Node-RED.
export { IioError, isIioError } from './errors';
export { IioContext, SYSFS_IIO } from './context';
export type { DeviceInfo, ChannelInfo, BufferInfo, ScanElementInfo, EventInfo, TriggerInfo, DeviceSelector } from './context';
export { AttributeDir, validateAttributeName, parseAvailable } from './attr';
export type { Available, AttributeValue } from './attr';
export { parseScanType, formatScanType, computeLayout, ScanDecoder, encodeScans, encodeScansInto } from './scan';
export type { ScanType, ScanLayout, DecodedBlock, ScaledBlock, ChannelScale } from './scan';
export { CaptureStream, OutputStream } from './buffer';
export type { CapturedBlock, CaptureOptions, OutputOptions, BufferSetup } from './buffer';
export { DmabufCapture, DmabufOutput, allocateDmabuf, isDmabufUnsupported } from './dmabuf';
export type { DmabufCaptureOptions, DmabufOutputOptions } from './dmabuf';
export { openInput, openOutput, transportLabel, transportChoice } from './transport';
export type { Input, Output, TransportChoice, TransportKind } from './transport';
export type { Backend } from './backend';
export { localBackend, useBackend } from './local-backend';
export { EventStream, eventChannelId } from './events';
export { Channel, attributesOf, triggerAttributesOf } from './channel';
export type { IioEvent } from './events';
export { decodeEventCode, encodeEventCode } from './uapi';
export {
  createHrtimerTrigger, removeHrtimerTrigger, createSysfsTrigger, removeSysfsTrigger, fireTrigger,
  setTriggerFrequency, getTriggerFrequency, getCurrentTrigger, setCurrentTrigger, waitForTrigger,
} from './trigger';
export { DeviceHandle } from './device';
export { reactor } from './reactor';
export { RemoteContext, RemoteCapture, RemoteOutput, parseUri, formatUri, IIOD_PORT } from './iiod';
export type { IioUri, AttrScope, RemoteContextInfo, RemoteDevice, RemoteChannel, RemoteTrigger, RemoteCaptureOptions, RemoteOutputOptions } from './iiod';
