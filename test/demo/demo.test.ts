// Host-side test of `npm run demo`: the VM boots, the editor answers on the host's loopback, the
// example flows are deployed, the temperature alarm fires and clears by itself, and a stop
// (SIGTERM, as Ctrl-C) shuts the VM down leaving no QEMU behind.
import { strict as assert } from 'assert';
import * as http from 'http';
import * as path from 'path';
import { execFileSync, spawn, ChildProcess } from 'child_process';

const root = path.join(__dirname, '../../..');
const PORT = Number(process.env.IIO_DEMO_TEST_PORT || 18880);

function get(urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: PORT, path: urlPath, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
  });
}

function qemuPids(): string[] {
  try {
    return execFileSync('pgrep', ['-f', `hostfwd=tcp:127.0.0.1:${PORT}-`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('npm run demo', function () {
  this.timeout(900000);
  let demo: ChildProcess | null = null;
  let log = '';

  after(() => {
    if (demo && demo.exitCode === null && demo.signalCode === null) {
      try {
        process.kill(-demo.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const pid of qemuPids()) process.kill(Number(pid), 'SIGKILL');
  });

  it('serves the editor and the example flows, raises and clears the alarm, and stops cleanly', async () => {
    assert.deepEqual(qemuPids(), [], `port ${PORT} already used by a demo VM`);
    const t0 = Date.now();
    // Its own process group, so the stop below is exactly what Ctrl-C in a terminal sends.
    demo = spawn('bash', ['harness/demo/demo.sh'], { cwd: root, detached: true, env: { ...process.env, IIO_DEMO_PORT: String(PORT) }, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout!.on('data', (c) => (log += c));
    demo.stderr!.on('data', (c) => (log += c));
    try {
      await until('the editor (HTTP 200)', 600000, async () => ((await get('/')).status === 200 ? true : demo!.exitCode !== null ? Promise.reject(new Error(`demo exited ${demo!.exitCode}`)) : null));
      const ready = (Date.now() - t0) / 1000;
      const flows = JSON.parse((await get('/flows')).body) as Array<{ id: string; type: string; name?: string; z?: string; wires?: string[][] }>;
      for (const type of ['iio-device', 'iio-in', 'iio-event', 'iio-attr', 'iio-trigger', 'iio-dmabuf-out', 'ui-chart', 'link in', 'link out']) {
        assert.ok(flows.some((n) => n.type === type), `the deployed flows have a ${type} node`);
      }
      // The editor drops wires between tabs on its next deploy: the dashboard is fed by link nodes.
      const z = new Map(flows.map((n) => [n.id, n.z]));
      const cross = flows.flatMap((n) => (n.wires ?? []).flat().filter((t) => z.get(t) !== n.z).map((t) => `${n.id} → ${t}`));
      assert.deepEqual(cross, [], 'wires that cross tabs');
      const status = await until('an alarm and an all-clear', 180000, async () => {
        const r = await get('/demo/status');
        if (r.status !== 200) return null;
        const s = JSON.parse(r.body) as { alarms: number; clears: number; temperatureC: number | null };
        return s.alarms >= 1 && s.clears >= 1 && s.temperatureC !== null ? s : null;
      });
      assert.ok(status.temperatureC! >= 15 && status.temperatureC! <= 55, `temperature ${status.temperatureC} °C`);
      console.log(`      editor reachable after ${ready.toFixed(0)} s; alarm and all-clear after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    } catch (err) {
      console.log(log.split('\n').slice(-40).join('\n'));
      throw err;
    } finally {
      // Ctrl-C: SIGINT to the whole process group; vm.sh asks the guest to power off.
      process.kill(-demo.pid!, 'SIGINT');
      await until('the demo to stop', 60000, async () => (demo!.exitCode !== null || demo!.signalCode !== null ? true : null));
    }
    await until('no QEMU left behind', 15000, async () => (qemuPids().length === 0 ? true : null));
    assert.match(log, /vm\.sh: stopping the guest/);
  });
});
