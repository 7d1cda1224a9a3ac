import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/tools.js';

// `retrieve --wait` on a real pseudo-terminal (util-linux script), from the built CLI. The agent's
// part is played by this test, writing the request's progress and report files as PacsRetrieval
// does (atomically, the same shapes), so the bar's moves are deterministic; the real agent and
// PACS are in test/sources/pacs-retrieval.test.ts, which checks the plain lines.

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const accession = (a: string, received: number, delivered: number, quarantined: number) =>
  ({ accession: a, found: true, studies: 1, received, delivered, quarantined, failed: 0 });

describe('retrieve --wait progress on a terminal', () => {
  it('shows waiting, then accessions done of the request\'s total with the instances, and prints the report', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-retrieve-progress-'));
    const requests = join(root, 'requests');
    const config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify({
      store: join(root, 'store.json'),
      projects: [{
        name: 'RET', prefix: 'RET_', inbox: join(root, 'inbox'), outbox: join(root, 'out'), quarantine: join(root, 'q'), failed: join(root, 'f'),
        dateShiftDays: -10, pacs: { host: '127.0.0.1', port: 1, calledAET: 'NOBODY' },
        retrieve: { schedule: '0 1 * * *', requests, method: 'get' },
      }],
    }));
    mkdirSync(join(requests, 'now'), { recursive: true });
    const list = join(root, 'Doe_Jane_list.csv');
    writeFileSync(list, 'AccessionNumber\nACC1001\nACC1002\nACC1003\n*\n');
    const command = `stty cols 150 rows 30; ${[process.execPath, CLI, 'retrieve', '--config', config, '--project', 'RET', '--accessions', list, '--wait', '60']
      .map(shellQuote).join(' ')}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, TERM: 'xterm' } });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { output += c; });
    const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
    try {
      // The request as the CLI queued it.
      let request: string | undefined;
      for (let i = 0; i < 100 && !request; i++) {
        request = readdirSync(join(requests, 'now')).find((n) => n.endsWith('.csv'));
        if (!request) await sleep(100);
      }
      expect(request).toBeDefined();
      const path = join(requests, 'now', request as string);
      await sleep(1200); // the CLI shows the request waiting for the agent
      const first = accession('ACC1001', 3, 3, 0);
      writeFileSync(`${path}.progress.json`, JSON.stringify({ startedAt: new Date().toISOString(), done: [first] }));
      await sleep(1200); // one accession of three done
      const done = [first, accession('ACC1002', 1, 0, 1), { ...accession('ACC1003', 0, 0, 0), found: false, studies: 0 }];
      const report = { project: 'RET', request, startedAt: '', finishedAt: '', totals: {}, accessions: done, refused: [{ line: 5, reason: 'wildcard' }] };
      writeFileSync(`${path}.report.json`, `${JSON.stringify(report, null, 2)}\n`);
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const [bar = '', ...rest] = output.split('\r\n');
    const frames = bar.split('\r').filter((f) => f !== '').map((f) => f.replace(/^\x1b\[2K/, ''));
    expect(frames[0]).toMatch(/^\[> +\] {2}0\/3 {2}0% {2}-- accessions\/s {2}ETA -- {2}waiting for the agent {2}received 0 {2}delivered 0 {2}quarantined 0 {2}failed 0$/);
    expect(frames.some((f) => /^\[=+> +\] {2}1\/3 {2}33% .* {2}received 3 {2}delivered 3 {2}quarantined 0 {2}failed 0$/.test(f) && !f.includes('waiting'))).toBe(true);
    expect(frames.at(-1)).toMatch(/^\[=+\] {2}3\/3 {2}100% {2}[\d.]+ accessions\/s {2}in \d+s {2}received 4 {2}delivered 3 {2}quarantined 1 {2}failed 0$/);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(149);
    // The report on stdout as before; the display names no accession and no file.
    expect(JSON.parse(rest.join('\n')).accessions).toHaveLength(3);
    expect(bar).not.toMatch(/ACC100|Doe|Jane/);
  }, 60_000);
});
