// Loaded by mocha (--require) before any test file in the hardware suite: the newest Node for
// armv7l on the npm registry is 20.11.0, and zlib.crc32 arrived in 20.15. Test files take their
// `import * as zlib` copy when they load, so the polyfill has to be in place before them.
const zlib = require('zlib') as { crc32?: (data: Uint8Array, value?: number) => number };

if (typeof zlib.crc32 !== 'function') {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  zlib.crc32 = (data: Uint8Array, value = 0): number => {
    let c = ~value >>> 0;
    for (const b of data) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return ~c >>> 0;
  };
}
