// The slice of the Node-RED runtime API these nodes use (Node-RED ≥ 4.1). Declared here rather
// than through @types/node-red, which describes Node-RED 1.x.
import type { EventEmitter } from 'events';

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export type NodeStatus = { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string } | Record<string, never>;

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  [key: string]: unknown;
}

export interface Node extends EventEmitter {
  id: string;
  type: string;
  name?: string;
  send(msg: NodeMessage | Array<NodeMessage | null> | null): void;
  status(status: NodeStatus): void;
  log(msg: unknown): void;
  warn(msg: unknown): void;
  error(err: unknown, msg?: NodeMessage): void;
  on(event: 'input', handler: (msg: NodeMessage, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => void): this;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): this;
  on(event: string, handler: (...args: never[]) => void): this;
}

type Middleware = (req: unknown, res: unknown, next: () => void) => void;

export interface HttpRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
}
export interface HttpResponse {
  json(body: unknown): void;
  status(code: number): HttpResponse;
}

export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    registerType(type: string, ctor: new (def: NodeDef) => unknown, opts?: object): void;
    getNode(id: string): unknown;
  };
  httpAdmin: {
    get(path: string, ...handlers: Array<Middleware | ((req: HttpRequest, res: HttpResponse) => void)>): void;
  };
  auth: { needsPermission(permission: string): Middleware };
  util: { cloneMessage<T>(msg: T): T };
  log: { warn(msg: unknown): void };
  _(key: string, subs?: Record<string, unknown>): string;
}
