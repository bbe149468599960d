// Runtime texts (node status) from the nodes' message catalogs, so they follow the language
// Node-RED runs in (en-US, de, ja). Keys are full: 'iio-device.status.stopped' in the catalog of
// nodes/locales/<lang>/iio-device.json.
import * as fs from 'fs';
import * as path from 'path';
import type { NodeAPI } from './red';

const MODULE = 'node-red-contrib-iio';
type Subs = Record<string, string | number>;
let translate: ((key: string, subs?: Subs) => unknown) | null = null;
const english = new Map<string, unknown>();

/** Called by every node module on registration: Node-RED's translator (any node's works: keys carry their namespace). */
export function useCatalogs(RED: NodeAPI): void {
  translate = (key, subs) => RED._(key, subs);
}

function lookup(catalog: unknown, key: string): string | undefined {
  let cur = catalog;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'string' ? cur : undefined;
}

/** The en-US text, read from the catalog beside this file (for runtimes that have not loaded ours, e.g. the test helper). */
function englishText(file: string, key: string): string | undefined {
  if (!english.has(file)) {
    try {
      english.set(file, JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'locales', 'en-US', `${file}.json`), 'utf8')));
    } catch {
      english.set(file, null);
    }
  }
  return lookup(english.get(file), key);
}

/** `t('iio-in', 'status.running')` → the text of key 'iio-in.status.running' in iio-in's catalog, with __name__ filled from subs. */
export function t(file: string, key: string, subs: Subs = {}): string {
  const full = `${MODULE}/${file}:${file}.${key}`;
  let text: unknown;
  try {
    text = translate?.(full, subs);
  } catch {
    text = undefined;
  }
  if (typeof text === 'string' && text !== '' && !text.endsWith(`${file}.${key}`)) return text;
  const en = englishText(file, `${file}.${key}`) ?? key;
  return en.replace(/__(\w+)__/g, (m, name: string) => (name in subs ? String(subs[name]) : m));
}
