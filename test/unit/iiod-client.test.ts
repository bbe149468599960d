import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { RemoteContext } from '../../src/iiod/client';
import { IiodConnection } from '../../src/iiod/connection';
import { IioError } from '../../src/errors';
import type { CapturedBlock } from '../../src/buffer';
import { FakeIiod, Handler, sized, liveHandles, CONTEXT_XML as FIXTURE } from '../lib/fake-iiod';
import { emuAdcBlock, EMU_ADC_CHANNELS } from '../lib/emu-pattern';
import { checkPattern } from '../lib/hw';

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A faithful iiod 0.24 for the fixture's board, with `extra` answering first. */
function iiod(extra?: Handler): Handler {
  const attrs: Record<string, string> = {
    'READ iio:device1 sampling_frequency': '1000',
    'READ iio:device1 INPUT voltage0 scale': '0.805664',
    'READ iio:device1 BUFFER data_available': '0',
    'READ iio:device1 DEBUG direct_reg_access': '0x0',
    'READ trigger0 sampling_frequency': '1000.000000',
  };
  return (line, s) => {
    const a = extra?.(line, s);
    if (a) return a;
    if (line === 'PRINT') return { reply: sized(FIXTURE + '') };
    if (line in attrs) return { reply: sized(`${attrs[line]}\0`) };
    if (line.startsWith('READ ')) return { reply: '-2\n' };
    const w = /^WRITE (.*) (\d+)$/.exec(line);
    if (w) return { payload: Number(w[2]), then: (p) => ((attrs[`READ ${w[1]}`] = p.toString()), `${p.length}\n`) };
    if (/^(TIMEOUT \d+|SETTRIG iio:device\d( t0)?)$/.test(line)) return { reply: '0\n' };
    if (line === 'GETTRIG iio:device1') return { reply: '-5\n' };
    return { reply: '-22\n' };
  };
}

