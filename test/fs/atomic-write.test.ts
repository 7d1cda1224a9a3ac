import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFileAtomically, createFileAtomically, writeAtomically } from '../../src/fs/atomic-write.js';
import { writeAll } from '../../src/fs/file-io.js';

describe('atomic writes', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-atomic-'));

  it('makes the target appear complete, with its mode, and leaves no temporary', async () => {
    const target = join(root, 'a', 'b', 'out.bin');
    await writeAtomically(target, [Buffer.from('one '), Buffer.from('two')], 0o600, join(root, 'tmp'));
    expect(readFileSync(target, 'utf8')).toBe('one two');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('gives writes of one target in flight at once distinct temporaries (the last rename wins, nothing collides)', async () => {
    const target = join(root, 'same', 'out.bin');
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const slow = (text: string) => async (out: Parameters<Parameters<typeof createFileAtomically>[1]>[0]): Promise<void> => {
      await writeAll(out, [Buffer.from(text)]);
      await gate;
    };
    const writes = ['first', 'second', 'third'].map((t) => createFileAtomically(target, slow(t), 0o644, join(root, 'tmp-same')));
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(join(root, 'tmp-same'))).toHaveLength(3);
    release();
    await Promise.all(writes);
    expect(['first', 'second', 'third']).toContain(readFileSync(target, 'utf8'));
    expect(readdirSync(join(root, 'tmp-same'))).toEqual([]);
  });

  it('leaves neither target nor temporary when filling fails', async () => {
    const target = join(root, 'failing', 'out.bin');
    const fill = async (out: Parameters<Parameters<typeof createFileAtomically>[1]>[0]): Promise<void> => {
      await writeAll(out, [Buffer.from('partial')]);
      throw new Error('disk on fire');
    };
    await expect(createFileAtomically(target, fill, 0o644, join(root, 'tmp2'))).rejects.toThrow('disk on fire');
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(join(root, 'tmp2'))).toEqual([]);
  });

  it('makes a folder again when it was removed after an earlier write into it', async () => {
    const dir = join(root, 'series');
    await writeAtomically(join(dir, '1.dcm'), [Buffer.from('1')], 0o644, join(root, 'tmp3'));
    rmSync(dir, { recursive: true });
    rmSync(join(root, 'tmp3'), { recursive: true });
    await writeAtomically(join(dir, '2.dcm'), [Buffer.from('2')], 0o644, join(root, 'tmp3'));
    expect(readFileSync(join(dir, '2.dcm'), 'utf8')).toBe('2');
  });

  it('copies a file byte for byte', async () => {
    const source = join(root, 'source.bin');
    const bytes = randomBytes(9 * 1024 * 1024 + 3); // past one user-space chunk
    writeFileSync(source, bytes);
    const target = join(root, 'copies', 'copy.bin');
    await copyFileAtomically(source, target, 0o600, join(root, 'tmp4'));
    expect(readFileSync(target).equals(bytes)).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });
});
