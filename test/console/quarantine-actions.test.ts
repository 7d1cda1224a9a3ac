// The quarantine's actions over HTTP, with a real agent holding secondary captures dropped into
// its inboxes: each action's form, the comment and the CSRF token required, another project's
// item refused to its non-reviewer, release delivering once however often it is posted, discard
// asking for its confirmation, back to failed, clean and release with the reviewer's own box
// (previewed first, numbers checked), read back strictly by pydicom; every action audited.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/audit-log.js';
import { filesUnder, waitFor } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES, REPO } from '../helpers/corpus.js';
import { ALICE, BOB, ConsoleClient, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';

const INPUTS = {
  release: 'SC_rgb_small_odd.dcm', clean: 'SC_rgb_rle.dcm', discard: 'SC_rgb_rle_2frame.dcm', fail: 'SC_rgb_dcmtk_+eb+cr.dcm', other: 'SC_rgb_rle_16bit.dcm',
} as const;
const idOf = (file: string): string => createHash('sha256').update(readFileSync(join(PYDICOM_TEST_FILES, file))).digest('hex').slice(0, 12);
const ids = Object.fromEntries(Object.entries(INPUTS).map(([k, v]) => [k, idOf(v)])) as Record<keyof typeof INPUTS, string>;

describe('quarantine actions over HTTP (a real agent, 127.0.0.1)', () => {
  let f: ConsoleFixture;
  let alice: ConsoleClient;
  let csrf: string;
  const dirsOf = (project: string) => {
    const p = f.config.projects.find((x) => x.name === project);
    if (!p) throw new Error(`no project ${project}`);
    return p;
  };
  const held = (project: string): string[] => readdirSync(dirsOf(project).quarantine).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, 12));
  const outputs = (): string[] => filesUnder(dirsOf('DEMO').outbox).filter((p) => p.endsWith('.dcm'));
  const audit = async () => {
    const r = await readAudit(f.config.store + '.audit.jsonl');
    expect(r.brokenAt).toBeUndefined();
    return r.records.filter((x) => x.action.startsWith('quarantine.'));
  };
  const drop = (project: string, file: string): void => {
    const staging = join(f.dir, project, 'staging');
    mkdirSync(staging, { recursive: true });
    copyFileSync(join(PYDICOM_TEST_FILES, file), join(staging, basename(file)));
    renameSync(join(staging, basename(file)), join(dirsOf(project).inbox, basename(file)));
  };
  const act = (id: string, action: string, fields: Record<string, string>, project = 'DEMO', client = alice): Promise<Response> =>
    client.post(`/quarantine/${project}/${id}/${action}`, { _csrf: csrf, ...fields });

  beforeAll(async () => {
    f = await startConsoleFixture();
    for (const [key, file] of Object.entries(INPUTS)) drop(key === 'other' ? 'OTHER' : 'DEMO', file);
    await waitFor(() => held('DEMO').length === 4 && held('OTHER').length === 1, 60_000, 'the held items');
    alice = new ConsoleClient(f.url);
    expect((await alice.login(ALICE.name, ALICE.password)).status).toBe(303);
    csrf = await alice.csrf();
  }, 90_000);
  afterAll(async () => { await f.close(); });

  it('shows four action forms on the item page, each with the CSRF token and a labelled, required comment', async () => {
    const text = await (await alice.request(`/quarantine/DEMO/${ids.release}`)).text();
    for (const action of ['release', 'clean', 'discard', 'fail']) {
      expect(text).toContain(`action="/quarantine/DEMO/${ids.release}/${action}"`);
      expect(text).toMatch(new RegExp(`<label for="comment-${action}">Comment \\(required\\)</label>\\s*<textarea id="comment-${action}" name="comment" rows="2" required`));
    }
    expect(text.match(/name="_csrf" value="([^"]+)"/g)?.length).toBe(5); // the four actions and the logout
    expect(text).toContain('Write no patient name, ID, date or other identifier here.');
    expect(text).toMatch(/<input id="confirm-discard" name="confirm" type="checkbox" value="yes" required>\s*<label for="confirm-discard">I understand the original is deleted<\/label>/);
    expect(text).toContain('<label for="new_x">x</label>');
  });

  it('refuses an action without the CSRF token, without a comment, or on another project\'s item; nothing changes', async () => {
    const noToken = await alice.post(`/quarantine/DEMO/${ids.release}/release`, { comment: 'fine' });
    expect(noToken.status).toBe(403);
    const empty = await act(ids.release, 'release', { comment: '   ' });
    expect(empty.status).toBe(400);
    const page = await empty.text();
    expect(page).toMatch(/<p role="alert" class="error" id="alert-release">A comment is required/);
    expect(page).toContain(`action="/quarantine/DEMO/${ids.release}/release"`);
    expect((await act(ids.other, 'release', { comment: 'not mine' }, 'OTHER')).status).toBe(404);
    expect((await act(ids.release, 'publish', { comment: 'no such action' })).status).toBe(404);
    expect(held('DEMO')).toContain(ids.release);
    expect(held('OTHER')).toEqual([ids.other]);
    expect(outputs()).toEqual([]);
    expect(await audit()).toEqual([]);
  });

  it('releases once: two posts at once give one redirect to the list (with its message) and one "already settled"; one output, one audit entry', async () => {
    const [a, b] = await Promise.all([act(ids.release, 'release', { comment: 'colour bars only' }), act(ids.release, 'release', { comment: 'same' })]);
    expect([a.status, b.status].sort()).toEqual([303, 404]);
    const ok = a.status === 303 ? a : b;
    expect(ok.headers.get('location')).toBe('/quarantine?done=release');
    expect(await (a.status === 404 ? a : b).text()).toContain('already settled');
    expect(await (await alice.request('/quarantine?done=release')).text()).toContain('<p role="status" class="flash">Released');
    expect((await act(ids.release, 'release', { comment: 'again' })).status).toBe(404);
    expect(outputs()).toHaveLength(1);
    expect(held('DEMO')).not.toContain(ids.release);
    const entries = await audit();
    expect(entries.map((e) => [e.who, e.action, e.project, e.inputHash?.slice(0, 12)])).toEqual([['console:alice', 'quarantine.release', 'DEMO', ids.release]]);
    expect(entries[0]?.pseudonyms?.[0]).toMatch(/^DEMO_/);
  });

  it('discards only once "I understand the original is deleted" is ticked', async () => {
    const unconfirmed = await act(ids.discard, 'discard', { comment: 'test image, not a patient' });
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain('I understand the original is deleted');
    expect(held('DEMO')).toContain(ids.discard);
    const res = await act(ids.discard, 'discard', { comment: 'test image, not a patient', confirm: 'yes' });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/quarantine?done=discard']);
    expect(held('DEMO')).not.toContain(ids.discard);
    expect(readdirSync(dirsOf('DEMO').quarantine).some((n) => n.startsWith(ids.discard))).toBe(false);
    expect((await audit()).at(-1)?.action).toBe('quarantine.discard');
  });

  it('sends an item back to failed, where its original lands with a failed sidecar', async () => {
    const res = await act(ids.fail, 'fail', { comment: 'cannot judge, needs the physicist' });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/quarantine?done=fail']);
    const failed = readdirSync(dirsOf('DEMO').failed);
    expect(failed.some((n) => n.startsWith(ids.fail) && n.endsWith('.json'))).toBe(true);
    expect((await audit()).at(-1)?.action).toBe('quarantine.back-to-failed');
  });

  it('previews the reviewer\'s box on the image, refuses boxes outside the frame, and cleans and releases with it', async () => {
    const base = `/quarantine/DEMO/${ids.clean}`;
    const png = async (q: string) => sharp(Buffer.from(await (await alice.request(`${base}/frame/0${q}`)).arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    const red = (img: { data: Buffer; info: { width: number; channels: number } }, x: number, y: number): boolean => {
      const i = (y * img.info.width + x) * img.info.channels;
      return img.data[i] === 255 && img.data[i + 1] === 0 && img.data[i + 2] === 0;
    };
    expect(red(await png(''), 9, 30)).toBe(false);
    expect(red(await png('?boxes=10,20,30,15'), 9, 30)).toBe(true);
    for (const bad of ['1,2,3', '0,0,999,10', '-1,0,5,5', '1.5,0,5,5', '0,0,0,5', `${'1,1,1,1;'.repeat(64)}1,1,1,1`]) {
      expect((await alice.request(`${base}/frame/0?boxes=${encodeURIComponent(bad)}`)).status, bad).toBe(400);
    }
    const box = { new_frame: '0', new_x: '10', new_y: '20', new_w: '30', new_h: '15' };
    const preview = await act(ids.clean, 'clean', { ...box, intent: 'preview', comment: '' });
    expect(preview.status).toBe(200);
    const previewed = await preview.text();
    expect(previewed).toContain(`src="${base}/frame/0?boxes=${encodeURIComponent('10,20,30,15')}"`);
    expect(previewed).toMatch(/id="b0_x" name="b0_x" type="number"[^>]* value="10"/);
    const outside = await act(ids.clean, 'clean', { b0_on: '1', b0_frame: '0', b0_x: '90', b0_y: '0', b0_w: '30', b0_h: '5', comment: 'name top left' });
    expect(outside.status).toBe(400);
    expect(await outside.text()).toMatch(/Box 1: must lie inside the \d+ × \d+ frame/);
    expect(held('DEMO')).toContain(ids.clean);

    const res = await act(ids.clean, 'clean', { b0_on: '1', b0_frame: '0', b0_x: '10', b0_y: '20', b0_w: '30', b0_h: '15', comment: 'text blanked' });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/quarantine?done=clean']);
    const entry = (await audit()).at(-1);
    expect([entry?.action, entry?.detail?.adjusted, entry?.detail?.boxes]).toEqual(['quarantine.clean-release', true, 1]);
    expect(outputs()).toHaveLength(2);
    const cleaned = outputs().find((p) => execFileSync('/usr/bin/python3', ['-W', 'error', '-c',
      'import sys, pydicom; print(pydicom.dcmread(sys.argv[1]).get("BurnedInAnnotation", ""))', p], { encoding: 'utf8' }).trim() === 'NO');
    expect(cleaned).toBeDefined();
    const strict = JSON.parse(execFileSync('/usr/bin/python3', ['-W', 'error', join(REPO, 'test', 'helpers', 'strict_read.py'), cleaned as string], { encoding: 'utf8' })) as Record<string, string>;
    expect(strict).toEqual({});
  }, 60_000);

  it('lets the broker (every project) act on the other project; nothing of the inputs in the log', async () => {
    const bob = new ConsoleClient(f.url);
    expect((await bob.login(BOB.name, BOB.password)).status).toBe(303);
    const token = await bob.csrf();
    const res = await bob.post(`/quarantine/OTHER/${ids.other}/fail`, { _csrf: token, comment: 'wrong project' });
    expect(res.status).toBe(303);
    expect(existsSync(join(dirsOf('OTHER').quarantine))).toBe(true);
    expect(held('OTHER')).toEqual([]);
    const logs = f.logs();
    for (const comment of ['colour bars only', 'text blanked', 'wrong project']) expect(logs).not.toContain(comment);
    expect(logs).toContain('"route":"/quarantine/:project/:id/:action"');
  });
});
