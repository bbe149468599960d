// The shapes of iiod's replies that several commands share, and the check on words that go into
// a command line.
import { invalid, describeValue } from '../errors';
import { IiodConnection, CommandContext, Reply, statusError } from './connection';

// iiod splits commands at spaces and ends them at a newline: an id or a name with either would
// become another command.
const WORD = /^[\x21-\x7e]{1,255}$/;

/** Checks a word that goes into a command line; EINVAL naming it otherwise. */
export function commandWord(text: unknown, what: string, device?: string): string {
  if (typeof text !== 'string' || !WORD.test(text)) throw invalid(`${what} ${describeValue(text)}: printable ASCII without spaces expected`, { device });
  return text;
}

/** Reads a length-prefixed value (`<n>\n<n bytes>\n`) of at most `max` bytes. */
export async function readSized(conn: IiodConnection, reply: Reply, ctx: CommandContext, max: number): Promise<Buffer> {
  const n = await reply.integer();
  if (n < 0) throw statusError(conn, n, ctx);
  if (n > max) throw reply.protocolError(`the daemon announced ${n} bytes, more than the ${max} allowed`);
  const data = await reply.bytes(n);
  const nl = await reply.bytes(1);
  if (nl[0] !== 0x0a) throw reply.protocolError('no newline after the value');
  return data;
}

/** Sends one command and reads its status line: the value when >= 0, the daemon's errno otherwise. */
export function status(conn: IiodConnection, ctx: CommandContext, line: string, payload?: Buffer, timeoutMs?: number): Promise<number> {
  return conn.run(ctx, line, async (reply) => {
    if (payload) reply.send(payload);
    const v = await reply.integer();
    if (v < 0) throw statusError(conn, v, ctx);
    return v;
  }, timeoutMs);
}

