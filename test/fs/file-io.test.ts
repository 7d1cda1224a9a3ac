import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type CopyOptions, copyRange, readExactly, writeAll } from '../../src/fs/file-io.js';
import { kernelCopy, kernelCopyAvailable } from '../../src/fs/kernel-copy.js';
import { swapWords, swapWordsInPlace } from '../../src/dicom/write.js';
import { REPO } from '../helpers/corpus.js';

describe('file I/O helpers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deid-fileio-'));
  const source = join(dir, 'source');
  const content = randomBytes(100_003);
  writeFileSync(source, content);

  let n = 0;
  async function copied(offset: number, length: number, options: CopyOptions, from_ = source): Promise<Buffer> {
    const target = join(dir, `t-${n++}`);
    const from = await open(from_, 'r');
    const out = await open(target, 'wx');
    try {
      await writeAll(out, [Buffer.from('head')]);
      await copyRange(from, out, offset, length, options);
      await writeAll(out, [Buffer.from('tail')]);
    } finally {
      await out.close();
      await from.close();
    }
    return readFileSync(target);
  }

  const expected = (offset: number, length: number, bytes = content): Buffer =>
    Buffer.concat([Buffer.from('head'), bytes.subarray(offset, offset + length), Buffer.from('tail')]);

  it('copies a range in user space through two alternating buffers, whatever the chunk size', async () => {
    for (const chunkSize of [1000, 4096, 65_536, 1 << 20]) {
      const got = await copied(17, 99_000, { inKernel: false, chunkSize });
      expect(got.equals(expected(17, 99_000)), `chunk ${chunkSize}`).toBe(true);
    }
  });

  it('copies a range in the kernel, between writes made at the file position', async () => {
    expect(kernelCopyAvailable).toBe(process.platform === 'linux'); // built by npm ci (build:native)
    const from = await open(source, 'r');
    const out = await open(join(dir, 'kernel'), 'wx');
    try {
      await writeAll(out, [Buffer.from('head')]);
      expect(await kernelCopy(from, out, 17, 99_000)).toBe(99_000);
      await writeAll(out, [Buffer.from('tail')]);
    } finally {
      await out.close();
      await from.close();
    }
    expect(readFileSync(join(dir, 'kernel')).equals(expected(17, 99_000))).toBe(true);
    expect((await copied(3, 100_000, {})).equals(expected(3, 100_000))).toBe(true);
  });

  it('loads the addon in worker threads too (instances are written there)', async () => {
    const script = join(dir, 'probe.mjs');
    writeFileSync(script, `import { parentPort } from 'node:worker_threads';
const m = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'src', 'fs', 'kernel-copy.js')).href)});
parentPort.postMessage(m.kernelCopyAvailable);\n`);
    const worker = new Worker(script);
    try {
      const [available] = (await once(worker, 'message')) as [boolean];
      expect(available).toBe(process.platform === 'linux');
    } finally {
      await worker.terminate();
    }
  });

  it('finishes in user space what the kernel will not copy (another file system)', async () => {
    // /dev/shm is tmpfs, the target folder is not: copy_file_range refuses across them (EXDEV).
    const shm = mkdtempSync('/dev/shm/deid-fileio-');
    onTestFinished(() => rmSync(shm, { recursive: true, force: true }));
    const elsewhere = join(shm, 'source');
    writeFileSync(elsewhere, content);
    const from = await open(elsewhere, 'r');
    const out = await open(join(dir, 'cross'), 'wx');
    try {
      expect(await kernelCopy(from, out, 0, 1000)).toBeLessThan(1000);
    } finally {
      await out.close();
      await from.close();
    }
    expect((await copied(5, 90_000, {}, elsewhere)).equals(expected(5, 90_000))).toBe(true);
  });

  it('swaps words across chunk boundaries exactly as a whole-buffer swap does', async () => {
    for (const swap of [2, 4, 8]) {
      const got = await copied(8, 96_000, { chunkSize: 240, transform: (b) => swapWordsInPlace(b, swap) });
      expect(got.subarray(4, -4).equals(swapWords(content.subarray(8, 8 + 96_000), swap)), `swap ${swap}`).toBe(true);
    }
  });

  it('refuses a range that runs past the end of the source, in user space and in the kernel alike', async () => {
    await expect(copied(100_000, 10, { inKernel: false, chunkSize: 4 })).rejects.toThrow(RangeError);
    await expect(copied(100_000, 10, {})).rejects.toThrow(RangeError);
  });

  it('reads exactly the bytes asked for', async () => {
    const fh = await open(source, 'r');
    try {
      const buf = Buffer.alloc(10);
      await readExactly(fh, buf, 10, 5);
      expect(buf.equals(content.subarray(5, 15))).toBe(true);
      await expect(readExactly(fh, buf, 10, 100_000)).rejects.toThrow(RangeError);
    } finally {
      await fh.close();
    }
  });

  it('writes many buffers in order with one call', async () => {
    const target = join(dir, 'many');
    const parts = Array.from({ length: 3000 }, (_, i) => Buffer.from(`${i},`));
    const out = await open(target, 'wx');
    try {
      await writeAll(out, [Buffer.alloc(0), ...parts, Buffer.alloc(0)]);
    } finally {
      await out.close();
    }
    expect(readFileSync(target, 'utf8')).toBe(parts.map(String).join(''));
  });
});
