/**
 * Host checks of the package's editor side: every node has its editor html (registration,
 * template, help), a message catalog covering the keys the html uses, a white-on-transparent SVG
 * icon; every example flow parses, is wired consistently and passes the editor's own
 * validation. The editor scripts are run in a sandbox with a stub RED to read the definitions.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { execFileSync } from 'node:child_process';

const ROOT = path.join(__dirname, '../../..');
const NODES_DIR = path.join(ROOT, 'nodes');
const LOCALE_DIR = path.join(NODES_DIR, 'locales', 'en-US');
const ICONS_DIR = path.join(ROOT, 'icons');
const EXAMPLES_DIR = path.join(ROOT, 'examples');
const CORE_NODES_DIR = path.join(ROOT, 'node_modules', '@node-red', 'nodes');

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  'node-red'?: { nodes?: Record<string, string> };
};
const nodesMap: Record<string, string> = pkg['node-red']?.nodes ?? {};
const htmlTypes = fs.existsSync(NODES_DIR)
  ? fs.readdirSync(NODES_DIR).filter((f) => f.endsWith('.html')).map((f) => f.slice(0, -5)).sort()
  : [];
const allTypes = [...new Set([...htmlTypes, ...Object.keys(nodesMap)])].sort();

type Json = Record<string, unknown>;

interface PropDef {
  value?: unknown;
  type?: string;
  required?: boolean;
  validate?: (this: Json, v: unknown, opt?: object) => unknown;
}

interface NodeDef {
  category?: string;
  color?: string;
  defaults: Record<string, PropDef>;
  inputs?: number;
  outputs?: number;
  icon?: string;
  label?: (this: Json) => unknown;
  paletteLabel?: unknown;
}

const RESOURCES_DIR = path.join(ROOT, 'resources');
const RESOURCE_SCRIPT = /<script type="text\/javascript" src="resources\/node-red-contrib-iio\/([\w.-]+)"><\/script>/g;

/** A node's html as the editor runs it: the package's resources/ scripts it loads, inline where they stand. */
function readHtml(type: string): string {
  return fs.readFileSync(path.join(NODES_DIR, `${type}.html`), 'utf8')
    .replace(RESOURCE_SCRIPT, (_m, file: string) => `<script type="text/javascript">${fs.readFileSync(path.join(RESOURCES_DIR, file), 'utf8')}</script>`);
}

function scriptBlocks(html: string, attr: string): Array<{ name: string; body: string }> {
  const re = new RegExp(`<script type="text/html" ${attr}="([^"]+)">([\\s\\S]*?)</script>`, 'g');
  return [...html.matchAll(re)].map((m) => ({ name: m[1], body: m[2] }));
}

/** The nodes of the flow a validator or label function may look up (RED.nodes.node). */
let flowNodes: Map<string, Json> = new Map();

/** Runs a node html's JavaScript with a stub editor API and returns what it registered. */
function loadDefinitions(html: string): Map<string, NodeDef> {
  const registered = new Map<string, NodeDef>();
  const RED = {
    nodes: {
      registerType(type: string, def: NodeDef) {
        assert.ok(!registered.has(type), `${type} registered twice`);
        registered.set(type, def);
      },
      node: (id: string) => flowNodes.get(id) ?? null,
      getType: (type: string) => registered.get(type) ?? null,
      eachNode: (fn: (n: Json) => void) => { flowNodes.forEach((n) => fn(n)); },
    },
    _: (key: string) => key,
    validators: {},
  };
  // Only the editor form is missing: $(selector) finds no element.
  const $ = () => ({ length: 0, val: () => undefined, prop: () => undefined });
  const sandbox = { RED, $, window: {} as Json, console };
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  for (const js of scripts) {
    vm.runInNewContext(js, sandbox, { timeout: 2000 });
  }
  return registered;
}

