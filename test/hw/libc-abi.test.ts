// The libc binding's architecture-dependent calls (size_t/long width, mmap vs mmap64, ftruncate vs
// ftruncate64, ioctl's unsigned long request, O_NONBLOCK) against the running kernel. Runs in every
// guest architecture (x86-64, arm64, armhf), where a wrong width or entry point shifts arguments.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { createExternalBuffer } from 'ffi-rs';
import {
  closeFd, eventFd, ioctl, mapShared, openFile, readInto, replaceWithAnonymous, sealedMemfd, unmap, writeFrom,
  setNonBlocking, O_RDWR, O_NONBLOCK, PROT_READ, PROT_WRITE,
} from '../../src/libc';
import { C_ABI, cAbiFor, encodeInt, decodeInt, encodeU64 } from '../../src/uapi';

const FIONREAD = 0x541b; // asm-generic/ioctls.h: x86, arm, arm64

describe(`libc ABI on ${process.arch}`, () => {
  it('derives the C ABI of this architecture', () => {
    assert.deepEqual(C_ABI, cAbiFor(process.arch));
    assert.equal(C_ABI.wordBits, process.arch === 'arm' || process.arch === 'ia32' ? 32 : 64);
  });

  it('ftruncate takes a 64-bit length: a 5 GiB sealed memfd has exactly that size', () => {
    const size = 5 * 2 ** 30 + 4096;
    const fd = sealedMemfd('abi-big', size);
    try {
      assert.equal(fs.fstatSync(fd).size, size);
    } finally {
      closeFd(fd);
    }
  });

  it('mmap shares a memfd both ways, and replaceWithAnonymous leaves zeros behind', () => {
    const fd = sealedMemfd('abi-map', 8192);
    const m = mapShared(fd, 8192, PROT_READ | PROT_WRITE);
    try {
      assert.ok(m.address > 0 && m.address % 4096 === 0, `page-aligned address ${m.address}`);
      const view = createExternalBuffer(m.pointer, 8192);
      for (let i = 0; i < 4096; i++) view[i] = (i * 7 + 3) & 0xff;
      const back = Buffer.alloc(4096);
      assert.equal(fs.readSync(fd, back, 0, 4096, 0), 4096);
      assert.ok(back.equals(view.subarray(0, 4096)));
      fs.writeSync(fd, Buffer.from('written through the fd'), 0, 22, 4096);
      assert.equal(view.subarray(4096, 4096 + 22).toString(), 'written through the fd');
      replaceWithAnonymous(m);
      assert.ok(view.every((b) => b === 0));
      fs.readSync(fd, back, 0, 4096, 0);
      assert.equal(back[1], 10, 'the file keeps its data');
    } finally {
      unmap(m);
      closeFd(fd);
    }
  });

  it('read/write carry size_t lengths and ssize_t results; O_NONBLOCK reads give null (EAGAIN)', () => {
    const fd = eventFd();
    try {
      const buf = Buffer.alloc(8);
      assert.equal(readInto(fd, buf), null, 'an empty non-blocking eventfd');
      assert.equal(writeFrom(fd, encodeU64(0x1234567890)), 8);
      assert.equal(readInto(fd, buf), 8);
      assert.equal(buf.readBigUInt64LE(0), 0x1234567890n);
    } finally {
      closeFd(fd);
    }
  });

  it('ioctl passes an unsigned long request and a pointer: FIONREAD on a file', () => {
    const path = `/tmp/abi-fionread-${process.pid}`;
    fs.writeFileSync(path, Buffer.alloc(1234, 1));
    const fd = openFile(path, O_RDWR);
    try {
      setNonBlocking(fd);
      assert.ok((parseInt(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/flags:\s+(\d+)/)![1], 8) & O_NONBLOCK) !== 0, 'O_NONBLOCK is set');
      const arg = encodeInt(-1);
      assert.equal(ioctl(fd, FIONREAD, arg), 0);
      assert.equal(decodeInt(arg), 1234);
    } finally {
      closeFd(fd);
      fs.unlinkSync(path);
    }
  });
});
