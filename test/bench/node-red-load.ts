// CPU and memory of a real Node-RED running iio-in at 1 kHz with 4 channels (emu-adc), measured
// from /proc over a fixed window. Run in the VM (npm run bench) or on a board.
import * as fs from 'fs';
import * as path from 'path';
import * as http from 'http';
import { spawn } from 'child_process';

const root = path.join(__dirname, '../../..');
const userDir = fs.mkdtempSync('/tmp/nr-bench-');
const PORT = 18801;
const WINDOW_S = Number(process.env.BENCH_SECONDS || 20);
const TICKS = 100; // USER_HZ on Linux

const flow = [
  { id: 'b-tab', type: 'tab', label: 'bench' },
  { id: 'b-dev', type: 'iio-device', deviceName: 'emu-adc' },
  { id: 'b-trig', type: 'iio-trigger', z: 'b-tab', kind: 'hrtimer', triggerName: 'bench-1k', frequency: 1000, x: 100, y: 40, wires: [] },
  { id: 'b-in', type: 'iio-in', z: 'b-tab', device: 'b-dev', channels: ['voltage0', 'voltage1', 'accel_x', 'accel_y'], buffer: 0, trigger: 'bench-1k', samples: 100, output: 'arrays', scaled: false, timestamps: true, autoStart: true, transport: 'read', bufferLength: 0, x: 100, y: 100, wires: [['b-count']] },
  { id: 'b-count', type: 'function', z: 'b-tab', func: 'context.set("n", (context.get("n") || 0) + msg.scans); return null;', outputs: 1, x: 300, y: 100, wires: [[]] },
];

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    http.get(url, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', () => resolve(0));
  });
}

function cpuTicks(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

async function main() {
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(root, path.join(userDir, 'node_modules', 'node-red-contrib-iio'));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = { uiHost: '127.0.0.1', uiPort: ${PORT}, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'warn' } } };\n`);
  const red = spawn(process.execPath, [path.join(root, 'node_modules/node-red/red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { stdio: 'inherit' });
  try {
    const end = Date.now() + 120000;
    while ((await get(`http://127.0.0.1:${PORT}/`)) !== 200) {
      if (Date.now() > end) throw new Error('Node-RED did not come up');
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 5000)); // warm up
    const c0 = cpuTicks(red.pid!);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const cpu = (cpuTicks(red.pid!) - c0) / TICKS / ((Date.now() - t0) / 1000);
    console.log(`Node-RED ${require(path.join(root, 'node_modules/node-red/package.json')).version}, iio-in at 1 kHz, 4 channels + timestamp, 100 scans per message, ${WINDOW_S} s window`);
    console.log(`CPU ${(cpu * 100).toFixed(1)} % of one core, RSS ${(rssKiB(red.pid!) / 1024).toFixed(1)} MiB`);
  } finally {
    red.kill('SIGINT');
    await new Promise((r) => red.once('exit', r));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