function loadDefinition(type: string): NodeDef {
  const defs = loadDefinitions(readHtml(type));
  const def = defs.get(type);
  assert.ok(def, `${type}.html does not register ${type}`);
  return def;
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function lookup(catalog: unknown, key: string): unknown {
  let cur: unknown = catalog;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in (cur as Json))) {
      return undefined;
    }
    cur = (cur as Json)[part];
  }
  return cur;
}

/** The message keys an html uses: data-i18n attributes, this._/node._ calls, RED._(NS + ...), shared t(). */
function usedKeys(type: string, html: string): Array<{ ns: string; key: string }> {
  const out: Array<{ ns: string; key: string }> = [];
  for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) {
    for (const entry of m[1].split(';')) {
      const key = entry.replace(/^\[[^\]]+\]/, '');
      const colon = key.indexOf(':');
      out.push(colon === -1 ? { ns: type, key } : { ns: key.slice(0, colon), key: key.slice(colon + 1) });
    }
  }
  for (const m of html.matchAll(/\b_\(\s*"([^"]+)"\s*[,)]/g)) {
    const colon = m[1].indexOf(':');
    out.push(colon === -1 ? { ns: type, key: m[1] } : { ns: m[1].slice(0, colon), key: m[1].slice(colon + 1) });
  }
  for (const m of html.matchAll(/NS \+ "([^"]+)"/g)) {
    out.push({ ns: type, key: `${type}.${m[1]}` });
  }
  for (const m of html.matchAll(/\b(?:iio\.)?t\("([^"]+)"/g)) {
    out.push({ ns: 'iio-device', key: `iio-device.${m[1]}` });
  }
  // "node-red-contrib-iio/<set>" is this package's namespace of the node set <set>
  return out.map((k) => (k.ns.startsWith(`${pkg.name}/`) ? { ns: k.ns.slice(pkg.name.length + 1), key: k.key } : k));
}

/** A small XML well-formedness check; returns the root element and all elements' attributes. */
function parseXml(text: string): { root: string; elements: Array<{ name: string; attrs: Record<string, string> }> } {
  const src = text.replace(/^\uFEFF/, '').replace(/<\?xml[\s\S]*?\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
  const attrRe = /([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/g;
  const stack: string[] = [];
  const elements: Array<{ name: string; attrs: Record<string, string> }> = [];
  let root = '';
  let closedRoot = false;
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const textEnd = lt === -1 ? src.length : lt;
    const chunk = src.slice(i, textEnd);
    if (chunk.trim() !== '' && stack.length === 0) {
      throw new Error(`text outside the root element: ${chunk.trim().slice(0, 20)}`);
    }
    if (/&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)/.test(chunk)) {
      throw new Error('unescaped &');
    }
    if (lt === -1) {
      break;
    }
    tag.lastIndex = lt;
    const m = tag.exec(src);
    if (!m) {
      throw new Error(`malformed tag at ${lt}: ${src.slice(lt, lt + 30)}`);
    }
    const [, closing, name, attrText, selfClosing] = m;
    if (closing) {
      if (attrText.trim() !== '' || selfClosing) {
        throw new Error(`malformed closing tag </${name}>`);
      }
      const open = stack.pop();
      if (open !== name) {
        throw new Error(`</${name}> closes <${open ?? 'nothing'}>`);
      }
      if (stack.length === 0) {
        closedRoot = true;
      }
    } else {
      if (closedRoot) {
        throw new Error(`second root element <${name}>`);
      }
      const attrs: Record<string, string> = {};
      for (const a of attrText.matchAll(attrRe)) {
        if (a[1] in attrs) {
          throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
        }
        attrs[a[1]] = a[2] ?? a[3] ?? '';
      }
      elements.push({ name, attrs });
      if (!root) {
        root = name;
      }
      if (!selfClosing) {
        stack.push(name);
      } else if (stack.length === 0) {
        closedRoot = true;
      }
    }
    i = tag.lastIndex;
  }
  if (stack.length) {
    throw new Error(`unclosed <${stack[stack.length - 1]}>`);
  }
  if (!root) {
    throw new Error('no root element');
  }
  return { root, elements };
}

/** Node types of the Node-RED core (from the installed @node-red/nodes). */
function coreTypes(): Set<string> {
  const types = new Set<string>(['tab', 'group', 'subflow', 'junction']);
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        walk(p);
      } else if (e.name.endsWith('.html')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]/g)) {
          types.add(m[1]);
        }
      }
    }
  };
  walk(path.join(CORE_NODES_DIR, 'core'));
  return types;
}

