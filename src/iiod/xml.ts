// A small XML reader for the one document iiod sends: libiio's context description. Elements and
// attributes only (the description has no text content); the prolog, comments and the DOCTYPE with
// its internal subset are skipped. Anything malformed is an XmlError naming the offset.

/** Not the document iiod sends: the client turns it into EPROTO naming the session. */
export class XmlError extends Error {
  override readonly name = 'XmlError';
}

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

/** Deeper than libiio's context → device → channel → attribute needs, with room to spare. */
const MAX_DEPTH = 32;
const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Parses `text` into its root element. */
export function parseXml(text: string): XmlElement {
  return new XmlReader(text).document();
}

class XmlReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  document(): XmlElement {
    this.skipMisc();
    if (this.text.startsWith('<!DOCTYPE', this.pos)) {
      this.skipDoctype();
      this.skipMisc();
    }
    const root = this.element(0);
    this.skipMisc();
    if (this.pos < this.text.length) throw this.fail('content after the root element');
    return root;
  }

  private fail(why: string): XmlError {
    return new XmlError(`context XML at offset ${this.pos}: ${why}`);
  }

  /** Whitespace, `<?…?>` and comments. */
  private skipMisc(): void {
    for (;;) {
      while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos])) this.pos++;
      if (this.text.startsWith('<?', this.pos)) this.skipPast('?>');
      else if (this.text.startsWith('<!--', this.pos)) this.skipPast('-->');
      else return;
    }
  }

  private skipPast(end: string): void {
    const at = this.text.indexOf(end, this.pos);
    if (at < 0) throw this.fail(`missing "${end}"`);
    this.pos = at + end.length;
  }

  /** `<!DOCTYPE name [ … ]>`: the internal subset's declarations hold no `]`. */
  private skipDoctype(): void {
    const bracket = this.text.indexOf('[', this.pos);
    const close = this.text.indexOf('>', this.pos);
    if (close < 0) throw this.fail('unterminated DOCTYPE');
    if (bracket >= 0 && bracket < close) {
      this.pos = bracket;
      this.skipPast(']');
      while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos])) this.pos++;
      if (this.text[this.pos] !== '>') throw this.fail('expected ">" after the DOCTYPE subset');
      this.pos++;
    } else {
      this.pos = close + 1;
    }
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.text);
    if (!m) throw this.fail('expected a name');
    this.pos += m[0].length;
    return m[0];
  }

  private spaces(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos])) this.pos++;
    return this.pos > start;
  }

  private element(depth: number): XmlElement {
    if (depth >= MAX_DEPTH) throw this.fail(`elements nested deeper than ${MAX_DEPTH}`);
    if (this.text[this.pos] !== '<') throw this.fail('expected "<"');
    this.pos++;
    const el: XmlElement = { name: this.name(), attrs: Object.create(null) as Record<string, string>, children: [] };
    for (;;) {
      const spaced = this.spaces();
      if (this.text.startsWith('/>', this.pos)) {
        this.pos += 2;
        return el;
      }
      if (this.text[this.pos] === '>') {
        this.pos++;
        break;
      }
      if (!spaced) throw this.fail(`expected whitespace, ">" or "/>" in <${el.name}>`);
      const attr = this.name();
      this.spaces();
      if (this.text[this.pos] !== '=') throw this.fail(`expected "=" after ${attr}`);
      this.pos++;
      this.spaces();
      if (attr in el.attrs) throw this.fail(`attribute ${attr} twice in <${el.name}>`);
      el.attrs[attr] = this.quoted();
    }
    for (;;) {
      const lt = this.text.indexOf('<', this.pos);
      if (lt < 0) throw this.fail(`<${el.name}> is not closed`);
      if (this.text.slice(this.pos, lt).trim() !== '') throw this.fail(`unexpected text in <${el.name}>`);
      this.pos = lt;
      if (this.text.startsWith('<!--', this.pos)) {
        this.skipPast('-->');
      } else if (this.text.startsWith('</', this.pos)) {
        this.pos += 2;
        const end = this.name();
        if (end !== el.name) throw this.fail(`</${end}> closes <${el.name}>`);
        this.spaces();
        if (this.text[this.pos] !== '>') throw this.fail(`expected ">" in </${end}>`);
        this.pos++;
        return el;
      } else {
        el.children.push(this.element(depth + 1));
      }
    }
  }

  private quoted(): string {
    const q = this.text[this.pos];
    if (q !== '"' && q !== "'") throw this.fail('expected a quoted value');
    const end = this.text.indexOf(q, this.pos + 1);
    if (end < 0) throw this.fail('unterminated attribute value');
    const raw = this.text.slice(this.pos + 1, end);
    if (raw.includes('<')) throw this.fail('"<" in an attribute value');
    this.pos = end + 1;
    return raw.replace(/&([^;]{0,10});/g, (whole, ref: string) => this.entity(ref, whole));
  }

  private entity(ref: string, whole: string): string {
    if (ref in ENTITIES) return ENTITIES[ref];
    const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
    const code = m ? parseInt(m[1] ?? m[2], m[1] ? 16 : 10) : NaN;
    if (!(code >= 0 && code <= 0x10ffff)) throw this.fail(`unknown entity ${whole}`);
    return String.fromCodePoint(code);
  }
}
