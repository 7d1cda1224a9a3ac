import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAudit, auditPathOf, readAudit } from '../../src/audit/audit-log.js';

const fresh = async (): Promise<string> => auditPathOf(join(await mkdtemp(join(tmpdir(), 'audit-')), 'store.json'));

describe('audit log', () => {
  it('appends hash-chained lines, mode 0600, and reads them back whole', async () => {
    const path = await fresh();
    await appendAudit(path, { who: 'cli:alice', action: 'crosswalk.lookup', project: 'P', pseudonyms: ['P_001'] });
    await appendAudit(path, { who: 'console:bob', action: 'quarantine.discard', project: 'P', inputHash: 'ab'.repeat(32), comment: 'line\nbreak' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const { records, brokenAt } = await readAudit(path);
    expect(brokenAt).toBeUndefined();
    expect(records.map((r) => [r.seq, r.action])).toEqual([[1, 'crosswalk.lookup'], [2, 'quarantine.discard']]);
    // A comment cannot forge a second line.
    expect(records[1]?.comment).toBe('line break');
    expect((await readFile(path, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('shows an edited or removed line as a broken chain', async () => {
    const path = await fresh();
    for (const action of ['a', 'b', 'c']) await appendAudit(path, { who: 'cli:x', action });
    const lines = (await readFile(path, 'utf8')).split('\n');
    await writeFile(path, [lines[0], lines[1]?.replace('"b"', '"B"'), lines[2], ''].join('\n'));
    expect((await readAudit(path)).brokenAt).toBe(3);
    await writeFile(path, [lines[0], lines[2], ''].join('\n'));
    expect((await readAudit(path)).brokenAt).toBe(2);
  });

  it('shows lines removed from the end (the head is ahead of the log), and says so in the log at the next append', async () => {
    const path = await fresh();
    for (const action of ['a', 'b', 'c', 'd']) await appendAudit(path, { who: 'cli:x', action });
    const whole = await readAudit(path);
    expect([whole.cutShort, whole.brokenAt]).toEqual([undefined, undefined]);
    const lines = (await readFile(path, 'utf8')).split('\n');
    await writeFile(path, [lines[0], lines[1], ''].join('\n'));
    expect((await readAudit(path)).cutShort).toEqual({ headSeq: 4, lastSeq: 2 });
    // The same number of lines, the last one replaced: also a cut.
    await writeFile(path, [lines[0], lines[1], lines[2], lines[3]?.replace('"d"', '"D"'), ''].join('\n'));
    expect((await readAudit(path)).brokenAt ?? (await readAudit(path)).cutShort).toBeDefined();
    await writeFile(path, [lines[0], lines[1], ''].join('\n'));
    await appendAudit(path, { who: 'cli:x', action: 'e' });
    const after = await readAudit(path);
    expect(after.brokenAt).toBeUndefined();
    expect(after.cutShort).toBeUndefined();
    expect(after.records.map((r) => [r.seq, r.action])).toEqual([[1, 'a'], [2, 'b'], [3, 'audit.cut-short'], [4, 'e']]);
    expect(after.records[2]?.detail).toEqual({ headSeq: 4, lastSeq: 2 });
    expect((await stat(`${path}.head`)).mode & 0o777).toBe(0o600);
  });

  it('cuts a torn last line (a crash mid-append) and chains on from the last whole one', async () => {
    const path = await fresh();
    await appendAudit(path, { who: 'cli:x', action: 'a' });
    await appendFile(path, '{"seq":2,"at":"20');
    await appendAudit(path, { who: 'cli:x', action: 'b' });
    const { records, brokenAt } = await readAudit(path);
    expect(brokenAt).toBeUndefined();
    expect(records.map((r) => r.action)).toEqual(['a', 'b']);
  });

  it('keeps one chain when several processes append at once', async () => {
    const path = await fresh();
    // Other processes run the built module (npm test builds first), as the CLI and agent do.
    const url = resolve('dist/src/audit/audit-log.js');
    const child = (n: number): Promise<number> => new Promise((resolve, reject) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e',
        `const { appendAudit } = await import(${JSON.stringify(url)}); for (let i = 0; i < 15; i++) await appendAudit(${JSON.stringify(path)}, { who: 'cli:p${n}', action: 'x' });`,
      ], { stdio: 'inherit' });
      p.on('error', reject);
      p.on('exit', (code) => resolve(code ?? -1));
    });
    const codes = await Promise.all([child(1), child(2), child(3), Promise.all(Array.from({ length: 15 }, () => appendAudit(path, { who: 'cli:main', action: 'x' }))).then(() => 0)]);
    expect(codes).toEqual([0, 0, 0, 0]);
    const { records, brokenAt } = await readAudit(path);
    expect(brokenAt).toBeUndefined();
    expect(records).toHaveLength(60);
  }, 60_000);
});
