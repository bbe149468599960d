/**
 * The editor in a real browser: Debian's Chromium driven by playwright-core against Node-RED
 * running in the VM on the emulated devices (npm run test:editor), used as a person would: every
 * node type is dragged from the palette onto the workspace, its dialog opened with a double click,
 * its dropdowns checked against the live devices (emu-adc, emu-thermo, emu-dac), its settings
 * typed and picked in the form, saved with Done, wired with the mouse and deployed with the Deploy
 * button; then the runtime must do what the dialogs said, with the emulator's exact values where
 * it makes them deterministic. Only the helper nodes (function, debug, inject) come in through
 * the editor's import. Every help renders; no console error mentions our code. A failing test
 * leaves a screenshot in harness/.out/editor-<test>.png. IIO_EDITOR_NODE_RED=5 runs it against
 * Node-RED 5 on Node 22 (npm run test:editor:nr5).
 */
import { strict as assert } from 'node:assert';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { chromium } = require('playwright-core') as typeof import('playwright-core');
import type { Browser, Page } from 'playwright-core';
import { emuAdcRaw } from '../lib/emu-pattern';

// Inside page.evaluate: the editor's globals (this project compiles without the DOM library).
declare const window: any;
declare const $: any;

const root = path.join(__dirname, '../../..');
const PORT = Number(process.env.IIO_EDITOR_PORT || 18871);
const BASE = `http://127.0.0.1:${PORT}/`;
const CHROMIUM = process.env.IIO_CHROMIUM || '/usr/bin/chromium';
const out = path.join(root, 'harness', '.out');
// IIO_EDITOR_NODE_RED=5: Node-RED 5 on Node 22 from harness/node-red5.sh's cache (npm run test:editor:nr5).
const NR5 = process.env.IIO_EDITOR_NODE_RED === '5';
const nr5Cache = path.join(root, 'harness', '.cache', 'nr5');
const nodeRed = NR5 ? ['env', `IIO_NODE_BIN=${nr5Cache}/node/bin/node`, `IIO_NODE_RED_MODULES=${nr5Cache}/nr/node_modules`] : [];

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

