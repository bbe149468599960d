import { strict as assert } from 'node:assert';
import * as u from '../../src/uapi';
import { IioError } from '../../src/errors';

const hex = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(8, '0');

describe('uapi', () => {
  describe('_IOC encoding', () => {
    it('generic encoding gives the kernel numbers for x86/arm', () => {
      const n = u.ioctlNumbers(u.IOC_GENERIC);
      assert.equal(hex(n.IIO_GET_EVENT_FD_IOCTL), '0x80046990');
      assert.equal(hex(n.IIO_BUFFER_GET_FD_IOCTL), '0xC0046991');
      assert.equal(hex(n.IIO_BUFFER_DMABUF_ATTACH_IOCTL), '0x40046992');
      assert.equal(hex(n.IIO_BUFFER_DMABUF_DETACH_IOCTL), '0x40046993');
      assert.equal(hex(n.IIO_BUFFER_DMABUF_ENQUEUE_IOCTL), '0x40106994');
      assert.equal(hex(n.DMA_BUF_IOCTL_SYNC), '0x40086200');
      assert.equal(hex(n.DMA_HEAP_IOCTL_ALLOC), '0xC0184800');
      assert.equal(hex(n.UDMABUF_CREATE), '0x40187542');
      assert.equal(u._IO('i', 1, u.IOC_GENERIC), 0x6901);
    });

    it('powerpc/mips/sparc encoding uses 3 direction bits at 29', () => {
      const n = u.ioctlNumbers(u.IOC_PPC_MIPS_SPARC);
      assert.equal(hex(n.IIO_GET_EVENT_FD_IOCTL), '0x40046990');
      assert.equal(hex(n.IIO_BUFFER_GET_FD_IOCTL), '0xC0046991');
      assert.equal(hex(n.IIO_BUFFER_DMABUF_ATTACH_IOCTL), '0x80046992');
      assert.equal(hex(n.IIO_BUFFER_DMABUF_ENQUEUE_IOCTL), '0x80106994');
      assert.equal(hex(u._IO('i', 1, u.IOC_PPC_MIPS_SPARC)), '0x20006901');
    });

    it('picks the encoding by process.arch', () => {
      for (const arch of ['x64', 'ia32', 'arm', 'arm64', 'riscv64', 'loong64', 's390x']) assert.equal(u.iocEncodingFor(arch), u.IOC_GENERIC, arch);
      for (const arch of ['ppc64', 'ppc', 'mips', 'mipsel', 'mips64el', 'sparc64']) assert.equal(u.iocEncodingFor(arch), u.IOC_PPC_MIPS_SPARC, arch);
      assert.equal(u.IIO_GET_EVENT_FD_IOCTL, u.ioctlNumbers(u.iocEncodingFor(process.arch)).IIO_GET_EVENT_FD_IOCTL);
    });

    it('exported constants are unsigned numbers', () => {
      assert.ok(u.IIO_BUFFER_GET_FD_IOCTL > 0);
      assert.equal(typeof u.DMA_HEAP_IOCTL_ALLOC, 'number');
    });

    it('rejects out-of-range fields', () => {
      assert.throws(() => u._IOR('i', 0x100, 4), IioError);
      assert.throws(() => u._IOW('ii', 1, 4), IioError);
      assert.throws(() => u._IOW('i', 1, 1 << 14, u.IOC_GENERIC), IioError);
      assert.throws(() => u._IOW('i', 1, 1 << 13, u.IOC_PPC_MIPS_SPARC), IioError);
    });
  });

  describe('C ABI per architecture', () => {
    it('x86-64 and arm64: 64-bit words, plain mmap/ftruncate', () => {
      for (const arch of ['x64', 'arm64']) {
        assert.deepEqual(u.cAbiFor(arch), { wordBits: 64, mmap: 'mmap', ftruncate: 'ftruncate', O_NONBLOCK: 0o4000, MAP_ANONYMOUS: 0x20 }, arch);
      }
    });

    it('armv7 (armhf) and ia32: 32-bit words, the 64-bit off_t entry points', () => {
      for (const arch of ['arm', 'ia32']) {
        assert.deepEqual(u.cAbiFor(arch), { wordBits: 32, mmap: 'mmap64', ftruncate: 'ftruncate64', O_NONBLOCK: 0o4000, MAP_ANONYMOUS: 0x20 }, arch);
      }
    });

    it('mips and sparc differ in their flags', () => {
      assert.equal(u.cAbiFor('mipsel').O_NONBLOCK, 0x80);
      assert.equal(u.cAbiFor('mipsel').MAP_ANONYMOUS, 0x800);
      assert.equal(u.cAbiFor('mips64el').wordBits, 64);
      assert.equal(u.cAbiFor('sparc64').O_NONBLOCK, 0x4000);
    });

    it('the running process uses its own architecture', () => {
      assert.deepEqual(u.C_ABI, u.cAbiFor(process.arch));
    });
  });

  describe('flags', () => {
    it('match the headers', () => {
      assert.equal(u.IIO_BUFFER_DMABUF_CYCLIC, 1);
      assert.deepEqual([u.DMA_BUF_SYNC_READ, u.DMA_BUF_SYNC_WRITE, u.DMA_BUF_SYNC_RW, u.DMA_BUF_SYNC_START, u.DMA_BUF_SYNC_END], [1, 2, 3, 0, 4]);
      assert.equal(u.oCloexecFor('x64'), 0o2000000);
      assert.equal(u.oCloexecFor('mips'), 0x80000);
      assert.equal(u.oCloexecFor('sparc64'), 0x400000);
      assert.equal(u.DMA_HEAP_FD_FLAGS, 2 | 0o2000000);
      assert.deepEqual([u.MFD_ALLOW_SEALING, u.F_ADD_SEALS, u.F_SEAL_SHRINK], [2, 1033, 2]);
    });
  });

  describe('struct codecs', () => {
    it('int round trip', () => {
      const b = u.encodeInt(-5);
      assert.equal(b.length, 4);
      assert.equal(u.decodeInt(b), -5);
      assert.throws(() => u.encodeInt(2 ** 31), IioError);
    });

    it('iio_event_data decodes id and signed timestamp', () => {
      const b = Buffer.alloc(40);
      u.encodeEventDataInto(b, { id: 0x0001000900000000n, timestamp: 123456789n }, 0);
      u.encodeEventDataInto(b, { id: 0xffffffffffffffffn, timestamp: -1n }, 16);
      assert.deepEqual(u.decodeEventData(b), { id: 0x0001000900000000n, timestamp: 123456789n });
      assert.deepEqual(u.decodeEventData(b, 16), { id: 0xffffffffffffffffn, timestamp: -1n });
      assert.equal(b.readBigUInt64LE(0) === 0x0001000900000000n, u.NATIVE_LE);
      assert.throws(() => u.decodeEventData(b, 30), IioError);
    });

    it('event batch ignores a partial trailing record', () => {
      const b = Buffer.alloc(16 * 3 + 5);
      for (let i = 0; i < 3; i++) u.encodeEventDataInto(b, { id: BigInt(i), timestamp: BigInt(100 + i) }, i * 16);
      const events = u.decodeEventBatch(b);
      assert.deepEqual(events.map((e) => [e.id, e.timestamp]), [[0n, 100n], [1n, 101n], [2n, 102n]]);
      assert.equal(u.decodeEventBatch(b, 32).length, 2);
      assert.equal(u.decodeEventBatch(b.subarray(16), 20).length, 1);
      assert.deepEqual(u.decodeEventBatch(b.subarray(16), 20)[0], { id: 1n, timestamp: 101n });
    });

    it('struct pollfd: int fd, short events, short revents, in native order', () => {
      const set = Buffer.alloc(2 * u.POLLFD_SIZE, 0xff);
      u.encodePollfdInto(set, 0, 7, 0x0001);
      u.encodePollfdInto(set, 1, -1, 0x0004);
      const native = (le: () => number, be: () => number) => (u.NATIVE_LE ? le() : be());
      assert.equal(native(() => set.readInt32LE(0), () => set.readInt32BE(0)), 7);
      assert.equal(native(() => set.readUInt16LE(4), () => set.readUInt16BE(4)), 1);
      assert.equal(native(() => set.readInt32LE(8), () => set.readInt32BE(8)), -1);
      assert.equal(native(() => set.readUInt16LE(12), () => set.readUInt16BE(12)), 4);
      assert.equal(u.decodePollRevents(set, 0), 0, 'encoding clears revents');
      if (u.NATIVE_LE) set.writeUInt16LE(0x8010, 14);
      else set.writeUInt16BE(0x8010, 14);
      assert.equal(u.decodePollRevents(set, 1), 0x8010, 'revents is unsigned');
      u.clearPollRevents(set);
      assert.deepEqual([u.decodePollRevents(set, 0), u.decodePollRevents(set, 1)], [0, 0]);
      assert.throws(() => u.encodePollfdInto(set, 2, 3, 1), /pollfd 2 outside a poll set of 16 bytes/);
      assert.throws(() => u.encodePollfdInto(set, 0, -2, 1), IioError);
      assert.throws(() => u.encodePollfdInto(set, 0, 3, 0x10000), IioError);
      assert.throws(() => u.decodePollRevents(set, -1), IioError);
    });

    it('u64 in native order (the eventfd counter)', () => {
      const b = u.encodeU64(1);
      assert.equal(b.length, 8);
      assert.equal(u.NATIVE_LE ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0), 1n);
      assert.throws(() => u.encodeU64(-1), IioError);
    });

    it('iio_dmabuf layout: u32 fd, u32 flags, u64 bytes_used', () => {
      const b = u.encodeDmabuf({ fd: 7, flags: u.IIO_BUFFER_DMABUF_CYCLIC, bytesUsed: 2 ** 33 + 5 });
      assert.equal(b.length, 16);
      assert.equal(b.readUInt32LE(0), 7);
      assert.equal(b.readUInt32LE(4), 1);
      assert.equal(b.readBigUInt64LE(8), 2n ** 33n + 5n);
      const reused = Buffer.alloc(16, 0xff);
      assert.equal(u.encodeDmabufInto(reused, { fd: 3, bytesUsed: 64n }), reused);
      assert.equal(reused.readUInt32LE(4), 0);
      assert.throws(() => u.encodeDmabuf({ fd: -1, bytesUsed: 1 }), IioError);
      assert.throws(() => u.encodeDmabuf({ fd: 1, bytesUsed: 1.5 }), IioError);
      assert.throws(() => u.encodeDmabufInto(Buffer.alloc(8), { fd: 1, bytesUsed: 1 }), IioError);
    });

    it('dma_buf_sync holds u64 flags and rejects nonsense', () => {
      const b = u.encodeDmaBufSync(u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_RW);
      assert.equal(b.length, 8);
      assert.equal(b.readBigUInt64LE(0), 7n);
      assert.throws(() => u.encodeDmaBufSync(u.DMA_BUF_SYNC_END), IioError);
      assert.throws(() => u.encodeDmaBufSync(8 | 1), IioError);
    });

    it('dma_heap_allocation_data: len, fd out, fd_flags, heap_flags', () => {
      const b = u.encodeDmaHeapAlloc(1 << 20);
      assert.equal(b.length, 24);
      assert.equal(b.readBigUInt64LE(0), 1048576n);
      assert.equal(b.readUInt32LE(12), 2 | 0o2000000);
      assert.equal(b.readBigUInt64LE(16), 0n);
      b.writeUInt32LE(42, 8);
      assert.equal(u.decodeDmaHeapAllocFd(b), 42);
      assert.throws(() => u.encodeDmaHeapAlloc(0), IioError);
    });

    it('udmabuf_create: memfd, flags, offset, size', () => {
      const b = u.encodeUdmabufCreate({ memfd: 9, flags: u.UDMABUF_FLAGS_CLOEXEC, size: 8192 });
      assert.equal(b.length, 24);
      assert.deepEqual([b.readUInt32LE(0), b.readUInt32LE(4), b.readBigUInt64LE(8), b.readBigUInt64LE(16)], [9, 1, 0n, 8192n]);
    });
  });

  describe('ADI mmap block API', () => {
    it('request numbers as in ADI buffer_impl.h / libiio (0xa0..0xa4), generic and ppc encodings', () => {
      const n = u.blockIoctlNumbers(u.IOC_GENERIC);
      assert.deepEqual(Object.values(n).map(hex), ['0xC01069A0', '0x000069A1', '0xC02069A2', '0xC02069A3', '0xC02069A4']);
      const p = u.blockIoctlNumbers(u.IOC_PPC_MIPS_SPARC);
      assert.equal(hex(p.IIO_BUFFER_BLOCK_FREE_IOCTL), '0x200069A1');
      assert.equal(hex(p.IIO_BUFFER_BLOCK_DEQUEUE_IOCTL), '0xC02069A4');
    });

    it('struct iio_buffer_block is 32 bytes with the u64 at 24 on 64- and 32-bit ABIs', () => {
      for (const arch of ['x64', 'arm64', 'arm', 'ia32', 'riscv64']) {
        assert.deepEqual(u.blockStructLayout(arch), { size: 32, timestampOffset: 24 }, arch);
      }
      assert.equal(u.IIO_BLOCK_SIZE, 32);
      assert.equal(u.IIO_BLOCK_ALLOC_REQ_SIZE, 16);
    });

    it('alloc_req: type, size, count, id in that order', () => {
      const b = u.encodeBlockAllocReq({ size: 65536, count: 4 });
      assert.deepEqual([b.readUInt32LE(0), b.readUInt32LE(4), b.readUInt32LE(8), b.readUInt32LE(12)], [0, 65536, 4, 0]);
      b.writeUInt32LE(3, 8);
      b.writeUInt32LE(5, 12);
      assert.deepEqual(u.decodeBlockAllocReq(b), { type: 0, size: 65536, count: 3, id: 5 });
      assert.throws(() => u.encodeBlockAllocReq({ size: -1, count: 1 }), IioError);
      assert.throws(() => u.encodeBlockAllocReq({ size: 2 ** 32, count: 1 }), IioError);
    });

    it('iio_buffer_block: id, size, bytes_used, type, flags, offset, u64 timestamp', () => {
      const b = u.encodeBufferBlock({ id: 2, bytesUsed: 4000, flags: u.IIO_BUFFER_BLOCK_FLAG_CYCLIC, offset: 0x3000, timestamp: 2n ** 40n + 1n });
      assert.equal(b.length, 32);
      assert.deepEqual([0, 4, 8, 12, 16, 20].map((o) => b.readUInt32LE(o)), [2, 0, 4000, 0, 2, 0x3000]);
      assert.equal(b.readBigUInt64LE(24), 2n ** 40n + 1n);
      b.writeUInt32LE(8192, 4);
      b.writeUInt32LE(1, 16);
      assert.deepEqual(u.decodeBufferBlock(b), { id: 2, size: 8192, bytesUsed: 4000, type: 0, flags: 1, offset: 0x3000, timestamp: 2n ** 40n + 1n });
      const reused = Buffer.alloc(32, 0xff);
      u.encodeBufferBlockInto(reused, { id: 7 });
      assert.deepEqual(u.decodeBufferBlock(reused), { id: 7, size: 0, bytesUsed: 0, type: 0, flags: 0, offset: 0, timestamp: 0n });
      assert.throws(() => u.encodeBufferBlock({ id: 1.5 }), IioError);
      assert.throws(() => u.encodeBufferBlockInto(Buffer.alloc(24), { id: 1 }), IioError);
      assert.equal(u.IIO_BUFFER_BLOCK_FLAG_TIMESTAMP_VALID, 1);
    });
  });

  describe('name tables', () => {
    it('channel types follow enum iio_chan_type and the kernel sysfs names', () => {
      assert.equal(u.CHANNEL_TYPE_NAMES.length, 39);
      assert.equal(u.channelTypeName(u.IIO_CHAN_TYPE.VOLTAGE), 'voltage');
      assert.equal(u.channelTypeName(u.IIO_CHAN_TYPE.ANGL_VEL), 'anglvel');
      assert.equal(u.channelTypeName(u.IIO_CHAN_TYPE.LIGHT), 'illuminance');
      assert.equal(u.channelTypeName(u.IIO_CHAN_TYPE.TEMP), 'temp');
      assert.equal(u.channelTypeName(u.IIO_CHAN_TYPE.TIMESTAMP), 'timestamp');
      assert.equal(u.channelTypeName(u.IIO_CHAN_TYPE.DELTA_VELOCITY), 'deltavelocity');
      assert.equal(u.channelTypeName(u.IIO_CHAN_TYPE.CHROMATICITY), 'chromaticity');
      assert.equal(u.channelTypeName(200), 'unknown(200)');
      assert.equal(u.channelTypeFromName('accel'), 3);
      assert.equal(u.channelTypeFromName('massconcentration'), 34);
      assert.equal(u.channelTypeFromName('light'), undefined);
      assert.equal(Object.keys(u.IIO_CHAN_TYPE).length, u.CHANNEL_TYPE_NAMES.length);
    });

    it('modifiers follow enum iio_modifier and iio_modifier_names', () => {
      assert.equal(u.MODIFIER_NAMES.length, 53);
      assert.equal(u.modifierName(0), '');
      assert.equal(u.modifierName(u.IIO_MOD.X_AND_Y), 'x&y');
      assert.equal(u.modifierName(u.IIO_MOD.X_OR_Y_OR_Z), 'x|y|z');
      assert.equal(u.modifierName(u.IIO_MOD.ROOT_SUM_SQUARED_X_Y_Z), 'sqrt(x^2+y^2+z^2)');
      assert.equal(u.modifierName(u.IIO_MOD.LIGHT_BOTH), 'both');
      assert.equal(u.modifierName(u.IIO_MOD.LIGHT_DUV), 'duv');
      assert.equal(u.modifierName(u.IIO_MOD.LIGHT_UVB), 'uvb');
      assert.equal(u.modifierFromName('z'), 3);
      assert.equal(u.modifierFromName('linear_x'), 45);
      assert.equal(u.modifierFromName(''), undefined);
      assert.equal(u.modifierNames().length, 52);
      assert.ok(!u.modifierNames().includes(''));
      assert.equal(Object.keys(u.IIO_MOD).length, u.MODIFIER_NAMES.length);
    });

    it('event types and directions', () => {
      assert.deepEqual(u.EVENT_TYPE_NAMES, ['thresh', 'mag', 'roc', 'thresh_adaptive', 'mag_adaptive', 'change', 'mag_referenced', 'gesture']);
      assert.deepEqual(u.EVENT_DIRECTION_NAMES, ['either', 'rising', 'falling', 'none', 'singletap', 'doubletap']);
      assert.equal(u.eventTypeFromName('thresh_adaptive'), 3);
      assert.equal(u.eventDirectionFromName('falling'), 2);
      assert.equal(u.eventTypeName(9), 'unknown(9)');
    });
  });

  describe('event codes', () => {
    it('decodes a temperature threshold rising on channel 0', () => {
      const c = u.decodeEventCode(0x0001000900000000n);
      assert.deepEqual(c, {
        type: 0, typeName: 'thresh', direction: 1, directionName: 'rising', channelType: 9, channelTypeName: 'temp',
        channel: 0, channel2: 0, modifier: 0, modifierName: '', differential: false,
      });
    });

    it('decodes falling, modified, differential and unnumbered events', () => {
      assert.equal(u.decodeEventCode(0x0002000900000003n).directionName, 'falling');
      assert.equal(u.decodeEventCode(0x0002000900000003n).channel, 3);
      const accel = u.decodeEventCode(0x0101010300000000n);
      assert.deepEqual([accel.typeName, accel.directionName, accel.modifierName, accel.channelTypeName], ['mag', 'rising', 'x', 'accel']);
      const diff = u.decodeEventCode(0x0080000000020001n);
      assert.deepEqual([diff.differential, diff.channel, diff.channel2, diff.channelTypeName, diff.directionName], [true, 1, 2, 'voltage', 'either']);
      const unnumbered = u.decodeEventCode(0x000100090000ffffn);
      assert.equal(unnumbered.channel, -1);
      const gesture = u.decodeEventCode(0x0705000300000000n);
      assert.deepEqual([gesture.typeName, gesture.directionName], ['gesture', 'doubletap']);
    });

    it('encodes the inverse, with signed channels', () => {
      assert.equal(u.encodeEventCode({ type: 0, direction: 1, channelType: 9, channel: 0 }), 0x0001000900000000n);
      assert.equal(u.encodeEventCode({ type: 1, direction: 1, channelType: 3, channel: 0, modifier: 1 }), 0x0101010300000000n);
      assert.equal(u.encodeEventCode({ type: 0, direction: 0, channelType: 0, channel: 1, channel2: 2, differential: true }), 0x0080000000020001n);
      assert.equal(u.encodeEventCode({ type: 0, direction: 1, channelType: 9, channel: -1 }), 0x000100090000ffffn);
      for (const id of [0x0001000900000000n, 0x0080000000020001n, 0x07057f12fffe8000n]) {
        const c = u.decodeEventCode(id);
        assert.equal(u.encodeEventCode(c), id);
      }
      assert.throws(() => u.encodeEventCode({ type: 0, direction: 0x80, channelType: 0, channel: 0 }), IioError);
      assert.throws(() => u.encodeEventCode({ type: 0, direction: 0, channelType: 0, channel: 40000 }), IioError);
    });
  });
});
