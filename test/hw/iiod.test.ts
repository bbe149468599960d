// Remote boards: Debian's iiod 0.24 serving the emulator in this guest, reached over ip:127.0.0.1,
// against the local path (sysfs, the kernel's buffers) on the same devices.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { spawn, execFile, ChildProcess } from 'child_process';
import { RemoteContext } from '../../src/iiod/client';
import type { RemoteDevice, RemoteChannel } from '../../src/iiod/context-xml';
import type { CapturedBlock } from '../../src/buffer';
import { IioError } from '../../src/errors';
import { encodeScans } from '../../src/scan';
import { createHrtimerTrigger, removeHrtimerTrigger } from '../../src/trigger';
import { emuAdcBlock } from '../lib/emu-pattern';
import { ctx as local, emu, readSys, writeSys, waitFor, sleep, checkPattern } from '../lib/hw';

const ADC_TRIGGER = 'iiod-adc';
const DAC_TRIGGER = 'iiod-dac';

describe('remote boards over iiod 0.24 (ip:127.0.0.1, the emulator in this guest)', function () {
  this.timeout(300000);
  let iiod: ChildProcess | null = null;
  let iiodLog = '';
  let ctx: RemoteContext;
  const remote = (name: string): RemoteDevice => ctx.findDevice({ name });
  // A process killed by a signal has signalCode set and exitCode null.
  const iiodRunning = () => iiod !== null && iiod.exitCode === null && iiod.signalCode === null;

  before(async () => {
    // iiod describes the context once, when it starts: the triggers must exist before.
    createHrtimerTrigger(ADC_TRIGGER).writeFrequency(2000);
    createHrtimerTrigger(DAC_TRIGGER).writeFrequency(4000);
    iiod = spawn('iiod', [], { stdio: ['ignore', 'ignore', 'pipe'] });
    iiod.stderr!.on('data', (d: Buffer) => (iiodLog = (iiodLog + d.toString()).slice(-4000)));
    const end = Date.now() + 30000;
    for (;;) {
      try {
        ctx = await RemoteContext.connect('ip:127.0.0.1', { timeoutMs: 5000 });
        break;
      } catch (err) {
        if (Date.now() > end || !iiodRunning()) throw new Error(`iiod did not come up: ${(err as Error).message}\n${iiodLog}`);
        await sleep(200);
      }
    }
  });

  after(async () => {
    await ctx?.close();
    if (iiodRunning()) {
      const exited = new Promise((r) => iiod!.once('exit', r));
      iiod!.kill('SIGTERM');
      const timer = setTimeout(() => iiod!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    for (const name of ['emu-adc', 'emu-dac'] as const) emu(name).writeCurrentTrigger('');
    removeHrtimerTrigger(ADC_TRIGGER);
    removeHrtimerTrigger(DAC_TRIGGER);
  });

  it('lists the devices, channels, scan elements and triggers the local discovery finds', () => {
    for (const dev of local.devices()) {
      const r = ctx.devices().find((d) => d.id === dev.id);
      assert.ok(r, `${dev.id} (${dev.name}) is not in iiod's context`);
      assert.equal(r.name, dev.name);
      assert.equal(r.label, dev.label);
      // libiio names an extended channel `voltage4` + name `supply`; the kernel's id is `voltage4_supply`.
      const remoteScan = r.channels.filter((c) => c.scanElement).map((c) => [c.direction, c.name ? `${c.id}_${c.name}` : c.id, c.scanElement!.index, c.scanElement!.typeString]);
      const localScan = (dev.buffers[0]?.scanElements ?? []).map((e) => [e.direction, e.channel, e.index, e.typeString]);
      assert.deepEqual(remoteScan, localScan, `${dev.name}: scan elements`);
      if (['emu-thermo', 'emu-adc', 'emu-dac'].includes(dev.name)) {
        const ids = (list: Array<{ direction: string; id: string }>) => list.map((c) => `${c.direction}:${c.id}`).sort();
        assert.deepEqual(ids(r.channels), ids(dev.channels), `${dev.name}: channels`);
        for (const c of dev.channels) {
          const rc: RemoteChannel = r.channels.find((x: RemoteChannel) => x.id === c.id && x.direction === c.direction)!;
          assert.deepEqual(Object.fromEntries(rc.attributes.map((a) => [a.name, a.filename])), c.attributes, `${dev.name} ${c.id}: attribute files`);
        }
        for (const a of r.attributes) assert.ok(dev.attributes.includes(a), `${dev.name}: iiod's attribute ${a} is not a local one`);
      }
    }
    assert.deepEqual(ctx.devices().filter((d) => d.id.startsWith('iio:device')).map((d) => d.id).sort(), local.devices().map((d) => d.id).sort());
    const localTriggers = local.triggers().map((t) => t.name).sort();
    assert.deepEqual(ctx.triggers().map((t) => t.name).sort(), localTriggers);
    assert.ok(localTriggers.includes(ADC_TRIGGER) && localTriggers.includes(DAC_TRIGGER));
  });

  for (const name of ['emu-adc', 'emu-thermo'] as const) {
    it(`every attribute of ${name} reads as the local sysfs file does (device, channel, buffer, trigger)`, async () => {
      const dev = emu(name);
      const r = remote(name);
      let compared = 0;
      for (const a of r.attributes) {
        assert.equal(await ctx.readAttr(r, a), readSys(dev, a), `${name} ${a}`);
        compared++;
      }
      for (const c of r.channels) {
        for (const a of c.attributes) {
          assert.equal(await ctx.readAttr(r, a.name, { kind: 'channel', channel: c.id, direction: c.direction }), readSys(dev, a.filename!), `${name} ${c.id} ${a.name}`);
          compared++;
        }
      }
      for (const a of ['length', 'enable', 'watermark', ...r.bufferAttributes]) {
        assert.equal(await ctx.readAttr(r, a, { kind: 'buffer' }), readSys(dev, `buffer0/${a}`), `${name} buffer ${a}`);
        compared++;
      }
      assert.ok(compared >= 8, `${compared} attributes compared`);
      const trig = ctx.findTrigger(ADC_TRIGGER)!;
      assert.equal(await ctx.readAttr(trig, 'sampling_frequency'), fs.readFileSync(path.join(local.findTrigger(ADC_TRIGGER)!.sysfsPath, 'sampling_frequency'), 'utf8').trim());
      await assert.rejects(ctx.readAttr(r, 'no_such_attribute'), (e: IioError) => e.code === 'ENOENT' && e.syscall === 'iiod READ');
    });
  }

  it('writes reach sysfs: a device attribute, an output channel attribute, the trigger; refusals keep their errno', async () => {
    const adc = emu('emu-adc');
    const dac = emu('emu-dac');
    const before = readSys(adc, 'sampling_frequency');
    try {
      assert.equal(await ctx.writeAttr(remote('emu-adc'), 'sampling_frequency', 1500), 4);
      assert.equal(readSys(adc, 'sampling_frequency'), '1500');
      await assert.rejects(ctx.writeAttr(remote('emu-adc'), 'sampling_frequency', 'abc'), (e: IioError) => e.code === 'EINVAL' && e.syscall === 'iiod WRITE' && e.attribute === 'sampling_frequency');
    } finally {
      writeSys(adc, 'sampling_frequency', before);
    }
    await ctx.writeAttr(remote('emu-dac'), 'raw', 1234, { kind: 'channel', channel: 'voltage1', direction: 'out' });
    assert.equal(readSys(dac, 'out_voltage1_raw'), '1234');
    await ctx.setTrigger(remote('emu-adc'), ADC_TRIGGER);
    assert.equal(readSys(adc, 'trigger/current_trigger'), ADC_TRIGGER);
    assert.equal(await ctx.getTrigger(remote('emu-adc')), ADC_TRIGGER);
    await ctx.setTrigger(remote('emu-adc'), '');
    assert.equal(readSys(adc, 'trigger/current_trigger'), '');
    assert.equal(await ctx.getTrigger(remote('emu-adc')), '');
    await assert.rejects(ctx.setTrigger(remote('emu-adc'), 'no-such-trigger'), (e: IioError) => e.code === 'ENOENT');
  });

  async function capture(channels: string[] | undefined, scansPerBlock: number, blocks: number) {
    const adc = emu('emu-adc');
    writeSys(adc, 'emu_dropped_scans', 0);
    await ctx.setTrigger(remote('emu-adc'), ADC_TRIGGER);
    const got: CapturedBlock[] = [];
    const errors: IioError[] = [];
    const cap = await ctx.openInput(remote('emu-adc'), { channels, scansPerBlock, onBlock: (b) => got.push(b), onError: (e) => errors.push(e) });
    try {
      assert.equal(readSys(adc, 'buffer0/enable'), '1');
      await waitFor(() => got.length >= blocks || errors.length > 0, `${blocks} blocks`, 120000);
    } finally {
      await cap.close();
    }
    assert.deepEqual(errors, []);
    await waitFor(() => readSys(adc, 'buffer0/enable') === '0', 'stop leaves the buffer disabled (iiod disables it on CLOSE, or once it sees the client gone)', 15000);
    assert.equal(readSys(adc, 'emu_dropped_scans'), '0');
    return { cap, got };
  }

  it('captures every emu-adc scan format exactly (all channels: le:u12/16>>4, le/be s16, le:s24/32>>8, u16X4, timestamp)', async () => {
    const { cap, got } = await capture(undefined, 500, 10);
    assert.equal(cap.layout.scanBytes, 40);
    assert.equal(cap.mask, '000001ff');
    assert.deepEqual(got.slice(0, 10).map((b) => [b.sequence, b.scans, b.data.length]), got.slice(0, 10).map((_, i) => [i + 1, 500, 20000]));
    checkPattern(cap, got.slice(0, 10), 5000);
  });

  it('captures subsets with the kernel\'s layout; refuses the sets libiio 0.24 sizes wrongly', async () => {
    // voltage2 (2 B) at 0, voltage3 (4 B) at 4, accel_z (2 B) at 8: the kernel pads to 12, libiio counts 10.
    await assert.rejects(ctx.openInput(remote('emu-adc'), { channels: ['accel_z', 'voltage3', 'voltage2'], scansPerBlock: 100, onBlock: () => undefined, onError: () => undefined }),
      (e: IioError) => e.code === 'EINVAL' && /libiio counts 10-byte scans where the kernel pads them to 12/.test(e.message));
    const withTs = await capture(['accel_z', 'voltage3', 'voltage2', 'timestamp'], 100, 10);
    assert.deepEqual(withTs.cap.layout.elements.map((e) => [e.name, e.offset]), [['voltage2', 0], ['voltage3', 4], ['accel_z', 8], ['timestamp', 16]]);
    assert.equal(withTs.cap.mask, '0000018c');
    checkPattern(withTs.cap, withTs.got.slice(0, 10), 1000);
    const two = await capture(['voltage1', 'voltage0'], 250, 4);
    assert.equal(two.cap.layout.scanBytes, 4);
    checkPattern(two.cap, two.got.slice(0, 4), 1000);
    // The bytes themselves, not only the decoded values: the kernel's, as iiod passed them on.
    assert.deepEqual(Buffer.concat(two.got.slice(0, 4).map((b) => b.data)), emuAdcBlock(['voltage0', 'voltage1'], 0, 1000));
  });

  it('free-running as fast as iiod keeps up (emu_free_running 2, no trigger): 200 000 scans, none missing, every value exact', async () => {
    const adc = emu('emu-adc');
    await ctx.setTrigger(remote('emu-adc'), '');
    writeSys(adc, 'emu_free_running', 2);
    const got: CapturedBlock[] = [];
    const errors: IioError[] = [];
    try {
      const cap = await ctx.openInput(remote('emu-adc'), { scansPerBlock: 4096, onBlock: (b) => got.push(b), onError: (e) => errors.push(e) });
      try {
        await waitFor(() => got.length * 4096 >= 200000 || errors.length > 0, '200 000 scans', 120000);
      } finally {
        await cap.close();
      }
      assert.deepEqual(errors, []);
      // Mode 2 produces only while the kernel buffer has room: a gap would be a scan iiod or we lost.
      checkPattern(cap, got, got.length * 4096);
    } finally {
      writeSys(adc, 'emu_free_running', 0);
    }
    await waitFor(() => readSys(adc, 'buffer0/enable') === '0', 'the buffer disabled (iiod disables it on CLOSE, or once it sees the client gone)', 15000);
  });

  it('iio_readdev (libiio-utils) over the same iiod gives the same bytes', async () => {
    await ctx.setTrigger(remote('emu-adc'), '');
    const out = await new Promise<Buffer>((resolve, reject) => {
      execFile('iio_readdev', ['-u', 'ip:127.0.0.1', '-t', ADC_TRIGGER, '-b', '100', '-s', '300', 'emu-adc', 'voltage0', 'voltage1'],
        { encoding: 'buffer', timeout: 60000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr.toString()}`)) : resolve(stdout)));
    });
    assert.deepEqual(out, emuAdcBlock(['voltage0', 'voltage1'], 0, 300));
    await waitFor(() => readSys(emu('emu-adc'), 'buffer0/enable') === '0', 'the buffer disabled (iiod disables it on CLOSE, or once it sees the client gone)', 15000);
  });

  async function dacOutput(body: (out: Awaited<ReturnType<RemoteContext['openOutput']>>, errors: IioError[]) => Promise<void>) {
    const dac = emu('emu-dac');
    writeSys(dac, 'emu_reset', 1);
    await ctx.setTrigger(remote('emu-dac'), DAC_TRIGGER);
    const errors: IioError[] = [];
    const out = await ctx.openOutput(remote('emu-dac'), { scansPerBlock: 256, blocks: 2, onError: (e) => errors.push(e) });
    try {
      assert.equal(out.layout.scanBytes, 4);
      await body(out, errors);
    } finally {
      await out.close();
    }
    assert.deepEqual(errors, []);
    await waitFor(() => readSys(dac, 'buffer0/enable') === '0', 'stop leaves the buffer disabled (iiod disables it on CLOSE, or once it sees the client gone)', 15000);
  }

  it('output to emu-dac: the DAC consumes exactly the bytes written (count and CRC-32)', async () => {
    const dac = emu('emu-dac');
    await dacOutput(async (out) => {
      const scans = 4096;
      const v0 = Int16Array.from({ length: scans }, (_, i) => ((i * 37) % 65536) - 32768);
      const v1 = Int16Array.from({ length: scans }, (_, i) => 1000 - i);
      const data = encodeScans(out.layout, { voltage0: v0, voltage1: v1 }, scans);
      let full = 0;
      for (let off = 0; off < data.length; off += 1024) {
        while (!out.write(data.subarray(off, off + 1024))) {
          full++;
          await sleep(5);
        }
      }
      await waitFor(() => Number(readSys(dac, 'emu_consumed_bytes')) >= data.length, 'the DAC to consume everything', 120000);
      assert.equal(Number(readSys(dac, 'emu_consumed_bytes')), data.length);
      assert.equal(Number(readSys(dac, 'emu_consumed_scans')), scans);
      assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(data).toString(16).padStart(8, '0')}`);
      assert.equal(out.written, data.length);
      assert.ok(full > 0, 'backpressure was exercised');
    });
  });

  it('cyclic output is emulated (iiod 0.24 refuses CYCLIC with EPERM): the DAC consumes the block over and over', async () => {
    const dac = emu('emu-dac');
    let wave: Buffer = Buffer.alloc(0);
    await dacOutput(async (out) => {
      wave = encodeScans(out.layout, { voltage0: Int16Array.from({ length: 256 }, (_, i) => i * 100 - 12800), voltage1: Int16Array.from({ length: 256 }, (_, i) => -i) }, 256);
      assert.equal(out.write(wave, true), true);
      await waitFor(() => Number(readSys(dac, 'emu_consumed_bytes')) >= 4 * wave.length, 'four periods', 120000);
    });
    const consumed = Number(readSys(dac, 'emu_consumed_bytes'));
    assert.equal(consumed % 4, 0);
    const periods = Math.ceil(consumed / wave.length);
    const stream = Buffer.concat(Array.from({ length: periods }, () => wave)).subarray(0, consumed);
    assert.equal(readSys(dac, 'emu_consumed_crc32'), `0x${zlib.crc32(stream).toString(16).padStart(8, '0')}`);
  });

  // Last: it ends the daemon.
  it('the board goes away mid-capture (iiod killed): onError names the device and the host, the capture and the session end', async () => {
    const adc = emu('emu-adc');
    await ctx.setTrigger(remote('emu-adc'), ADC_TRIGGER);
    const got: CapturedBlock[] = [];
    const errors: IioError[] = [];
    const cap = await ctx.openInput(remote('emu-adc'), { scansPerBlock: 100, onBlock: (b) => got.push(b), onError: (e) => errors.push(e) });
    try {
      await waitFor(() => got.length >= 2, 'two blocks', 60000);
      const exited = new Promise((r) => iiod!.once('exit', r));
      iiod!.kill('SIGKILL');
      await exited;
      await waitFor(() => errors.length > 0, 'the capture to notice', 30000);
    } finally {
      await cap.close();
      // A killed iiod cannot disable what it enabled: put the buffer back for the next test file.
      if (readSys(adc, 'buffer0/enable') !== '0') {
        console.log('      (the killed iiod left emu-adc buffer0 enabled; disabled it here)');
        writeSys(adc, 'buffer0/enable', 0);
      }
    }
    assert.equal(errors.length, 1);
    assert.ok(['ECONNRESET', 'EPIPE'].includes(errors[0].code) && errors[0].device === 'emu-adc' && errors[0].message.includes('127.0.0.1:30431'), errors[0].message);
    assert.equal(cap.running, false);
    await assert.rejects(ctx.readAttr(remote('emu-adc'), 'sampling_frequency'), (e: IioError) => ['ECONNRESET', 'EPIPE'].includes(e.code));
    assert.equal(ctx.connected, false);
    await assert.rejects(RemoteContext.connect('ip:127.0.0.1', { timeoutMs: 2000 }), (e: IioError) => e.code === 'ECONNREFUSED');
  });
});