describe('iiod client against a scripted peer', function () {
  this.timeout(10000);
  let fake: FakeIiod | null = null;
  let ctx: RemoteContext | null = null;
  let baseline = { sockets: 0, timers: 0 };

  // Async like afterEach, so that mocha's own hook timer counts in both.
  beforeEach(async () => {
    baseline = liveHandles();
  });

  afterEach(async () => {
    await ctx?.close();
    await fake?.close();
    ctx = null;
    fake = null;
    await tick();
    await tick();
    const now = liveHandles();
    assert.deepEqual(now, baseline, 'the client left a socket or a timer behind');
  });

  async function serve(h: Handler): Promise<FakeIiod> {
    fake = await new FakeIiod(h).listen();
    return fake;
  }

  it('reads the description and device, channel, buffer, debug and trigger attributes; writes; triggers', async () => {
    const f = await serve(iiod());
    ctx = await RemoteContext.connect(f.uri, { timeoutMs: 2000 });
    assert.equal(ctx.uri, `ip:127.0.0.1:${f.port}`);
    const adc = ctx.findDevice({ name: 'emu-adc' });
    assert.equal(adc.id, 'iio:device1');
    assert.equal(ctx.findDevice({ label: 'dac-main' }).name, 'emu-dac');
    assert.throws(() => ctx!.findDevice({ name: 'nope' }), (e: IioError) => e.code === 'ENOENT' && e.message.includes(`ip:127.0.0.1:${f.port}`));
    assert.equal(await ctx.readAttr(adc, 'sampling_frequency'), '1000');
    assert.equal(await ctx.readAttr(adc, 'scale', { kind: 'channel', channel: 'voltage0', direction: 'in' }), '0.805664');
    assert.equal(await ctx.readAttr(adc, 'data_available', { kind: 'buffer' }), '0');
    assert.equal(await ctx.readAttr(adc, 'direct_reg_access', { kind: 'debug' }), '0x0');
    assert.equal(await ctx.readAttr(ctx.findTrigger('t0')!, 'sampling_frequency'), '1000.000000');
    assert.equal(await ctx.writeAttr(adc, 'sampling_frequency', 2000), 4);
    assert.equal(await ctx.readAttr(adc, 'sampling_frequency'), '2000');
    assert.equal(await ctx.getTrigger(adc), '');
    await ctx.setTrigger(adc, 't0');
    await ctx.setTrigger(adc, '');
    await ctx.setTimeout(3000);
    assert.deepEqual(f.lines, [
      'PRINT', 'READ iio:device1 sampling_frequency', 'READ iio:device1 INPUT voltage0 scale', 'READ iio:device1 BUFFER data_available',
      'READ iio:device1 DEBUG direct_reg_access', 'READ trigger0 sampling_frequency', 'WRITE iio:device1 sampling_frequency 4',
      'READ iio:device1 sampling_frequency', 'GETTRIG iio:device1', 'SETTRIG iio:device1 t0', 'SETTRIG iio:device1', 'TIMEOUT 3000',
    ]);
  });

  it('a negative errno names command, device, attribute and host, and the session goes on', async () => {
    const f = await serve(iiod());
    ctx = await RemoteContext.connect(f.uri);
    await assert.rejects(ctx.readAttr('iio:device1', 'bogus'), (e: IioError) =>
      e.code === 'ENOENT' && e.errno === 2 && e.syscall === 'iiod READ' && e.device === 'iio:device1' && e.attribute === 'bogus' &&
      e.message === `iiod READ on bogus (iio:device1) failed: ENOENT (No such file or directory): 127.0.0.1:${f.port}: the daemon answered -2`);
    assert.equal(await ctx.readAttr('iio:device1', 'sampling_frequency'), '1000');
    assert.equal(ctx.connected, true);
  });

  it('refuses words that would split or end a command line before sending anything', async () => {
    const f = await serve(iiod());
    ctx = await RemoteContext.connect(f.uri);
    await assert.rejects(ctx.readAttr('iio:device1', 'raw\nWRITE x'), (e: IioError) => e.code === 'EINVAL');
    await assert.rejects(ctx.readAttr('iio:device1 x', 'raw'), (e: IioError) => e.code === 'EINVAL' && /device id/.test(e.message));
    await assert.rejects(ctx.setTrigger('iio:device1', 't0 x'), (e: IioError) => e.code === 'EINVAL');
    await assert.rejects(ctx.writeAttr('iio:device9', 'raw', 1), (e: IioError) => e.code === 'ENODEV' && /no device iio:device9 at ip:127\.0\.0\.1:/.test(e.message));
    assert.deepEqual(f.lines, ['PRINT']);
  });

  it('connection refused is ECONNREFUSED naming the host', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await assert.rejects(RemoteContext.connect(`ip:127.0.0.1:${port}`), (e: IioError) =>
      e.code === 'ECONNREFUSED' && e.syscall === 'connect' && e.message.includes(`127.0.0.1:${port}`));
  });

  const badPeers: Array<[string, Handler, string, RegExp]> = [
    ['a truncated description, then close', (l, s) => { if (l === 'PRINT') { s.socket.end('7462\n<?xml version="1.0"'); } }, 'ECONNRESET', /iiod PRINT failed: ECONNRESET .*closed/],
    ['a 4 GiB length', (l) => (l === 'PRINT' ? { reply: '4294967296\n' } : undefined), 'EPROTO', /announced 4294967296 bytes, more than the 16777216 allowed/],
    ['junk (an HTTP server)', (l) => (l === 'PRINT' ? { reply: 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n' } : undefined), 'EPROTO', /expected an integer line, got "HTTP\/1\.1 400 Bad Request\\r"/],
    ['an endless line', (l) => (l === 'PRINT' ? { reply: Buffer.alloc(1 << 20, 0x41) } : undefined), 'EPROTO', /a reply line longer than 256 bytes/],
    ['binary junk with a newline', (l) => (l === 'PRINT' ? { reply: Buffer.from([0xff, 0x00, 0x13, 0x0a]) } : undefined), 'EPROTO', /expected an integer line/],
    ['a description that is not one', (l) => (l === 'PRINT' ? { reply: sized('<html/>') } : undefined), 'EPROTO', /root element <html>/],
    ['no newline after the value', (l) => (l === 'PRINT' ? { reply: '3\nabcX' } : undefined), 'EPROTO', /no newline after the value/],
    ['silence', () => ({}), 'ETIMEDOUT', /iiod PRINT failed: ETIMEDOUT .*no reply in 300 ms/],
  ];
  for (const [what, handler, code, message] of badPeers) {
    it(`a peer sending ${what}: ${code}, and the socket is closed`, async () => {
      const f = await serve(handler);
      await assert.rejects(RemoteContext.connect(f.uri, { timeoutMs: 300 }), (e: IioError) => e instanceof IioError && e.code === code && message.test(e.message) && e.message.includes(`127.0.0.1:${f.port}`));
      // The client hung up itself: the fake server's side sees the end.
      while (!f.sessions[0].peerClosed) await sleep(5);
    });
  }

  const badReplies: Array<[string, Handler, string, RegExp]> = [
    ['closes mid-reply', (l, s) => { if (l.startsWith('READ ')) s.socket.end('9\n0.80'); }, 'ECONNRESET', /iiod READ on sampling_frequency \(iio:device1\) failed: ECONNRESET/],
    ['a 4 GiB attribute', (l) => (l.startsWith('READ ') ? { reply: '4294967295\n' } : undefined), 'EPROTO', /announced 4294967295 bytes, more than the 1048576 allowed/],
    ['a huge integer', (l) => (l.startsWith('READ ') ? { reply: '99999999999999999999999\n' } : undefined), 'EPROTO', /expected an integer line/],
    ['silence', (l) => (l.startsWith('READ ') ? {} : undefined), 'ETIMEDOUT', /no reply in 300 ms/],
    ['half a value, then silence', (l) => (l.startsWith('READ ') ? { reply: '9\n0.8' } : undefined), 'ETIMEDOUT', /no data \(3 of 9 bytes so far\) in 300 ms/],
  ];
  for (const [what, handler, code, message] of badReplies) {
    it(`an attribute read whose peer ${what}: ${code}; later commands fail the same way, nothing is left`, async () => {
      const f = await serve(iiod(handler));
      ctx = await RemoteContext.connect(f.uri, { timeoutMs: 300 });
      let first: IioError | undefined;
      await assert.rejects(ctx.readAttr('iio:device1', 'sampling_frequency'), (e: IioError) => ((first = e), e.code === code && message.test(e.message) && e.device === 'iio:device1'));
      assert.equal(ctx.connected, false);
      await assert.rejects(ctx.readAttr('iio:device1', 'sampling_frequency'), (e: unknown) => e === first);
    });
  }

  it('bytes beyond a reply end the session (EPROTO), the reply itself is kept', async () => {
    const f = await serve(iiod((l) => (l === 'READ iio:device1 sampling_frequency' ? { reply: Buffer.concat([sized('1000\0'), Buffer.from('-2\n')]) } : undefined)));
    ctx = await RemoteContext.connect(f.uri);
    assert.equal(await ctx.readAttr('iio:device1', 'sampling_frequency'), '1000');
    assert.equal(ctx.connected, false);
    await assert.rejects(ctx.readAttr('iio:device1', 'sampling_frequency'), (e: IioError) => e.code === 'EPROTO' && /3 bytes (after the reply|from the peer while no command was running)/.test(e.message));
  });

  it('bytes while no command runs end the session (EPROTO)', async () => {
    const f = await serve(iiod());
    ctx = await RemoteContext.connect(f.uri);
    f.sessions[0].socket.write('surprise\n');
    await sleep(50);
    assert.equal(ctx.connected, false);
    assert.equal(f.sessions[0].peerClosed, true);
    await assert.rejects(ctx.readAttr('iio:device1', 'sampling_frequency'), (e: IioError) => e.code === 'EPROTO' && /9 bytes from the peer while no command was running/.test(e.message));
  });

  it('a peer that keeps its side open after EXIT is dropped: close() still resolves', async () => {
    const f = await serve(iiod());
    ctx = await RemoteContext.connect(f.uri);
    (f.sessions[0].socket as unknown as { end: () => void }).end = () => undefined; // ignores EXIT
    await ctx.close();
    assert.equal(ctx.connected, false);
  });

  it('commands wait in a bounded queue (EAGAIN beyond); close rejects them all with ECANCELED', async () => {
    const f = await serve(() => ({}));
    const conn = await IiodConnection.connect({ host: '127.0.0.1', port: f.port, timeoutMs: 5000, maxQueued: 3 });
    const results = Array.from({ length: 5 }, () => conn.run({ command: 'VERSION' }, 'VERSION\n', (r) => r.integer()).then(() => 'ok', (e: IioError) => e.code));
    await tick();
    await conn.close();
    assert.deepEqual(await Promise.all(results), ['ECANCELED', 'ECANCELED', 'ECANCELED', 'EAGAIN', 'EAGAIN']);
    assert.equal(conn.usable, false);
  });

  describe('capture', () => {
    const all = EMU_ADC_CHANNELS.map((c) => c.name);
    /** Answers READBUF with the emulator's exact bytes, each block in two chunks split mid-scan. */
    function adcServer(opts: { mask?: string; status?: string; oversize?: boolean } = {}): Handler {
      let scan = 0;
      return iiod((line) => {
        if (line === 'OPEN iio:device1 100 000001ff') return { reply: '0\n' };
        if (line === 'CLOSE iio:device1') return { reply: '0\n' };
        const m = /^READBUF iio:device1 (\d+)$/.exec(line);
        if (!m) return undefined;
        if (opts.status) return { reply: opts.status };
        const data = emuAdcBlock(all, scan, 100);
        scan += 100;
        assert.equal(data.length, Number(m[1]));
        const cut = 1234;
        const first = opts.oversize ? data.length + 1 : cut;
        return { reply: Buffer.concat([Buffer.from(`${first}\n${opts.mask ?? '000001ff'}\n`), data.subarray(0, cut), Buffer.from(`${data.length - cut}\n`), data.subarray(cut)]) };
      });
    }

    it('puts the daemon\'s chunks together into whole blocks the scan decoder reads exactly; stop CLOSEs', async () => {
      const f = await serve(adcServer());
      ctx = await RemoteContext.connect(f.uri);
      const blocks: CapturedBlock[] = [];
      const errors: IioError[] = [];
      const cap = await ctx.openInput({ name: 'emu-adc' }, { scansPerBlock: 100, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
      assert.equal(cap.layout.scanBytes, 40);
      assert.equal(cap.mask, '000001ff');
      while (blocks.length < 5) await sleep(5);
      await cap.close();
      assert.equal(cap.running, false);
      assert.deepEqual(errors, []);
      checkPattern(cap, blocks.slice(0, 5), 500);
      assert.deepEqual(blocks.slice(0, 5).map((b) => [b.sequence, b.scans, b.data.length, b.overrun]), [1, 2, 3, 4, 5].map((i) => [i, 100, 4000, false]));
      const session = f.sessions[1].lines;
      assert.deepEqual(session.slice(0, 3), ['TIMEOUT 5000', 'OPEN iio:device1 100 000001ff', 'READBUF iio:device1 4000']);
      assert.deepEqual(session.slice(-2), ['CLOSE iio:device1', 'EXIT']);
      await cap.close();
    });

    const failures: Array<[string, Parameters<typeof adcServer>[0], string, RegExp]> = [
      ['another mask', { mask: '00000103' }, 'EPROTO', /channel mask 00000103, not the 000001ff opened/],
      ['the daemon\'s timeout', { status: '-110\n' }, 'ETIMEDOUT', /iiod READBUF \(emu-adc\) failed: ETIMEDOUT/],
      ['a chunk beyond the block', { oversize: true }, 'EPROTO', /a chunk of 4001 bytes where 4000 remain/],
    ];
    for (const [what, opts, code, message] of failures) {
      it(`${what}: onError ${code}, the capture stops and leaves no socket`, async () => {
        const f = await serve(adcServer(opts));
        ctx = await RemoteContext.connect(f.uri);
        const errors: IioError[] = [];
        const cap = await ctx.openInput({ name: 'emu-adc' }, { scansPerBlock: 100, onBlock: () => assert.fail('no block expected'), onError: (e) => errors.push(e) });
        while (errors.length === 0) await sleep(5);
        assert.equal(errors.length, 1);
        assert.ok(errors[0].code === code && message.test(errors[0].message), errors[0].message);
        assert.equal(cap.running, false);
        await cap.close();
      });
    }

    it('pipelines READBUF: the next is sent before the current reply is read; blocks stay in order and exact', async () => {
      let pending: Array<() => void> = [];
      let scan = 0;
      const f = await serve(iiod((line, s) => {
        if (line.startsWith('OPEN ') || line === 'CLOSE iio:device1') return { reply: '0\n' };
        if (!line.startsWith('READBUF ')) return undefined;
        // Answer only once two READBUFs wait: without pipelining the capture would stall here.
        pending.push(() => {
          const data = emuAdcBlock(all, scan, 100);
          scan += 100;
          s.socket.write(Buffer.concat([Buffer.from(`${data.length}\n000001ff\n`), data]));
        });
        if (pending.length === 2) {
          const answers = pending;
          pending = [];
          for (const a of answers) a();
        }
        return {};
      }));
      ctx = await RemoteContext.connect(f.uri);
      const blocks: CapturedBlock[] = [];
      const cap = await ctx.openInput({ name: 'emu-adc' }, { scansPerBlock: 100, onBlock: (b) => blocks.push(b), onError: (e) => assert.fail(e.message) });
      while (blocks.length < 6) await sleep(5);
      checkPattern(cap, blocks.slice(0, 6), 600);
      for (const a of pending) a(); // the one still waiting, so that stop's CLOSE is answered in time
      await cap.close();
    });

    it('a block in one chunk larger than the bytes queued before pausing, trickled in small writes: whole, exact, each in memory of its own', async () => {
      let scan = 0;
      const scans = 60000; // 2.4 MB: more than the 2 MiB queued before the socket pauses
      const f = await serve(iiod((line, s) => {
        if (line.startsWith('OPEN ') || line === 'CLOSE iio:device1') return { reply: '0\n' };
        if (!line.startsWith('READBUF ')) return undefined;
        const data = emuAdcBlock(all, scan, scans);
        scan += scans;
        const reply = Buffer.concat([Buffer.from(`${data.length}\n000001ff\n`), data]);
        void (async () => {
          for (let at = 0; at < reply.length; at += 65536) {
            if (s.socket.destroyed) return;
            s.socket.write(reply.subarray(at, at + 65536));
            await sleep(1);
          }
        })();
        return {};
      }));
      ctx = await RemoteContext.connect(f.uri);
      const blocks: CapturedBlock[] = [];
      const errors: IioError[] = [];
      const cap = await ctx.openInput({ name: 'emu-adc' }, { scansPerBlock: scans, pipeline: 1, onBlock: (b) => blocks.push(b), onError: (e) => errors.push(e) });
      while (blocks.length < 3 && errors.length === 0) await sleep(5);
      await cap.close();
      assert.deepEqual(errors.map((e) => e.message), []);
      checkPattern(cap, blocks.slice(0, 3), 3 * scans);
      const second = Buffer.from(blocks[1].data);
      blocks[0].data.fill(0xa5); // a flow writing into its payload touches no other block
      assert.deepEqual(blocks[1].data, second);
    });

    it('stop while the daemon sits on a READBUF: the wait times out, the session is dropped (iiod then closes the buffer), no error is reported', async () => {
      const f = await serve(iiod((line) => (line.startsWith('OPEN ') ? { reply: '0\n' } : line.startsWith('READBUF ') ? {} : undefined)));
      ctx = await RemoteContext.connect(f.uri, { timeoutMs: 300 });
      const errors: IioError[] = [];
      const cap = await ctx.openInput({ name: 'emu-adc' }, { scansPerBlock: 10, onBlock: () => assert.fail('no block expected'), onError: (e) => errors.push(e) });
      while (f.sessions[1].lines.length < 34) await sleep(5);
      await cap.close();
      assert.deepEqual(errors, []);
      // 32 READBUFs (400-byte blocks: the most outstanding), sent together, none more while none is answered.
      assert.deepEqual(f.sessions[1].lines, ['TIMEOUT 300', 'OPEN iio:device1 10 000001ff', ...Array(32).fill('READBUF iio:device1 400')]);
      while (!f.sessions[1].peerClosed) await sleep(5);
    });

    it('a channel set iiod 0.24 sizes wrongly (no trailing padding in libiio) is refused before OPEN', async () => {
      const f = await serve(iiod());
      ctx = await RemoteContext.connect(f.uri);
      await assert.rejects(ctx.openInput({ name: 'emu-adc' }, { scansPerBlock: 10, channels: ['accel_z', 'voltage3', 'voltage2'], onBlock: () => undefined, onError: () => undefined }),
        (e: IioError) => e.code === 'EINVAL' && /libiio counts 10-byte scans where the kernel pads them to 12/.test(e.message));
      assert.equal(f.sessions.length, 1);
    });

    it('OPEN refused (no trigger: EINVAL) rejects openInput and closes its session', async () => {
      const f = await serve(iiod());
      ctx = await RemoteContext.connect(f.uri);
      await assert.rejects(ctx.openInput({ name: 'emu-adc' }, { scansPerBlock: 10, channels: ['voltage0'], onBlock: () => undefined, onError: () => undefined }),
        (e: IioError) => e.code === 'EINVAL' && e.syscall === 'iiod OPEN' && e.device === 'emu-adc');
      assert.deepEqual(f.sessions[1].lines, ['TIMEOUT 5000', 'OPEN iio:device1 10 00000001', 'EXIT']);
    });
  });

  describe('output', () => {
    function dacServer(refuse = false): Handler {
      return iiod((line) => {
        if (line === 'OPEN iio:device2 4 00000003' || line === 'CLOSE iio:device2') return { reply: '0\n' };
        const m = /^WRITEBUF iio:device2 (\d+)$/.exec(line);
        if (!m) return undefined;
        if (refuse) return { reply: '-9\n' };
        return { ready: '0\n', payload: Number(m[1]), then: (p) => `${p.length}\n` };
      });
    }

    it('sends each block once the daemon is ready for it; a cyclic block is repeated until stop', async () => {
      const f = await serve(dacServer());
      ctx = await RemoteContext.connect(f.uri);
      const errors: IioError[] = [];
      const out = await ctx.openOutput({ name: 'emu-dac' }, { scansPerBlock: 4, blocks: 2, onError: (e) => errors.push(e) });
      assert.equal(out.layout.scanBytes, 4);
      const a = Buffer.from('0123456789abcdef');
      const b = Buffer.from('ABCDEFGH');
      assert.throws(() => out.write(Buffer.alloc(6)), (e: IioError) => e.code === 'EINVAL' && /1 to 4 4-byte scans/.test(e.message));
      assert.throws(() => out.write(Buffer.alloc(20)), (e: IioError) => e.code === 'EINVAL');
      assert.equal(out.write(a), true);
      assert.equal(out.write(b, true), true);
      assert.equal(out.write(a), false, 'the queue of 2 is full');
      const session = () => f.sessions[1];
      while (session().payloads.length < 5) await sleep(5);
      await out.close();
      assert.deepEqual(errors, []);
      const p = session().payloads;
      assert.deepEqual(p[0], a);
      for (const x of p.slice(1)) assert.deepEqual(x, b);
      assert.equal(out.written, a.length + b.length * (p.length - 1));
      assert.deepEqual(session().lines.slice(-2), ['CLOSE iio:device2', 'EXIT']);
      assert.throws(() => out.write(a), (e: IioError) => e.code === 'EBADF');
    });

    it('a refused WRITEBUF sends no bytes (they would be read as commands) and reports EBADF', async () => {
      const f = await serve(dacServer(true));
      ctx = await RemoteContext.connect(f.uri);
      const errors: IioError[] = [];
      const out = await ctx.openOutput({ name: 'emu-dac' }, { scansPerBlock: 4, onError: (e) => errors.push(e) });
      out.write(Buffer.from('WRITE iio:devic\n'));
      while (errors.length === 0) await sleep(5);
      assert.ok(errors[0].code === 'EBADF' && errors[0].syscall === 'iiod WRITEBUF', errors[0].message);
      await out.close();
      assert.deepEqual(f.sessions[1].lines, ['TIMEOUT 5000', 'OPEN iio:device2 4 00000003', 'WRITEBUF iio:device2 16', 'CLOSE iio:device2', 'EXIT']);
    });
  });
});
