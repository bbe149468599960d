/**
 * Runtime texts come from the message catalogs: every t('file', 'key') in nodes/ has its text in
 * every language's catalog, and without Node-RED's translator (the test helper) the en-US text
 * is used with its __placeholders__ filled.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { t, useCatalogs } from '../../nodes/lib/i18n';
import { shortStatus } from '../../nodes/lib/common';
import { IioError } from '../../src/errors';
import type { NodeAPI } from '../../nodes/lib/red';

const ROOT = path.join(__dirname, '../../..');
const LOCALES = path.join(ROOT, 'nodes', 'locales');
const languages = fs.readdirSync(LOCALES).sort();

function sources(): string[] {
  const dirs = [path.join(ROOT, 'nodes'), path.join(ROOT, 'nodes', 'lib')];
  return dirs.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(path.join(d, f), 'utf8')));
}

function lookup(catalog: unknown, key: string): unknown {
  let cur = catalog;
  for (const part of key.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  return cur;
}

describe('i18n: runtime status texts from the catalogs', () => {
  it('has en-US, de and ja catalogs with the same files', () => {
    for (const lang of ['en-US', 'de', 'ja']) assert.ok(languages.includes(lang), `nodes/locales/${lang} missing`);
    const files = fs.readdirSync(path.join(LOCALES, 'en-US')).sort();
    for (const lang of languages) assert.deepEqual(fs.readdirSync(path.join(LOCALES, lang)).filter((f) => f.endsWith('.json')).sort(), files, lang);
  });

  it('every t(file, key) of the runtime has a text in every language (and the status codes shortStatus words)', () => {
    const keys = new Set<string>();
    for (const src of sources()) {
      for (const m of src.matchAll(/\bt\('([\w-]+)', '([\w.]+)'/g)) keys.add(`${m[1]}:${m[2]}`);
    }
    for (const code of ['ENOENT', 'EBUSY', 'EINVAL', 'needsTrigger', 'other']) keys.add(`iio-device:status.code.${code}`);
    for (const mode of ['streaming', 'cyclic']) keys.add(`iio-dmabuf-out:status.mode.${mode}`);
    assert.ok(keys.size >= 20, `only ${keys.size} keys found: the pattern no longer matches the sources`);
    for (const lang of languages) {
      for (const k of keys) {
        const [file, key] = k.split(':');
        const catalog = JSON.parse(fs.readFileSync(path.join(LOCALES, lang, `${file}.json`), 'utf8'));
        const text = lookup(catalog, `${file}.${key}`);
        assert.equal(typeof text, 'string', `${lang}/${file}.json lacks ${file}.${key}`);
        // The placeholders of en-US must all be there in every language.
        const en = lookup(JSON.parse(fs.readFileSync(path.join(LOCALES, 'en-US', `${file}.json`), 'utf8')), `${file}.${key}`) as string;
        for (const ph of en.match(/__\w+__/g) ?? []) assert.ok((text as string).includes(ph), `${lang}/${file}.json ${key} lacks ${ph}`);
      }
    }
  });

  it('falls back to en-US with placeholders filled when the runtime answers with the key (node-red-node-test-helper)', () => {
    useCatalogs({ _: (k: string) => k } as unknown as NodeAPI);
    assert.equal(t('iio-in', 'status.overruns', { running: 'running', count: 3 }), 'running, 3 overruns');
    assert.equal(t('iio-trigger', 'status.readyHz', { name: 'adc-trigger', hz: 100 }), 'adc-trigger 100 Hz');
    assert.equal(shortStatus(new IioError({ code: 'EBUSY', detail: 'x' })), 'in use elsewhere (EBUSY)');
    assert.equal(shortStatus(new IioError({ code: 'EXDEV', detail: 'x' })), 'error (EXDEV)');
    assert.equal(shortStatus(new IioError({ code: 'EINVAL', detail: 'no trigger is attached to the device (set trigger/current_trigger first)' })), 'needs a trigger (EINVAL)');
  });

  it('uses Node-RED\'s translation when it has one, with the full key', () => {
    const asked: string[] = [];
    useCatalogs({ _: (k: string, subs?: Record<string, unknown>) => { asked.push(k); return k.endsWith('status.stopped') ? 'angehalten' : `Läuft ${subs?.count}`; } } as unknown as NodeAPI);
    assert.equal(t('iio-device', 'status.stopped'), 'angehalten');
    assert.equal(t('iio-event', 'status.events', { count: 2 }), 'Läuft 2');
    assert.deepEqual(asked, ['node-red-contrib-iio/iio-device:iio-device.status.stopped', 'node-red-contrib-iio/iio-event:iio-event.status.events']);
    useCatalogs({ _: (k: string) => k } as unknown as NodeAPI);
  });
});

describe('i18n: the editor\'s texts in every language', () => {
  const keysOf = (o: unknown, prefix = ''): string[] =>
    Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => (v !== null && typeof v === 'object' ? keysOf(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
  it('every key of an en-US catalog (dialogs, tips, status) is in de and ja, with its placeholders', () => {
    for (const file of fs.readdirSync(path.join(LOCALES, 'en-US'))) {
      const en = JSON.parse(fs.readFileSync(path.join(LOCALES, 'en-US', file), 'utf8'));
      for (const lang of ['de', 'ja']) {
        const other = JSON.parse(fs.readFileSync(path.join(LOCALES, lang, file), 'utf8'));
        for (const key of keysOf(en)) {
          const text = lookup(other, key);
          assert.equal(typeof text, 'string', `${lang}/${file} lacks ${key}`);
          for (const ph of String(lookup(en, key)).match(/__\w+__/g) ?? []) assert.ok((text as string).includes(ph), `${lang}/${file} ${key} lacks ${ph}`);
        }
      }
    }
  });
});

describe('i18n: help in every language', () => {
  const types = fs.readdirSync(path.join(ROOT, 'nodes')).filter((f) => f.endsWith('.html')).map((f) => f.slice(0, -5));
  const sections = (html: string) => (html.match(/<h3>/g) ?? []).length;
  const helpOf = (html: string, type: string) => new RegExp(`<script type="text/html" data-help-name="${type}">([\\s\\S]*?)</script>`).exec(html)?.[1] ?? '';
  for (const lang of ['de', 'ja']) {
    it(`${lang}: every node has help with the sections of the English help`, () => {
      for (const type of types) {
        const file = path.join(LOCALES, lang, `${type}.html`);
        assert.ok(fs.existsSync(file), `nodes/locales/${lang}/${type}.html missing`);
        const help = helpOf(fs.readFileSync(file, 'utf8'), type);
        const en = helpOf(fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8'), type);
        assert.ok(help.length > 400, `${lang}/${type}.html help is ${help.length} characters`);
        assert.equal(sections(help), sections(en), `${lang}/${type}.html has ${sections(help)} sections, English ${sections(en)}`);
        assert.equal((help.match(/<dt/g) ?? []).length >= (en.match(/<dt/g) ?? []).length - 4, true, `${lang}/${type}.html documents fewer message properties`);
      }
    });
  }
});
