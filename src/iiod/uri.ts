// libiio's context URIs, the subset this package serves: `local:` (the kernel of this machine, the
// default) and `ip:HOST[:PORT]` (an iiod daemon; IPv6 addresses in brackets, as libiio writes them).
import * as net from 'node:net';
import { invalid, describeValue } from '../errors';

/** iiod's TCP port (libiio's IIOD_PORT). */
export const IIOD_PORT = 30431;

export type IioUri = { kind: 'local' } | { kind: 'ip'; host: string; port: number };

// A DNS name (RFC 1123 labels) — what a hostname can be besides an address.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Parses a context URI; empty or absent is `local:`. Throws IioError EINVAL naming the URI. */
export function parseUri(uri: unknown): IioUri {
  if (uri === undefined || uri === null || uri === '') return { kind: 'local' };
  if (typeof uri !== 'string') throw invalid(`context URI ${describeValue(uri)}: expected a string such as "local:" or "ip:192.168.2.1"`);
  const bad = (why: string) => invalid(`context URI ${describeValue(uri)}: ${why}`);
  const colon = uri.indexOf(':');
  const scheme = colon < 0 ? '' : uri.slice(0, colon);
  const rest = uri.slice(colon + 1);
  if (scheme === 'local') {
    if (rest !== '') throw bad('"local:" takes nothing after the colon');
    return { kind: 'local' };
  }
  if (scheme !== 'ip') throw bad('use "local:" or "ip:HOST[:PORT]" (usb: and serial: contexts are not supported)');
  if (rest === '') throw bad('"ip:" needs a host: network discovery (avahi) is not supported');
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw bad('missing "]" after the IPv6 address');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw bad('expected ":PORT" after "]"');
    if (after !== '') portText = after.slice(1);
    if (!net.isIPv6(host)) throw bad(`"${host}" is not an IPv6 address`);
  } else if (net.isIPv6(rest)) {
    host = rest; // a bare IPv6 address: it has colons of its own, so no port can follow
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) throw bad('write an IPv6 address in brackets: ip:[ADDRESS]:PORT');
    host = parts[0];
    portText = parts[1];
    if (!net.isIPv4(host) && !HOSTNAME.test(host)) throw bad(`"${host}" is not a host name or address`);
  }
  return { kind: 'ip', host, port: portText === undefined ? IIOD_PORT : parsePort(portText, bad) };
}

function parsePort(text: string, bad: (why: string) => Error): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad(`port "${text}" must be a number from 1 to 65535`);
  return port;
}

/** The URI as libiio writes it (`ip:[::1]:30431` keeps the brackets). */
export function formatUri(u: IioUri): string {
  if (u.kind === 'local') return 'local:';
  const host = net.isIPv6(u.host) ? `[${u.host}]` : u.host;
  return u.port === IIOD_PORT ? `ip:${host}` : `ip:${host}:${u.port}`;
}