describe('package: editor files, icons, catalogs and examples', () => {
  describe('node list', () => {
    it('has editor html files, including the iio-device config node', () => {
      assert.ok(htmlTypes.length >= 5, `only ${htmlTypes.join(', ')}`);
      assert.ok(htmlTypes.includes('iio-device'));
    });

    it('has an html for every node in package.json node-red.nodes, keyed by type, at dist/nodes/<type>.js', () => {
      for (const [key, file] of Object.entries(nodesMap)) {
        assert.ok(htmlTypes.includes(key), `package.json lists ${key} but nodes/${key}.html is missing`);
        // The set name is the key: it is the i18n namespace node-red-contrib-iio/<key> the html uses.
        assert.equal(file, `dist/nodes/${key}.js`);
      }
    });
  });

  for (const type of allTypes) {
    describe(type, () => {
      it('registers exactly this type', () => {
        const html = readHtml(type);
        // The definition as an object literal: node-red-dev validate (the Flow Library's scorecard) reads no other form.
        assert.match(html, new RegExp(`RED\\.nodes\\.registerType\\(\\s*(['"])${type}\\1,\\s*\\{`));
        assert.deepEqual([...loadDefinitions(html).keys()], [type]);
      });

      it('has one edit template', () => {
        const templates = scriptBlocks(readHtml(type), 'data-template-name');
        assert.deepEqual(templates.map((t) => t.name), [type]);
        // every editable property that is not a list has its form element
        const def = loadDefinition(type);
        const prefix = def.category === 'config' ? 'node-config-input' : 'node-input';
        for (const [prop, pd] of Object.entries(def.defaults)) {
          if (Array.isArray(pd.value)) {
            continue;
          }
          assert.match(templates[0].body, new RegExp(`id="${prefix}-${prop}"`), `no form field for ${prop}`);
        }
      });

      it('has help with the sections its ports need', () => {
        const help = scriptBlocks(readHtml(type), 'data-help-name');
        assert.deepEqual(help.map((h) => h.name), [type]);
        const body = help[0].body;
        const def = loadDefinition(type);
        assert.match(body, /<p>[^<]+/, 'help starts with a summary paragraph');
        assert.match(body, /<h3>Details<\/h3>/);
        if (def.category === 'config') {
          assert.doesNotMatch(body, /<h3>(Inputs|Outputs)<\/h3>/);
        } else {
          assert.equal(/<h3>Inputs<\/h3>/.test(body), (def.inputs ?? 0) > 0, 'Inputs section iff the node has an input');
          assert.equal(/<h3>Outputs<\/h3>/.test(body), (def.outputs ?? 0) > 0, 'Outputs section iff the node has outputs');
        }
      });

      it('has a message catalog that holds every key the html uses', () => {
        const file = path.join(LOCALE_DIR, `${type}.json`);
        assert.ok(fs.existsSync(file), `missing ${path.relative(ROOT, file)}`);
        const catalog = readJson(file) as Json;
        assert.deepEqual(Object.keys(catalog), [type], 'the node type is the catalog\'s only top-level key');
        const html = readHtml(type);
        const nsDecl = html.match(/var NS = "([^"]+)"/);
        if (nsDecl) {
          assert.equal(nsDecl[1], `${pkg.name}/${type}:${type}.`);
        }
        const catalogs: Record<string, unknown> = {
          'node-red': readJson(path.join(CORE_NODES_DIR, 'locales', 'en-US', 'messages.json')),
          'iio-device': readJson(path.join(LOCALE_DIR, 'iio-device.json')),
          [type]: catalog,
        };
        const keys = usedKeys(type, html);
        assert.ok(keys.length > 0);
        for (const { ns, key } of keys) {
          assert.ok(ns in catalogs, `unknown namespace ${ns} for ${key}`);
          assert.equal(typeof lookup(catalogs[ns], key), 'string', `${ns}:${key} is not in the catalog`);
        }
      });

      it('is in the IIO palette category (or a config node) with the common colour', () => {
        const def = loadDefinition(type);
        if (def.category === 'config') {
          assert.equal(def.icon, undefined);
          return;
        }
        assert.equal(def.category, 'IIO');
        assert.equal(def.color, '#c7e9c0');
        assert.equal(typeof def.paletteLabel, 'string');
      });

      it('has a white-on-transparent 40×60 SVG icon', function () {
        const def = loadDefinition(type);
        if (def.category === 'config') {
          this.skip();
        }
        assert.equal(typeof def.icon, 'string');
        assert.equal(def.icon, `${type}.svg`);
        const file = path.join(ICONS_DIR, def.icon as string);
        assert.ok(fs.existsSync(file), `missing icons/${def.icon}`);
        const { root, elements } = parseXml(fs.readFileSync(file, 'utf8'));
        assert.equal(root, 'svg');
        assert.equal(elements[0].attrs.xmlns, 'http://www.w3.org/2000/svg');
        assert.equal(elements[0].attrs.viewBox.replace(/,/g, ' ').replace(/\s+/g, ' '), '0 0 40 60');
        const paints: string[] = [];
        for (const e of elements) {
          for (const p of ['fill', 'stroke']) {
            if (e.attrs[p] !== undefined) {
              paints.push(e.attrs[p]);
            }
          }
          for (const m of (e.attrs.style ?? '').matchAll(/(?:^|;)\s*(?:fill|stroke)\s*:\s*([^;]+)/g)) {
            paints.push(m[1].trim());
          }
        }
        assert.ok(paints.length > 0, 'the icon paints something');
        for (const p of paints) {
          assert.ok(['#fff', '#ffffff', 'white', 'none'].includes(p.toLowerCase()), `paint ${p} is not white`);
        }
      });

      it('accepts its default values, except empty required references', () => {
        const def = loadDefinition(type);
        flowNodes = new Map();
        const node: Json = { id: '0123456789abcdef', type };
        for (const [prop, pd] of Object.entries(def.defaults)) {
          node[prop] = pd.value;
        }
        for (const [prop, pd] of Object.entries(def.defaults)) {
          if (pd.validate) {
            const r = pd.validate.call(node, pd.value, {});
            const mustFail = pd.type === 'iio-device';
            if ((type === 'iio-device' && prop !== 'uri') || mustFail) {
              // the config node needs one selection field (its host defaults to local:); the flow nodes need a device
              assert.notEqual(r, true, `${prop}: an empty selection must be invalid`);
            } else {
              assert.equal(r, true, `${prop}=${JSON.stringify(pd.value)} rejected: ${String(r)}`);
            }
          }
          if (pd.type) {
            assert.equal(pd.type, 'iio-device');
          }
        }
        if (def.label) {
          assert.equal(typeof def.label.call(node), 'string');
        }
      });
    });
  }

  describe('editor and runtime agree', () => {
    it('iio-dmabuf-out Blocks: the dialog and the runtime both take 2 to 64 and nothing else', () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { blocksConfig } = require(path.join(ROOT, 'dist/nodes/iio-dmabuf-out.js'));
      const def = loadDefinition('iio-dmabuf-out');
      flowNodes = new Map();
      const inputs = [0, 1, 2, 3, '4', 64, 65, 2.5, 'x', '-2'];
      const editor = inputs.map((v) => def.defaults.blocks.validate!.call({}, v, {}) === true);
      const runtime = inputs.map((v) => {
        try {
          blocksConfig(v);
          return true;
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'EINVAL');
          return false;
        }
      });
      assert.deepEqual(editor, [false, false, true, true, true, true, false, false, false, false]);
      assert.deepEqual(runtime, editor);
    });
  });

  describe('examples', () => {
    const files = fs.existsSync(EXAMPLES_DIR) ? fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort() : [];
    const core = coreTypes();

    it('has the five example flows', () => {
      for (const name of ['Temperature threshold alarm', 'Triggered ADC capture', 'Read and write attributes',
        'Create and fire a sysfs trigger', 'Generate a DAC waveform']) {
        assert.ok(files.includes(`${name}.json`), `missing examples/${name}.json`);
      }
    });

    it('uses every node type of the package in some example (node-red-dev validate checks this)', () => {
      const used = new Set(files.flatMap((f) => (readJson(path.join(EXAMPLES_DIR, f)) as Json[]).map((n) => n.type as string)));
      assert.deepEqual(allTypes.filter((t) => !used.has(t)), []);
    });

    it('names each iio-device config node distinctly, so the Device dropdown tells them apart after importing several', () => {
      const labels = files.flatMap((f) => (readJson(path.join(EXAMPLES_DIR, f)) as Json[])
        .filter((n) => n.type === 'iio-device')
        .map((n) => loadDefinition('iio-device').label!.call(n)));
      assert.ok(labels.length >= files.length);
      assert.equal(new Set(labels).size, labels.length, `duplicate labels: ${labels.join(', ')}`);
    });

    for (const file of files) {
      describe(file, () => {
        const load = () => readJson(path.join(EXAMPLES_DIR, file)) as Json[];

        it('is an array of nodes with unique ids, known types, placed on one tab', () => {
          const nodes = load();
          assert.ok(Array.isArray(nodes) && nodes.length > 0);
          const ids = new Set<string>();
          const tabs = new Set<string>();
          for (const n of nodes) {
            assert.equal(typeof n.id, 'string');
            assert.match(n.id as string, /^[0-9a-f]{16}$/);
            assert.ok(!ids.has(n.id as string), `duplicate id ${String(n.id)}`);
            ids.add(n.id as string);
            assert.equal(typeof n.type, 'string');
            assert.ok(core.has(n.type as string) || allTypes.includes(n.type as string), `unknown type ${String(n.type)}`);
            const isConfig = n.type === 'iio-device';
            if (!isConfig) {
              assert.equal(typeof n.x, 'number', `${String(n.id)} has no x`);
              assert.equal(typeof n.y, 'number', `${String(n.id)} has no y`);
              assert.equal(typeof n.z, 'string', `${String(n.id)} has no z`);
              tabs.add(n.z as string);
              assert.ok(Array.isArray(n.wires), `${String(n.id)} has no wires`);
            } else {
              assert.equal(n.x, undefined);
              assert.equal(n.y, undefined);
            }
          }
          assert.equal(tabs.size, 1, 'all flow nodes on one tab');
          assert.ok(nodes.some((n) => n.type === 'comment'), 'a comment node explains what to change');
        });

        it('wires only to nodes of the file, within each node\'s outputs', () => {
          const nodes = load();
          const byId = new Map(nodes.map((n) => [n.id as string, n]));
          for (const n of nodes) {
            if (!Array.isArray(n.wires)) {
              continue;
            }
            const def = allTypes.includes(n.type as string) ? loadDefinition(n.type as string) : null;
            if (def) {
              assert.ok(n.wires.length <= (def.outputs ?? 0), `${String(n.id)} wires more ports than it has`);
            }
            for (const port of n.wires as unknown[]) {
              assert.ok(Array.isArray(port));
              for (const target of port as unknown[]) {
                const t = byId.get(target as string);
                assert.ok(t, `${String(n.id)} wires to missing ${String(target)}`);
                if (allTypes.includes(t.type as string)) {
                  assert.ok((loadDefinition(t.type as string).inputs ?? 0) > 0, `${String(target)} has no input`);
                }
              }
            }
          }
        });

        it('points every device reference at an iio-device of the file', () => {
          const nodes = load();
          const byId = new Map(nodes.map((n) => [n.id as string, n]));
          for (const n of nodes) {
            if (typeof n.type === 'string' && n.type.startsWith('iio-') && n.type !== 'iio-device' && n.device) {
              assert.equal(byId.get(n.device as string)?.type, 'iio-device', `${String(n.id)}.device`);
            }
          }
          for (const dev of nodes.filter((n) => n.type === 'iio-device')) {
            assert.ok(nodes.some((n) => n.device === dev.id), `unused config node ${String(dev.id)}`);
          }
        });

        it('sets every property of our nodes and passes the editor\'s validation', () => {
          const nodes = load();
          flowNodes = new Map(nodes.map((n) => [n.id as string, n]));
          for (const n of nodes) {
            if (!allTypes.includes(n.type as string)) {
              continue;
            }
            const def = loadDefinition(n.type as string);
            for (const [prop, pd] of Object.entries(def.defaults)) {
              assert.ok(prop in n, `${String(n.type)} ${String(n.id)} lacks ${prop}`);
              assert.equal(Array.isArray(n[prop]), Array.isArray(pd.value), `${prop} array-ness`);
              if (pd.required) {
                assert.notEqual(n[prop], '', `${String(n.id)}.${prop} is required`);
              }
              if (pd.validate) {
                assert.equal(pd.validate.call(n, n[prop], {}), true, `${String(n.id)}.${prop} = ${JSON.stringify(n[prop])}`);
              }
            }
            if (def.label) {
              assert.equal(typeof def.label.call(n), 'string');
            }
          }
          flowNodes = new Map();
        });
      });
    }
  });

  describe('npm pack', () => {
    const packed = (): string[] => {
      const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
    };

    it('ships the LICENSE, the examples and every node\'s js, html, catalogs and icon, and no source maps or tests', function () {
      if (!fs.existsSync(path.join(ROOT, 'dist', 'nodes'))) this.skip();
      this.timeout(60000); // npm itself starts in ≈ 1 s, more on a loaded host
      const files = packed();
      assert.ok(files.includes('LICENSE'));
      assert.match(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
      for (const type of allTypes) {
        const icon = loadDefinition(type).icon;
        for (const f of [`dist/nodes/${type}.js`, `dist/nodes/${type}.html`, `dist/nodes/locales/en-US/${type}.json`, ...(icon ? [`dist/nodes/icons/${icon}`] : [])]) {
          assert.ok(files.includes(f), `${f} not packed`);
        }
      }
      for (const f of fs.readdirSync(EXAMPLES_DIR)) {
        assert.ok(files.includes(`examples/${f}`), `examples/${f} not packed`);
      }
      // The editor scripts the html files load from the package's resources/ (Node-RED serves them at /resources/<module>/).
      for (const type of htmlTypes) {
        for (const m of fs.readFileSync(path.join(NODES_DIR, `${type}.html`), 'utf8').matchAll(RESOURCE_SCRIPT)) {
          assert.ok(files.includes(`resources/${m[1]}`), `resources/${m[1]} (loaded by ${type}.html) not packed`);
        }
      }
      assert.deepEqual(files.filter((f) => f.endsWith('.map') || f.startsWith('dist/test/') || f.startsWith('harness/')), []);
    });

    it('names its repository, issue tracker and homepage', () => {
      const p = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Json;
      assert.match(String((p.repository as Json)?.url), /^git\+https:\/\/.+\.git$/);
      assert.match(String((p.bugs as Json)?.url), /^https:\/\//);
      assert.match(String(p.homepage), /^https:\/\//);
    });
  });
});
