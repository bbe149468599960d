/**
 * The editor in a real browser: Debian's Chromium driven by playwright-core against Node-RED
 * running in the VM on the emulated devices (npm run test:editor). For every node type the dialog
 * opens and fills from the live device, and the help renders; one flow edited through the
 * dialogs is deployed and the runtime does what the dialogs said. No console error mentions our
 * code. A failing test leaves a screenshot in harness/.out/editor-<test>.png.
 */
import { strict as assert } from 'node:assert';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { chromium } = require('playwright-core') as typeof import('playwright-core');
import type { Browser, Page } from 'playwright-core';

// Inside page.evaluate: the editor's globals (this project compiles without the DOM library).
declare const window: any;
declare const $: any;

const root = path.join(__dirname, '../../..');
const PORT = Number(process.env.IIO_EDITOR_PORT || 18871);
const BASE = `http://127.0.0.1:${PORT}/`;
const CHROMIUM = process.env.IIO_CHROMIUM || '/usr/bin/chromium';
const out = path.join(root, 'harness', '.out');

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    http.get(url, (r) => { r.resume(); resolve(r.statusCode ?? 0); }).on('error', () => resolve(0));
  });
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('the editor in Chromium, against Node-RED in the VM', function () {
  let vm: ChildProcess | null = null;
  let log = '';
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install chromium (test/editor/provision.sh)`);
    vm = spawn('bash', ['harness/vm.sh', '--timeout', '1500', '--mem', '3072', '--forward', `${PORT}:1880`, '--', 'bash', 'harness/demo/run-node-red.sh', 'editor'],
      { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    vm.stdout!.on('data', (c) => (log += c));
    vm.stderr!.on('data', (c) => (log += c));
    try {
      await until('Node-RED in the VM', 600000, async () => ((await get(BASE)) === 200 ? true : vm!.exitCode !== null ? Promise.reject(new Error(`vm.sh exited ${vm!.exitCode}`)) : null));
    } catch (err) {
      console.log(log.split('\n').slice(-40).join('\n'));
      throw err;
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(`${e.message}\n${e.stack ?? ''}`));
    page.setDefaultTimeout(120000);
    await page.goto(BASE);
    await page.waitForFunction(() => {
      const RED = window.RED;
      return !!(RED && RED.nodes && RED.nodes.getType('iio-in') && RED.workspaces && RED.workspaces.active());
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      const file = path.join(out, `editor-${(this.currentTest.title || 'test').replace(/[^\w-]+/g, '_').slice(0, 60)}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.log(`      screenshot: ${file}`);
    }
    // Close whatever dialog a failed test left open.
    if (page) await page.evaluate(() => { $('#node-config-dialog-cancel').trigger('click'); $('#node-dialog-cancel').trigger('click'); }).catch(() => undefined);
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    if (vm && vm.exitCode === null) {
      process.kill(-vm.pid!, 'SIGINT');
      await until('the VM to stop', 90000, async () => (vm!.exitCode !== null || vm!.signalCode !== null ? true : null)).catch(() => process.kill(-vm!.pid!, 'SIGKILL'));
    }
  });

  /** Adds nodes to the active tab as an import would. */
  async function addNodes(nodes: object[]): Promise<void> {
    await page.evaluate((ns: any[]) => {
      const RED = window.RED;
      const z = RED.workspaces.active();
      RED.nodes.import(ns.map((n: any) => (n.x !== undefined ? { ...n, z } : n)), { generateIds: false });
      RED.nodes.dirty(true);
      RED.view.redraw(true);
    }, nodes);
  }

  async function openEditor(id: string): Promise<void> {
    await page.evaluate((nid) => { const RED = window.RED; RED.editor.edit(RED.nodes.node(nid)); }, id);
    await page.waitForSelector('#node-dialog-ok', { state: 'visible' });
  }

  async function closeEditor(save: boolean): Promise<void> {
    await page.click(save ? '#node-dialog-ok' : '#node-dialog-cancel');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
  }

  /** IIO_EDITOR_SCREENSHOTS=DIR saves the README's pictures there. */
  async function picture(name: string): Promise<void> {
    const dir = process.env.IIO_EDITOR_SCREENSHOTS;
    if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`) });
  }

  async function optionTexts(selector: string): Promise<string[]> {
    return page.$$eval(`${selector} option`, (os: any[]) => os.map((o) => o.textContent ?? ''));
  }

  const DEVICES = [
    { id: 'ed00000000000adc', type: 'iio-device', name: '', deviceName: 'emu-adc', deviceLabel: 'adc-main', deviceId: '' },
    { id: 'ed0000000000temp', type: 'iio-device', name: '', deviceName: 'emu-thermo', deviceLabel: 'board-temp', deviceId: '' },
    { id: 'ed00000000000dac', type: 'iio-device', name: '', deviceName: 'emu-dac', deviceLabel: 'dac-main', deviceId: '' },
  ];

  it('iio-device: the Discovered list shows the four emulated devices and says which one matches', async () => {
    await addNodes(DEVICES);
    await page.evaluate(() => { const RED = window.RED; RED.editor.editConfig('', 'iio-device', 'ed00000000000adc'); });
    await page.waitForSelector('#node-config-dialog-ok', { state: 'visible' });
    await page.waitForFunction(() => /emu-mux/.test($('#iio-device-discovered').text()));
    const texts = await optionTexts('#iio-device-discovered');
    for (const name of ['emu-thermo', 'emu-adc', 'emu-dac', 'emu-mux']) assert.ok(texts.some((t) => t.includes(name)), `${name} in ${JSON.stringify(texts)}`);
    await page.waitForFunction(() => /emu-adc/.test($('#iio-device-match').text()));
    await picture('1-iio-device');
    await page.click('#node-config-dialog-cancel');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });
  });

  it('iio-in: buffers and channels fill from emu-adc; the trigger list offers the workspace\'s iio-trigger', async () => {
    await addNodes([
      { id: 'ed0000000000trig', type: 'iio-trigger', name: '', kind: 'hrtimer', triggerName: 'editor-trigger', sysfsId: 0, frequency: 50, x: 200, y: 80, wires: [] },
      { id: 'ed00000000000in0', type: 'iio-in', name: '', device: 'ed00000000000adc', channels: [], buffer: 0, trigger: '', samples: 10, output: 'arrays', scaled: false, timestamps: false, autoStart: true, transport: 'auto', payloadMode: 'copy', bufferLength: 0, x: 200, y: 140, wires: [['ed00000000dbg0in']] },
      { id: 'ed00000000dbg0in', type: 'debug', name: 'scans', active: true, tosidebar: false, console: false, tostatus: true, complete: 'scans', targetType: 'msg', statusVal: 'scans', statusType: 'msg', x: 420, y: 140, wires: [] },
    ]);
    await openEditor('ed00000000000in0');
    await page.waitForFunction(() => $('#iio-in-channels input[type=checkbox]').length >= 3);
    const channels = await page.$$eval('#iio-in-channels label', (ls: any[]) => ls.map((l) => l.textContent ?? ''));
    assert.ok(channels.some((c) => c.includes('voltage0')), JSON.stringify(channels));
    assert.ok((await optionTexts('.red-ui-tray select')).some((t) => t.includes('editor-trigger')), 'the workspace trigger is offered');
    // Pick it the way a user would: the trigger field takes the name.
    await page.evaluate(() => { $('#node-input-trigger').val('editor-trigger').trigger('change'); });
    await picture('2-iio-in');
    await closeEditor(true);
    assert.equal(await page.evaluate(() => window.RED.nodes.node('ed00000000000in0').trigger), 'editor-trigger');
  });

  it('iio-event: channels fill from emu-thermo; 45000 m°C shows as raw 560 beside the field', async () => {
    await addNodes([
      { id: 'ed0000000000evt0', type: 'iio-event', name: '', device: 'ed0000000000temp', channel: 'temp', eventType: 'thresh', direction: 'rising', configure: false, enable: true, units: 'scaled', value: '', hysteresis: '', period: '', x: 200, y: 220, wires: [[]] },
      { id: 'ed0000000000attr', type: 'iio-attr', name: '', device: 'ed0000000000temp', target: 'device', attribute: 'events/in_temp_thresh_rising_value', channel: '', trigger: '', action: 'read', interval: 1, scaled: false, valueType: 'auto', x: 420, y: 220, wires: [[]] },
    ]);
    await openEditor('ed0000000000evt0');
    await page.check('#node-input-configure');
    await page.waitForFunction(() => /62\.5/.test($('#iio-event-scaling-tip').text()));
    await page.fill('#node-input-value', '45000');
    await page.fill('#node-input-hysteresis', '1000');
    assert.equal((await page.textContent('#iio-event-value-raw'))?.trim(), '= 560 raw');
    assert.equal((await page.textContent('#iio-event-hysteresis-raw'))?.trim(), '= 16 raw');
    await picture('3-iio-event');
    await closeEditor(true);
  });

  it('iio-dmabuf-out: on emu-dac with no trigger the dialog says what is missing before the deploy', async () => {
    await addNodes([{ id: 'ed00000000dmabuf', type: 'iio-dmabuf-out', name: '', device: 'ed00000000000dac', buffer: 1, channels: [], mode: 'streaming', blockSize: 1024, blocks: 4, transport: 'auto', trigger: '', x: 200, y: 300, wires: [] }]);
    await openEditor('ed00000000dmabuf');
    await page.waitForSelector('#iio-dmabuf-out-trigger-tip', { state: 'visible' });
    assert.match((await page.textContent('#iio-dmabuf-out-trigger-tip')) ?? '', /dac-main has no trigger attached/);
    await page.waitForFunction(() => $('#iio-dmabuf-out-channels input[type=checkbox]').length === 2);
    await picture('4-iio-dmabuf-out');
    await closeEditor(false);
  });

  it('iio-attr and iio-trigger dialogs open, and every node\'s help renders', async () => {
    for (const id of ['ed0000000000attr', 'ed0000000000trig']) {
      await openEditor(id);
      await closeEditor(false);
    }
    for (const [type, text] of [['iio-device', 'Selects one Linux Industrial I/O'], ['iio-in', 'Captures samples'], ['iio-event', 'Units'], ['iio-attr', 'Reads or writes an attribute'],
      ['iio-trigger', 'Creates an IIO trigger'], ['iio-dmabuf-out', 'needs a trigger']] as const) {
      await page.evaluate((t) => window.RED.sidebar.help.show(t), type);
      await page.waitForFunction((t) => $('.red-ui-help').text().includes(t), text);
    }
  });

  it('deploy: the runtime does what the dialogs said (iio-event writes raw 560, iio-in captures, dmabuf-out says it needs a trigger)', async () => {
    await page.click('#red-ui-header-button-deploy');
    const status = (id: string) => page.evaluate((nid: string) => (window.RED.nodes.node(nid)?.status?.text as string | undefined) ?? null, id);
    // iio-attr reads events/in_temp_thresh_rising_value every second: what iio-event wrote.
    await until('iio-attr to read raw 560', 120000, async () => ((await status('ed0000000000attr')) === '560' ? true : null));
    assert.equal(await status('ed0000000000evt0'), 'listening');
    // The debug node shows msg.scans of each message iio-in sends: data arrives.
    await until('iio-in data (debug status 10)', 120000, async () => ((await status('ed00000000dbg0in')) === '10' ? true : null));
    assert.match((await status('ed00000000000in0')) ?? '', /^running/);
    assert.equal(await status('ed0000000000trig'), 'editor-trigger 50 Hz');
    await until('the dmabuf-out status', 60000, async () => ((await status('ed00000000dmabuf')) === 'needs a trigger (EINVAL)' ? true : null));
    await picture('5-deployed');
  });

  it('no console error in the editor comes from our code', () => {
    const ours = consoleErrors.filter((e) => /iio|nodeRedContribIio/i.test(e));
    if (consoleErrors.length) console.log(`      other console errors: ${consoleErrors.length}\n${consoleErrors.map((e) => `        ${e.split('\n')[0]}`).join('\n')}`);
    assert.deepEqual(ours, []);
  });
});
