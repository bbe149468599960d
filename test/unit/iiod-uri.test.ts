import { strict as assert } from 'node:assert';
import { parseUri, formatUri, IIOD_PORT } from '../../src/iiod/uri';
import { IioError } from '../../src/errors';

describe('iiod URIs (libiio addressing)', () => {
  it('local: is the default', () => {
    for (const u of [undefined, null, '', 'local:']) assert.deepEqual(parseUri(u), { kind: 'local' });
  });

  it('ip:HOST[:PORT], with IPv6 in brackets and the default port 30431', () => {
    assert.equal(IIOD_PORT, 30431);
    assert.deepEqual(parseUri('ip:192.168.2.1'), { kind: 'ip', host: '192.168.2.1', port: 30431 });
    assert.deepEqual(parseUri('ip:pluto.local:1234'), { kind: 'ip', host: 'pluto.local', port: 1234 });
    assert.deepEqual(parseUri('ip:board-7'), { kind: 'ip', host: 'board-7', port: 30431 });
    assert.deepEqual(parseUri('ip:[::1]'), { kind: 'ip', host: '::1', port: 30431 });
    assert.deepEqual(parseUri('ip:[fe80::1%eth0]:40000'), { kind: 'ip', host: 'fe80::1%eth0', port: 40000 });
    assert.deepEqual(parseUri('ip:fe80::2'), { kind: 'ip', host: 'fe80::2', port: 30431 });
  });

  it('formats back as libiio writes it', () => {
    assert.equal(formatUri({ kind: 'local' }), 'local:');
    for (const u of ['ip:10.0.0.2', 'ip:board:1234', 'ip:[::1]', 'ip:[::1]:9']) assert.equal(formatUri(parseUri(u)), u);
  });

  const bad: Array<[unknown, RegExp]> = [
    ['ip:', /needs a host/],
    ['usb:1.2.3', /not supported/],
    ['serial:/dev/ttyUSB0', /not supported/],
    ['192.168.2.1', /use "local:" or "ip:HOST/],
    ['local:foo', /nothing after the colon/],
    ['ip:board:0', /port "0"/],
    ['ip:board:65536', /port "65536"/],
    ['ip:board:http', /port "http"/],
    ['ip:board:', /port ""/],
    ['ip:[::1', /missing "\]"/],
    ['ip:[::1]x', /expected ":PORT"/],
    ['ip:[board]:1', /not an IPv6 address/],
    ['ip:a:b:c', /IPv6 address in brackets/],
    ['ip:bad host', /not a host name/],
    ['ip:-x', /not a host name/],
    ['ip:a\nREAD', /not a host name/],
    [42, /expected a string/],
  ];
  for (const [uri, why] of bad) {
    it(`refuses ${JSON.stringify(uri)} with EINVAL`, () => {
      assert.throws(() => parseUri(uri), (e: IioError) => e instanceof IioError && e.code === 'EINVAL' && why.test(e.message) && e.message.includes('context URI'));
    });
  }
});