describe(`the editor in Chromium, against Node-RED ${NR5 ? 5 : 4} in the VM`, function () {
  let vm: ChildProcess | null = null;
  let log = '';
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install chromium (test/editor/provision.sh)`);
    vm = spawn('bash', ['harness/vm.sh', '--timeout', '1500', '--mem', '3072', '--forward', `${PORT}:1880`, '--', ...nodeRed, 'bash', 'harness/demo/run-node-red.sh', 'editor'],
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
    page.setDefaultTimeout(30000);
    await page.goto(BASE);
    await page.waitForFunction(() => {
      const RED = window.RED;
      return !!(RED && RED.nodes && RED.nodes.getType('iio-in') && RED.workspaces && RED.workspaces.active());
    });
    const version = await page.evaluate(() => String(window.RED.settings.version));
    console.log(`      Node-RED ${version}`);
    assert.equal(version.split('.')[0], NR5 ? '5' : '4');
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

  /** Adds helper nodes (not ours) to the active tab, as the editor's import does. */
  async function addHelpers(nodes: object[]): Promise<void> {
    await page.evaluate((ns: any[]) => {
      const RED = window.RED;
      const z = RED.workspaces.active();
      RED.nodes.import(ns.map((n: any) => ({ ...n, z })), { generateIds: false });
      RED.nodes.dirty(true);
      RED.view.redraw(true);
    }, nodes);
  }

  const node = (id: string) => `[id="${id}"]`;

  async function nodeIds(): Promise<string[]> {
    return page.evaluate(() => { const ids: string[] = []; window.RED.nodes.eachNode((n: any) => ids.push(n.id)); return ids; });
  }

  /** Drags a node type from the palette onto the workspace at (x, y) of the canvas; returns the new node's id. */
  async function dragFromPalette(type: string, x: number, y: number): Promise<string> {
    const before = new Set(await nodeIds());
    const item = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
    await item.scrollIntoViewIfNeeded();
    const from = (await item.boundingBox())!;
    const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(from.x + from.width / 2 + 20, from.y + from.height / 2, { steps: 4 });
    await page.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
    await page.mouse.up();
    const added = await until(`a ${type} node on the workspace`, 10000, async () => {
      const fresh = (await nodeIds()).filter((id) => !before.has(id));
      return fresh.length === 1 ? fresh[0] : null;
    });
    await page.waitForSelector(node(added));
    return added;
  }

  /** Opens a node's dialog with a double click on it. */
  async function openByDoubleClick(id: string): Promise<void> {
    await page.locator(`${node(id)} .red-ui-flow-node`).first().dblclick();
    await page.waitForSelector('#node-dialog-ok', { state: 'visible' });
  }

  async function closeEditor(save: boolean): Promise<void> {
    await page.click(save ? '#node-dialog-ok' : '#node-dialog-cancel');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
  }

  /** Drags a wire from the output port of one node to the input port of another. */
  async function wire(from: string, to: string): Promise<void> {
    const out = (await page.locator(`${node(from)} .red-ui-flow-port-output`).first().boundingBox())!;
    const inp = (await page.locator(`${node(to)} .red-ui-flow-port-input`).first().boundingBox())!;
    await page.mouse.move(out.x + out.width / 2, out.y + out.height / 2);
    await page.mouse.down();
    await page.mouse.move(inp.x + inp.width / 2, inp.y + inp.height / 2, { steps: 10 });
    await page.mouse.up();
    await until(`a wire ${from} → ${to}`, 5000, async () =>
      ((await page.evaluate(([a, b]) => { const RED = window.RED; return RED.nodes.filterLinks({ source: RED.nodes.node(a), target: RED.nodes.node(b) }).length === 1; }, [from, to])) ? true : null));
  }

  /** In an open node dialog: adds a new iio-device through the + button beside Device and picks `name` from its Discovered list. */
  async function addDeviceThroughDialog(name: string, label: string): Promise<void> {
    await page.click('#node-input-btn-device-add');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'visible' });
    await page.waitForFunction(() => $('#iio-device-discovered option').length > 2);
    const options = await optionTexts('#iio-device-discovered');
    for (const emu of ['emu-thermo', 'emu-adc', 'emu-dac', 'emu-mux']) assert.ok(options.some((t) => t.includes(emu)), `${emu} in ${JSON.stringify(options)}`);
    const wanted = options.find((t) => t.startsWith(`${name} (${label})`));
    assert.ok(wanted, `${name} (${label}) in ${JSON.stringify(options)}`);
    await page.selectOption('#iio-device-discovered', { label: wanted });
    assert.equal(await page.inputValue('#node-config-input-deviceName'), name);
    assert.equal(await page.inputValue('#node-config-input-deviceLabel'), label);
    assert.match(await page.inputValue('#node-config-input-deviceId'), /^iio:device\d+$/);
    assert.match((await page.textContent('#iio-device-match')) ?? '', new RegExp(`^Matches ${name} \\(${label}\\) — iio:device\\d+ on this host\\.$`));
    if (name === 'emu-adc') await picture('1-iio-device');
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });
    assert.equal(await page.locator('#node-input-device option:checked').textContent(), label);
  }

  /** What shows that a sidebar tab is open. */
  const SIDEBAR_MARKS: Record<string, string> = { debug: '#red-ui-sidebar-debug-filter' };

  /**
   * Opens a sidebar tab (debug, help…) with its button unless it is open already (Node-RED 5's
   * buttons close an open tab), then moves the mouse off the button so its tooltip goes.
   */
  async function showSidebarTab(tab: string): Promise<void> {
    const mark = page.locator(SIDEBAR_MARKS[tab]).first();
    if (!(await mark.isVisible())) {
      // Node-RED 4: a link in the sidebar's tab bar; Node-RED 5: a button in the side tab bars.
      await page.locator(`a.red-ui-tab-link-button[href="#${tab}"], button[data-tab-id="${tab}"]`).first().click();
      await page.mouse.move(600, 700);
      await mark.waitFor({ state: 'visible' });
    }
    await page.waitForFunction(() => $('.red-ui-popover:visible').length === 0);
  }

  /** Status text under a node on the canvas. */
  async function statusText(id: string): Promise<string> {
    return ((await page.locator(`${node(id)} .red-ui-flow-node-status-label`).textContent().catch(() => '')) ?? '').trim();
  }

  async function untilStatus(id: string, what: string, ok: (text: string) => boolean, ms = 120000): Promise<string> {
    let last = '';
    try {
      return await until(`${what} (status of ${id})`, ms, async () => { last = await statusText(id); return ok(last) ? last : null; });
    } catch (err) {
      throw new Error(`${(err as Error).message}; last status ${JSON.stringify(last)}`);
    }
  }

  /** IIO_EDITOR_SCREENSHOTS=DIR saves the README's pictures there. */
  async function picture(name: string): Promise<void> {
    const dir = process.env.IIO_EDITOR_SCREENSHOTS;
    if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`) });
  }

  async function optionTexts(selector: string): Promise<string[]> {
    return page.$$eval(`${selector} option`, (os: any[]) => os.map((o) => o.textContent ?? ''));
  }

  async function channelBoxes(list: string): Promise<string[]> {
    return page.$$eval(`${list} input.iio-channel-cb`, (cs: any[]) => cs.map((c) => c.value));
  }

  const ids: Record<string, string> = {};
  // The first block emu-adc sends after its buffer is enabled: scans n = 0..7 (the scan numbers restart with every enable).
  const SAMPLES = 8;
  const firstBlock = (k: number, bits: number, signed: boolean) => Array.from({ length: SAMPLES }, (_, n) => emuAdcRaw(k, n, bits, signed)).join(',');
  // One debug message a channel (the sidebar shortens longer strings).
  const EXPECTED_BLOCK = [`voltage0 ${firstBlock(0, 12, false)}`, `voltage1 ${firstBlock(1, 16, true)}`];
  const DAC_VALUE = 1234;

  it('iio-dmabuf-out, new, on emu-dac with no trigger anywhere: the iio-device dialog lists the emulated devices, and the dialog says what is missing before the deploy', async () => {
    const id = await dragFromPalette('iio-dmabuf-out', 300, 100);
    await openByDoubleClick(id);
    await addDeviceThroughDialog('emu-dac', 'dac-main');
    await page.waitForFunction(() => $('#iio-dmabuf-out-channels input.iio-channel-cb').length === 2);
    assert.deepEqual(await channelBoxes('#iio-dmabuf-out-channels'), ['voltage0', 'voltage1']);
    assert.equal(await page.inputValue('#node-input-buffer-choice'), '1');
    assert.deepEqual(await optionTexts('#node-input-buffer-choice'), ['buffer0  (2 ch)', 'buffer1  (2 ch)', 'other…']);
    await page.waitForSelector('#iio-dmabuf-out-trigger-tip', { state: 'visible' });
    assert.match((await page.textContent('#iio-dmabuf-out-trigger-tip')) ?? '', /^dac-main has no trigger attached: pick one here/);
    assert.equal(await page.inputValue('#node-input-trigger'), '');
    assert.equal(await page.inputValue('#node-input-trigger-choice'), '');
    await picture('4-iio-dmabuf-out');
    await closeEditor(false);
    // Delete it the way a user does: click it, press Delete.
    await page.locator(`${node(id)} .red-ui-flow-node`).first().click();
    await page.keyboard.press('Delete');
    await page.waitForSelector(node(id), { state: 'detached' });
  });

  it('iio-trigger: an hrtimer trigger named and paced in the dialog', async () => {
    ids.trigger = await dragFromPalette('iio-trigger', 300, 60);
    await openByDoubleClick(ids.trigger);
    assert.equal(await page.inputValue('#node-input-kind'), 'hrtimer');
    await page.fill('#node-input-triggerName', 'editor-trigger');
    await page.fill('#node-input-frequency', '50');
    assert.match((await page.textContent('#iio-trigger-result')) ?? '', /editor-trigger/);
    await closeEditor(true);
    assert.equal((await page.locator(`${node(ids.trigger)} .red-ui-flow-node-label`).textContent())?.trim(), 'editor-trigger');
  });

  it('iio-in: buffers and channels fill from emu-adc, the workspace trigger is chosen, settings typed in the form', async () => {
    ids.in = await dragFromPalette('iio-in', 200, 160);
    await openByDoubleClick(ids.in);
    await addDeviceThroughDialog('emu-adc', 'adc-main');
    await page.waitForFunction(() => $('#iio-in-channels input.iio-channel-cb').length >= 8);
    assert.deepEqual(await channelBoxes('#iio-in-channels'), ['voltage0', 'voltage1', 'voltage2', 'voltage3', 'voltage4', 'accel_x', 'accel_y', 'accel_z']);
    assert.equal(await page.inputValue('#node-input-buffer-choice'), '0');
    // No trigger attached to emu-adc: the dialog chose the workspace's iio-trigger and says so.
    await page.waitForFunction(() => $('#node-input-trigger').val() === 'editor-trigger');
    assert.equal(await page.inputValue('#node-input-trigger-choice'), 'editor-trigger');
    assert.match((await page.textContent('#iio-in-trigger-tip')) ?? '', /^adc-main has no trigger attached: editor-trigger is chosen for it/);
    await page.check('#iio-in-channels input.iio-channel-cb[value="voltage0"]');
    await page.check('#iio-in-channels input.iio-channel-cb[value="voltage1"]');
    await page.fill('#node-input-samples', String(SAMPLES));
    await page.uncheck('#node-input-timestamps');
    assert.equal(await page.inputValue('#node-input-output'), 'arrays');
    await picture('2-iio-in');
    await closeEditor(true);
    const saved = await page.evaluate((nid) => { const n = window.RED.nodes.node(nid); return { channels: n.channels, trigger: n.trigger, samples: n.samples, timestamps: n.timestamps }; }, ids.in);
    assert.deepEqual(saved, { channels: ['voltage0', 'voltage1'], trigger: 'editor-trigger', samples: String(SAMPLES), timestamps: false });
    assert.equal((await page.locator(`${node(ids.in)} .red-ui-flow-node-label`).textContent())?.trim(), 'adc-main buffer0');
    // The first block, as text, to the debug sidebar.
    ids.first = 'ed0000000000frst';
    ids.debug = 'ed00000000dbg0in';
    await addHelpers([
      { id: ids.first, type: 'function', name: 'first block', func: "if (msg.sequence !== 1) return null;\nreturn [['voltage0', 'voltage1'].map((c) => ({ topic: msg.topic, payload: c + ' ' + Array.from(msg.payload[c]).join(',') }))];", outputs: 1, x: 420, y: 160, wires: [[ids.debug]] },
      { id: ids.debug, type: 'debug', name: 'first block', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', x: 620, y: 160, wires: [] },
    ]);
    await wire(ids.in, ids.first);
  });

  it('iio-event: channels, types and directions fill from emu-thermo; 40000 m°C shows as raw 480 beside the field', async () => {
    ids.event = await dragFromPalette('iio-event', 200, 240);
    await openByDoubleClick(ids.event);
    await addDeviceThroughDialog('emu-thermo', 'board-temp');
    await page.waitForFunction(() => $('#node-input-channel-choice option').length > 2);
    assert.deepEqual(await optionTexts('#node-input-channel-choice'), ['(any)', 'temp', 'other…']);
    await page.selectOption('#node-input-channel-choice', 'temp');
    assert.ok((await optionTexts('#node-input-eventType-choice')).includes('thresh'));
    await page.selectOption('#node-input-eventType-choice', 'thresh');
    assert.deepEqual(await optionTexts('#node-input-direction-choice'), ['(any)', 'falling', 'rising', 'other…']);
    await page.selectOption('#node-input-direction-choice', 'rising');
    await page.check('#node-input-configure');
    assert.equal(await page.inputValue('#node-input-units'), 'scaled');
    await page.waitForFunction(() => /62\.5/.test($('#iio-event-scaling-tip').text()));
    // 40 °C: raw 480, not the emulator's default 560, so that the runtime's write shows.
    await page.fill('#node-input-value', '40000');
    await page.fill('#node-input-hysteresis', '1000');
    assert.equal((await page.textContent('#iio-event-value-raw'))?.trim(), '= 480 raw');
    assert.equal((await page.textContent('#iio-event-hysteresis-raw'))?.trim(), '= 16 raw');
    await picture('3-iio-event');
    await closeEditor(true);
    const saved = await page.evaluate((nid) => { const n = window.RED.nodes.node(nid); return [n.channel, n.eventType, n.direction, n.configure, n.units, n.value, n.hysteresis]; }, ids.event);
    assert.deepEqual(saved, ['temp', 'thresh', 'rising', true, 'scaled', '40000', '1000']);
    ids.events = 'ed000000000dbgev';
    await addHelpers([{ id: ids.events, type: 'debug', name: 'events', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', x: 420, y: 280, wires: [] }]);
    await wire(ids.event, ids.events);
  });

  it('iio-attr: device attributes of emu-thermo and channel attributes of emu-dac fill the dropdowns', async () => {
    ids.attrEvent = await dragFromPalette('iio-attr', 420, 240);
    await openByDoubleClick(ids.attrEvent);
    assert.equal(await page.inputValue('#node-input-target'), 'device');
    await page.selectOption('#node-input-device', { label: 'board-temp' });
    await page.waitForFunction(() => $('#node-input-attribute-choice option').length > 3);
    const attrs = await optionTexts('#node-input-attribute-choice');
    for (const a of ['name', 'buffer0/enable', 'other…']) assert.ok(attrs.includes(a), `${a} in ${JSON.stringify(attrs)}`);
    // Event attributes live in events/: typed after "other…".
    await page.selectOption('#node-input-attribute-choice', { label: 'other…' });
    await page.waitForSelector('#node-input-attribute', { state: 'visible' });
    await page.fill('#node-input-attribute', 'events/in_temp_thresh_rising_value');
    await page.fill('#node-input-interval', '1');
    await closeEditor(true);
    assert.equal((await page.locator(`${node(ids.attrEvent)} .red-ui-flow-node-label`).textContent())?.trim(), 'events/in_temp_thresh_rising_value');

    ids.attrDac = await dragFromPalette('iio-attr', 420, 320);
    await openByDoubleClick(ids.attrDac);
    await page.selectOption('#node-input-target', 'channel');
    await page.selectOption('#node-input-device', { label: 'dac-main' });
    await page.waitForFunction(() => $('#node-input-channel-choice option').length > 2);
    const channels = await optionTexts('#node-input-channel-choice');
    assert.ok(channels.includes('voltage0  (out)') && channels.includes('voltage1  (out)'), JSON.stringify(channels));
    await page.selectOption('#node-input-channel-choice', 'voltage0');
    await page.waitForFunction(() => $('#node-input-attribute-choice option[value="raw"]').length === 1);
    await page.selectOption('#node-input-attribute-choice', 'raw');
    await page.fill('#node-input-interval', '1');
    await closeEditor(true);
    assert.equal((await page.locator(`${node(ids.attrDac)} .red-ui-flow-node-label`).textContent())?.trim(), 'voltage0/raw');

    // A write: emu-thermo's emulated temperature, to cross the threshold iio-event set.
    ids.attrHeat = await dragFromPalette('iio-attr', 420, 520);
    await openByDoubleClick(ids.attrHeat);
    await page.selectOption('#node-input-device', { label: 'board-temp' });
    await page.waitForFunction(() => $('#node-input-attribute-choice option[value="emu_temp_mC"]').length === 1);
    await page.selectOption('#node-input-attribute-choice', 'emu_temp_mC');
    await page.selectOption('#node-input-action', 'write');
    await closeEditor(true);
    assert.equal((await page.locator(`${node(ids.attrHeat)} .red-ui-flow-node-label`).textContent())?.trim(), 'write emu_temp_mC');
    ids.heat = 'ed00000000000hot';
    await addHelpers([{ id: ids.heat, type: 'inject', name: '46 °C', props: [{ p: 'payload' }], payload: '46000', payloadType: 'num', repeat: '', once: false, x: 200, y: 520, wires: [[]] }]);
    await wire(ids.heat, ids.attrHeat);
  });

  it('iio-dmabuf-out, new, with an iio-trigger in the workspace: its defaults work, the dialog chose the trigger', async () => {
    ids.dac = await dragFromPalette('iio-dmabuf-out', 420, 400);
    await openByDoubleClick(ids.dac);
    await page.selectOption('#node-input-device', { label: 'dac-main' });
    await page.waitForFunction(() => $('#node-input-trigger').val() === 'editor-trigger');
    assert.match((await page.textContent('#iio-dmabuf-out-trigger-tip')) ?? '', /^dac-main has no trigger attached: editor-trigger is chosen for it/);
    assert.equal(await page.inputValue('#node-input-buffer-choice'), '1');
    assert.equal(await page.inputValue('#node-input-mode'), 'streaming');
    assert.equal(await page.inputValue('#node-input-transport'), 'auto');
    await closeEditor(true);
    ids.inject = 'ed000000000injct';
    ids.samples = 'ed0000000000dacs';
    await addHelpers([
      { id: ids.inject, type: 'inject', name: 'send', props: [], repeat: '', once: false, x: 120, y: 400, wires: [[ids.samples]] },
      { id: ids.samples, type: 'function', name: 'DAC block', func: `msg.payload = { voltage0: new Array(1024).fill(${DAC_VALUE}), voltage1: new Array(1024).fill(-${DAC_VALUE}) };\nreturn msg;`, outputs: 1, x: 260, y: 460, wires: [[]] },
    ]);
    await wire(ids.samples, ids.dac);
  });

  it('deploy with the Deploy button: the runtime does what the dialogs said', async () => {
    await page.click('#red-ui-header-button-deploy');
    // Deployed, or the editor asks for confirmation (invalid or unknown nodes): that is a failure here.
    await page.waitForFunction(() => $('#red-ui-header-button-deploy').hasClass('disabled') || $('#node-dialog-confirm-deploy:visible').length > 0);
    const confirm = await page.evaluate(() => $('#node-dialog-confirm-deploy:visible').text());
    assert.equal(confirm, '', 'the editor asked to confirm the deploy');
    await untilStatus(ids.trigger, 'the trigger', (s) => s === 'editor-trigger 50 Hz');
    // iio-event wrote raw 480 (40000 m°C); iio-attr reads it back from sysfs every second.
    await untilStatus(ids.attrEvent, 'iio-attr to read raw 480', (s) => s === '480');
    assert.equal(await statusText(ids.event), 'listening');
    // iio-in: the first block of voltage0 and voltage1, exactly the emulator's pattern.
    await showSidebarTab('debug');
    let shown: string[] = [];
    await until('the first block in the debug sidebar', 120000, async () => {
      shown = await page.locator('.red-ui-debug-msg').allTextContents();
      return EXPECTED_BLOCK.every((b) => shown.some((t) => t.includes(`"${b}"`))) ? true : null;
    }).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(shown)}`); });
    // buffer0 is a kfifo (no DMABUF) and this kernel has no mmap block API: read().
    assert.equal(await statusText(ids.in), 'running (without DMABUF)');
    // iio-dmabuf-out on its defaults (the trigger its dialog chose): the DAC outputs what it is sent.
    await untilStatus(ids.dac, 'the DAC output ready', (s) => s === 'streaming (DMABUF), queue 0');
    await page.locator(`${node(ids.inject)} .red-ui-flow-node-button`).click();
    await untilStatus(ids.attrDac, `out_voltage0_raw = ${DAC_VALUE}`, (s) => s === String(DAC_VALUE));
    assert.equal(await statusText(ids.dac), 'streaming (DMABUF), queue 0');
    // 46 °C through iio-attr: the threshold's rising event reaches iio-event and its debug node.
    await page.locator(`${node(ids.heat)} .red-ui-flow-node-button`).click();
    await untilStatus(ids.attrHeat, 'emu_temp_mC read back after the write', (s) => s === '46000');
    await untilStatus(ids.event, 'one event', (s) => s === '1 event');
    await until('the event in the debug sidebar', 30000, async () =>
      ((await page.locator('.red-ui-debug-msg').allTextContents()).some((t) => t.includes('board-temp/temp/thresh/rising')) ? true : null));
    await picture('5-deployed');
  });

  it('every node\'s help renders in the help sidebar, from the book button of its dialog', async () => {
    const helpOf = async (text: string) => {
      // The topmost tray's book button (a config node's dialog stands above the node's).
      await page.locator('.red-ui-tray-footer-left button:has(i.fa-book)').last().click();
      await page.mouse.move(600, 700);
      await page.waitForFunction((t) => $('.red-ui-help:visible').text().includes(t), text);
    };
    const texts: Array<[string, string]> = [[ids.in, 'Captures samples'], [ids.event, 'Units'], [ids.attrEvent, 'Reads or writes an attribute'],
      [ids.trigger, 'Creates an IIO trigger'], [ids.dac, 'needs a trigger']];
    for (const [id, text] of texts) {
      await openByDoubleClick(id);
      await helpOf(text);
      if (id === ids.in) {
        // The iio-device config node's dialog, through the pencil beside Device.
        await page.click('#node-input-btn-device-edit');
        await page.waitForSelector('#node-config-dialog-ok', { state: 'visible' });
        await helpOf('Selects one Linux Industrial I/O');
        await page.click('#node-config-dialog-cancel');
        await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });
      }
      await closeEditor(false);
    }
  });

  it('a trigger the dialog chose is taken back when the device becomes one with a trigger attached', async () => {
    const id = await dragFromPalette('iio-in', 700, 560);
    await openByDoubleClick(id);
    // emu-thermo has no trigger attached: the workspace's is chosen.
    await page.selectOption('#node-input-device', { label: 'board-temp' });
    await page.waitForFunction(() => $('#node-input-trigger').val() === 'editor-trigger');
    assert.match((await page.textContent('#iio-in-trigger-tip')) ?? '', /^board-temp has no trigger attached: editor-trigger is chosen for it/);
    // emu-adc runs on editor-trigger since the deploy: keep its own.
    await page.selectOption('#node-input-device', { label: 'adc-main' });
    await page.waitForFunction(() => $('#node-input-trigger').val() === '' && /emu-adc/.test($('#iio-in-device-state').text()));
    assert.equal(await page.inputValue('#node-input-trigger-choice'), '');
    assert.equal(await page.locator('#iio-in-trigger-tip').isVisible(), false);
    await closeEditor(false);
    await page.locator(`${node(id)} .red-ui-flow-node`).first().click();
    await page.keyboard.press('Delete');
    await page.waitForSelector(node(id), { state: 'detached' });
  });

  it('a device on a board (the guest\'s iiod, ip:127.0.0.1): the device dialog lists the board\'s devices, the node\'s dropdowns fill from the board', async () => {
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (/\/iio\//.test(r.url())) asked.push(decodeURIComponent(r.url()));
    };
    page.on('request', onRequest);
    const id = await dragFromPalette('iio-attr', 700, 640);
    await openByDoubleClick(id);
    await page.click('#node-input-btn-device-add');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'visible' });
    await page.fill('#node-config-input-uri', 'ip:127.0.0.1');
    await page.dispatchEvent('#node-config-input-uri', 'change');
    await page.waitForFunction(() => $('#iio-device-discovered option').length > 2);
    const options = await optionTexts('#iio-device-discovered');
    const wanted = options.find((t) => t.startsWith('emu-thermo (board-temp)'));
    assert.ok(wanted, `emu-thermo (board-temp) in ${JSON.stringify(options)}`);
    await page.selectOption('#iio-device-discovered', { label: wanted });
    assert.equal(await page.inputValue('#node-config-input-deviceName'), 'emu-thermo');
    await page.waitForFunction(() => /^Matches /.test($('#iio-device-match').text()));
    assert.match((await page.textContent('#iio-device-match')) ?? '', /^Matches emu-thermo \(board-temp\) — iio:device\d+ on ip:127\.0\.0\.1\.$/);
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });
    // The attribute list is the board's: emu-thermo's own attributes, as iiod describes them.
    await page.waitForFunction(() => $('#node-input-attribute-choice option[value="emu_temp_mC"]').length === 1);
    page.off('request', onRequest);
    assert.ok(asked.some((u) => /\/iio\/devices\?uri=ip:127\.0\.0\.1/.test(u)), `the device list came from the board: ${asked.join(' ')}`);
    // The dialog's attribute list comes from that list (the devices endpoint carries them).
    const config = await page.evaluate(() => { const c = window.RED.nodes.node($('#node-input-device').val()); return { uri: c.uri, deviceName: c.deviceName }; });
    assert.deepEqual(config, { uri: 'ip:127.0.0.1', deviceName: 'emu-thermo' });
    const lists = asked.filter((u) => /\/iio\/devices(\?|$)/.test(u));
    assert.match(lists[lists.length - 1], /uri=ip:127\.0\.0\.1/, `the last device list asked for is the board's: ${asked.join(' ')}`);
    await closeEditor(false);
    await page.locator(`${node(id)} .red-ui-flow-node`).first().click();
    await page.keyboard.press('Delete');
    await page.waitForSelector(node(id), { state: 'detached' });
  });

  it('no console error in the editor comes from our code', () => {
    const ours = consoleErrors.filter((e) => /iio|nodeRedContribIio/i.test(e));
    if (consoleErrors.length) console.log(`      other console errors: ${consoleErrors.length}\n${consoleErrors.map((e) => `        ${e.split('\n')[0]}`).join('\n')}`);
    assert.deepEqual(ours, []);
  });
});
