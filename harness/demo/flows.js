// Prints the demo's flow file: the package's example flows, each on its own tab, plus a
// dashboard tab charting the ADC and the temperature, and GET /demo/status (alarm and all-clear
// counts, last temperature) for the host-side demo test.
'use strict';
const fs = require('fs');
const path = require('path');

const examples = path.join(__dirname, '../../examples');
const flows = [];
const byName = {};
for (const file of fs.readdirSync(examples).filter((f) => f.endsWith('.json')).sort()) {
  const nodes = JSON.parse(fs.readFileSync(path.join(examples, file), 'utf8'));
  const label = file.replace(/\.json$/, '');
  const tabs = new Set(nodes.filter((n) => n.z).map((n) => n.z));
  for (const z of tabs) flows.push({ id: z, type: 'tab', label, disabled: false, info: '' });
  flows.push(...nodes);
  byName[label] = nodes;
}

// One capture per buffer: the sysfs-trigger example waits for a "start" so it does not compete
// with the triggered capture example for emu-adc's buffer0.
for (const n of byName['Create and fire a sysfs trigger'] || []) if (n.type === 'iio-in') n.autoStart = false;

const dash = 'demo0000dash0000';
const base = 'demo0000base0000';
const page = 'demo0000page0000';
const theme = 'demo0000them0000';
const groupAdc = 'demo0000gadc0000';
const groupTemp = 'demo0000gtmp0000';
flows.push(
  { id: dash, type: 'tab', label: 'Dashboard (demo)', disabled: false, info: 'Charts of the emulated ADC and thermometer: open /dashboard' },
  { id: base, type: 'ui-base', name: 'IIO demo', path: '/dashboard', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'], showPathInSidebar: false, navigationStyle: 'default', titleBarStyle: 'default' },
  { id: theme, type: 'ui-theme', name: 'Default', colors: { surface: '#ffffff', primary: '#0094CE', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' }, sizes: { pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' } },
  { id: page, type: 'ui-page', name: 'IIO', ui: base, path: '/iio', icon: 'chart-line', layout: 'grid', theme, order: 1, className: '', visible: 'true', disabled: 'false' },
  { id: groupAdc, type: 'ui-group', name: 'emu-adc (mean per message, V)', page, width: '6', height: '1', order: 1, showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default' },
  { id: groupTemp, type: 'ui-group', name: 'emu-thermo (°C)', page, width: '6', height: '1', order: 2, showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default' },
);

const chart = (id, group, label, ymin, ymax, series) => ({
  id, type: 'ui-chart', z: dash, group, name: label, label, order: 1, chartType: 'line',
  category: series ?? 'topic', categoryType: series ? 'str' : 'msg',
  xAxisLabel: '', xAxisProperty: '', xAxisPropertyType: 'timestamp', xAxisType: 'time', xAxisFormat: '', xAxisFormatType: 'auto',
  xmin: '', xmax: '', yAxisLabel: '', yAxisProperty: 'payload', yAxisPropertyType: 'msg', ymin, ymax, bins: 10, action: 'append',
  stackSeries: false, pointShape: 'false', pointRadius: 4, showLegend: true, removeOlder: '2', removeOlderUnit: '60', removeOlderPoints: '',
  colors: ['#0095FF', '#FF0000', '#FF7F0E', '#2CA02C', '#A347E1', '#D62728', '#FF9896', '#9467BD', '#C5B0D5'],
  textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 6, height: 6, className: '', interpolation: 'linear',
  x: 560, y: id.endsWith('1') ? 60 : 160, wires: [[]],
});
flows.push(chart('demo0000chrt0001', groupAdc, 'ADC channels', '', ''), chart('demo0000chrt0002', groupTemp, 'Temperature', '15', '55', 'temperature °C'));

// ADC blocks → one mean per channel per message, as chart points.
flows.push({
  id: 'demo0000mean0001', type: 'function', z: dash, name: 'mean per channel', outputs: 1, x: 330, y: 60, wires: [['demo0000chrt0001']],
  func: [
    'const out = [];',
    'for (const [name, values] of Object.entries(msg.payload)) {',
    "  if (name.startsWith('timestamp') || !values || !values.length) continue;",
    '  let sum = 0;',
    '  for (const v of values) sum += Number(v);',
    '  out.push({ topic: name, payload: sum / values.length / 1000 });',
    '}',
    'return [out];',
  ].join('\n'),
});
// Wires cannot cross tabs (the editor drops them on the next deploy): link nodes carry the
// example tabs' messages to the dashboard tab.
let links = 0;
function linkTo(from, targets) {
  links++;
  const out = `demo0000lout${String(links).padStart(4, '0')}`;
  const into = `demo0000lin0${String(links).padStart(4, '0')}`;
  flows.push(
    { id: out, type: 'link out', z: from.z, name: `to dashboard ${links}`, mode: 'link', links: [into], x: from.x + 160, y: from.y + 40, wires: [] },
    { id: into, type: 'link in', z: dash, name: `from ${from.name || from.type}`, links: [out], x: 120, y: 60 + 80 * links, wires: [targets] },
  );
  from.wires[0].push(out);
}
for (const n of byName['Triggered ADC capture'] || []) if (n.type === 'iio-in') linkTo(n, ['demo0000mean0001']);

// Temperature readings (°C) → the chart and the status; alarms and all-clears → the status.
flows.push({
  id: 'demo0000stat0001', type: 'function', z: dash, name: 'record for /demo/status', outputs: 1, x: 330, y: 220, wires: [[]],
  func: [
    "const s = global.get('demoStatus') || { alarms: 0, clears: 0, temperatureC: null, last: null };",
    "if (msg.alarm === true) { s.alarms++; s.last = 'alarm'; }",
    "else if (msg.alarm === false) { s.clears++; s.last = 'all clear'; }",
    "else if (typeof msg.payload === 'number') s.temperatureC = msg.payload;",
    "global.set('demoStatus', s);",
    'return null;',
  ].join('\n'),
});
for (const n of byName['Temperature threshold alarm'] || []) {
  const setsAlarm = n.type === 'change' && (n.rules || []).some((r) => r.p === 'alarm');
  const toCelsius = n.type === 'change' && (n.rules || []).some((r) => r.tot === 'jsonata' && /1000/.test(String(r.to)));
  if (setsAlarm) linkTo(n, ['demo0000stat0001']);
  if (toCelsius) linkTo(n, ['demo0000stat0001', 'demo0000chrt0002']);
  // A reading every second makes a smoother chart than the example's 5 s.
  if (n.type === 'inject' && n.repeat) n.repeat = '1';
}

flows.push(
  { id: 'demo0000http0001', type: 'http in', z: dash, name: '', url: '/demo/status', method: 'get', upload: false, swaggerDoc: '', x: 120, y: 300, wires: [['demo0000http0002']] },
  { id: 'demo0000http0002', type: 'function', z: dash, name: 'status', outputs: 1, x: 330, y: 300, wires: [['demo0000http0003']],
    func: "msg.payload = global.get('demoStatus') || { alarms: 0, clears: 0, temperatureC: null, last: null };\nreturn msg;" },
  { id: 'demo0000http0003', type: 'http response', z: dash, name: '', statusCode: '', headers: {}, x: 520, y: 300, wires: [] },
);

process.stdout.write(JSON.stringify(flows, null, 2) + '\n');
