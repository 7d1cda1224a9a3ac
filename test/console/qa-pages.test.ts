// The console's QA pages over HTTP, with a real agent delivering the repository's samples: the
// batches listed per visible project, a sample drawn once (a redraw answers the same sample), each
// sampled output shown with its image and attributes, marks (PHI found needs a place and a note),
// sign-off refused until every sample is marked, the dashboard's flag, the feedback JSON without
// input identifiers, CSRF on every POST, and another project's batches not found for a reviewer.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPathOf, readAudit } from '../../src/audit/audit-log.js';
import { batchOutputs } from '../../src/qa/batches.js';
import type { BatchId } from '../../src/qa/qa-paths.js';
import { readRecord } from '../../src/qa/qa-record.js';
import { inputIdentifiers } from '../qa/qa-fixture.js';
import { ALICE, BOB, ConsoleClient, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';
import { QA_SAMPLE_INPUTS as INPUTS, deliverForQa as deliver } from './qa-deliveries.js';

describe('QA pages (a real agent, 127.0.0.1)', () => {
  let f: ConsoleFixture;
  let alice: ConsoleClient;
  let bob: ConsoleClient;
  let batch: BatchId;
  let other: BatchId;
  let identifiers: string[];
  let csrf: string;
  let phiAttribute: string;
  const post = (path: string, fields: Record<string, string>): Promise<Response> => alice.post(path, { _csrf: csrf, ...fields });
  const text = async (path: string, client = alice): Promise<string> => (await client.request(path)).text();
  const record = () => readRecord(f.config.store, 'DEMO', batch);

  beforeAll(async () => {
    f = await startConsoleFixture();
    batch = await deliver(f, 'DEMO', INPUTS);
    other = await deliver(f, 'OTHER', INPUTS.slice(0, 1));
    identifiers = [...await inputIdentifiers(INPUTS), 'MRN12345', 'Doe'];
    alice = new ConsoleClient(f.url);
    expect((await alice.login(ALICE.name, ALICE.password)).status).toBe(303);
    csrf = await alice.csrf();
    bob = new ConsoleClient(f.url);
    expect((await bob.login(BOB.name, BOB.password)).status).toBe(303);
  }, 120_000);
  afterAll(async () => { await f?.close(); });

  it('lists each visible project\'s batches with size and state behind the login; a reviewer sees only theirs', async () => {
    expect((await new ConsoleClient(f.url).request('/qa')).status).toBe(303);
    const page = await text('/qa');
    const size = (await batchOutputs(f.config.store, 'DEMO', batch)).length;
    expect(size).toBeGreaterThanOrEqual(4);
    expect(page).toMatch(new RegExp(`<code>${batch}</code></td>\\s*<td>day&#39;s deliveries</td>\\s*<td>${size}</td>`));
    expect(page).toContain('not drawn');
    expect(page).toContain(`action="/qa/DEMO/${batch}/draw"`);
    expect(page).toContain('href="/qa"');
    expect(page).not.toContain('OTHER');
    expect(await text('/qa', bob)).toContain('id="qa-OTHER"');
  });

  it('refuses every POST without the CSRF token, and a reviewer of another project', async () => {
    expect((await alice.post(`/qa/DEMO/${batch}/draw`, {})).status).toBe(403);
    expect((await alice.post(`/qa/DEMO/${batch}/draw`, { _csrf: csrf }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await alice.post(`/qa/DEMO/${batch}/sign-off`, { comment: 'x' })).status).toBe(403);
    expect((await alice.post(`/qa/DEMO/${batch}/1/mark`, { verdict: 'clean' })).status).toBe(403);
    expect(await record()).toBeUndefined();
    expect((await post(`/qa/OTHER/${other}/draw`, {})).status).toBe(404);
    expect(await readRecord(f.config.store, 'OTHER', other)).toBeUndefined();
    expect((await alice.request(`/qa/OTHER/${other}`)).status).toBe(404);
    expect((await alice.request('/qa/OTHER/feedback.json')).status).toBe(404);
    expect((await post('/qa/DEMO/day-1999-01-01/draw', {})).status).toBe(404);
    expect((await post('/qa/DEMO/not-a-batch/draw', {})).status).toBe(404);
  });

  it('draws the sample once: the seed and who are shown, and a redraw answers the same sample', async () => {
    const res = await post(`/qa/DEMO/${batch}/draw`, {});
    expect([res.status, res.headers.get('location')]).toEqual([303, `/qa/DEMO/${batch}?done=drawn`]);
    const drawn = await record();
    if (!drawn) throw new Error('no record');
    expect(drawn.drawnBy).toBe('console:alice');
    expect(drawn.sample).toHaveLength(3); // 5 % of 4–5 outputs, at least 3
    const page = await text(`/qa/DEMO/${batch}?done=drawn`);
    expect(page).toContain(drawn.seed);
    expect(page).toContain('Sample drawn and recorded with its seed.');
    expect(page).toContain('by console:alice');
    for (const n of [1, 2, 3]) expect(page).toContain(`href="/qa/DEMO/${batch}/${n}"`);
    expect((await post(`/qa/DEMO/${batch}/draw`, {})).status).toBe(303);
    expect(await record()).toEqual(drawn);
    expect(await text('/qa')).toContain('0 of 3 marked');
  });

  it('shows a sample: its image (PNG, not cached), every attribute with the places to look marked in words, no input identifier', async () => {
    const res = await alice.request(`/qa/DEMO/${batch}/1`);
    expect([res.status, res.headers.get('cache-control')]).toEqual([200, 'no-store']);
    const page = await res.text();
    expect(page).toContain(`src="/qa/DEMO/${batch}/1/frame/0"`);
    expect(page).toMatch(/▶ look: (free text|date or time|description)/);
    expect(page).toContain('(0008,0060)');
    expect(page).toMatch(/<option value="\(0010,0010\)">\(0010,0010\) PatientName/);
    for (const id of identifiers) expect(page).not.toContain(id);
    const attribute = /<option value="(\([0-9A-F]{4},[0-9A-F]{4}\))">[^<]*\(look\)<\/option>/.exec(page)?.[1];
    if (!attribute) throw new Error('no highlighted attribute offered');
    phiAttribute = attribute;
    const png = await alice.request(`/qa/DEMO/${batch}/1/frame/0`);
    expect([png.status, png.headers.get('content-type'), png.headers.get('cache-control')]).toEqual([200, 'image/png', 'no-store']);
    expect((await sharp(Buffer.from(await png.arrayBuffer())).metadata()).format).toBe('png');
    expect((await alice.request(`/qa/DEMO/${batch}/1/frame/999`)).status).toBe(404);
    expect((await alice.request(`/qa/DEMO/${batch}/1/frame/x`)).status).toBe(400);
    for (const bad of ['0', '4', 'x', '1.2.3']) expect((await alice.request(`/qa/DEMO/${batch}/${bad}`)).status).toBe(404);
  });

  it('marks: PHI found needs a place and a note; sign-off is refused until every sample is marked', async () => {
    const mark = (n: number, fields: Record<string, string>): Promise<Response> => post(`/qa/DEMO/${batch}/${n}/mark`, fields);
    expect((await alice.post(`/qa/DEMO/${batch}/1/mark`, { verdict: 'clean' })).status).toBe(403);
    const noNote = await mark(1, { verdict: 'phi-found', attribute: phiAttribute, note: ' ' });
    expect(noNote.status).toBe(400);
    expect(await noNote.text()).toContain('PHI found needs a note');
    const nowhere = await mark(1, { verdict: 'phi-found', attribute: '', note: 'something' });
    expect([nowhere.status, (await nowhere.text()).includes('choose the attribute')]).toEqual([400, true]);
    const halfRegion = await mark(1, { verdict: 'phi-found', attribute: '', region_frame: '0', region_x: '3', note: 'text on the image' });
    expect([halfRegion.status, (await halfRegion.text()).includes('five whole numbers')]).toEqual([400, true]);
    expect((await mark(1, { verdict: 'maybe' })).status).toBe(400);
    expect((await record())?.marks).toEqual([]);

    const early = await post(`/qa/DEMO/${batch}/sign-off`, { comment: 'looked at all' });
    expect(early.status).toBe(409);
    expect(await early.text()).toContain('3 of 3 sampled output(s) not marked yet');

    const phi = await mark(1, { verdict: 'phi-found', attribute: phiAttribute, note: 'a free text attribute kept a description' });
    expect([phi.status, phi.headers.get('location')]).toEqual([303, `/qa/DEMO/${batch}/2?saved=1`]);
    expect((await mark(2, { verdict: 'clean' })).headers.get('location')).toBe(`/qa/DEMO/${batch}/3?saved=2`);
    expect((await mark(3, { verdict: 'clean', note: 'nothing seen' })).headers.get('location')).toBe(`/qa/DEMO/${batch}?done=marked`);
    const marks = (await record())?.marks ?? [];
    expect(marks.map((m) => [m.verdict, m.attribute, m.who])).toEqual([['phi-found', phiAttribute, 'console:alice'], ['clean', undefined, 'console:alice'], ['clean', undefined, 'console:alice']]);
  });

  it('offers the suggested project rule and the feedback JSON (an attachment, no input identifier)', async () => {
    const page = await text(`/qa/DEMO/${batch}`);
    expect(page).toContain('PHI found in 1 sample');
    expect(page).toContain('Suggested project rule');
    expect(page).toContain(`&quot;tag&quot;: &quot;${phiAttribute}&quot;`);
    expect(page).toContain(`href="/qa/DEMO/feedback.json?batch=${batch}"`);
    const res = await alice.request(`/qa/DEMO/feedback.json?batch=${batch}`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="qa-feedback-DEMO-${batch}.json"`);
    const body = await res.text();
    const feedback = JSON.parse(body) as Array<{ attribute?: { path: string }; suggestion: { rule?: unknown }; who: string }>;
    expect(feedback).toHaveLength(1);
    expect(feedback[0]?.attribute?.path).toBe(phiAttribute);
    expect(feedback[0]?.suggestion.rule).toEqual({ tag: phiAttribute, action: 'remove' });
    for (const id of identifiers) expect(body).not.toContain(id);
    expect((await alice.request('/qa/DEMO/feedback.json?batch=../x')).status).toBe(400);
  });

  it('signs off with a comment; the batch shows it, later marks are refused, and the dashboard flags the batch', async () => {
    const noComment = await post(`/qa/DEMO/${batch}/sign-off`, { comment: '' });
    expect([noComment.status, (await noComment.text()).includes('A comment is required')]).toEqual([400, true]);
    const res = await post(`/qa/DEMO/${batch}/sign-off`, { comment: 'three looked at; one rule to add' });
    expect([res.status, res.headers.get('location')]).toEqual([303, `/qa/DEMO/${batch}?done=signed`]);
    expect(await text(`/qa/DEMO/${batch}`)).toMatch(/<strong>Signed off<\/strong> by console:alice at [^:]+:\d\d:\d\d UTC: three looked at; one rule to add/);
    expect((await post(`/qa/DEMO/${batch}/sign-off`, { comment: 'again' })).status).toBe(409);
    expect((await post(`/qa/DEMO/${batch}/2/mark`, { verdict: 'clean' })).status).toBe(409);
    const list = await text('/qa');
    expect(list).toContain('signed off by console:alice');
    expect(list).toContain('PHI found in 1 sample');
    const dashboard = await text('/');
    expect(dashboard).toContain(`<a href="/qa/DEMO/${batch}"><span aria-hidden="true">⚠ </span>QA: PHI found in batch ${batch}</a>`);
    const status = await (await alice.request('/api/status')).json() as { projects: Array<{ project: string; qaFlags: unknown[] }> };
    expect(status.projects.find((p) => p.project === 'DEMO')?.qaFlags).toEqual([{ label: `QA: PHI found in batch ${batch}`, href: `/qa/DEMO/${batch}` }]);
  });

  it('audits the draw, each mark and the sign-off as console:alice, without an input value', async () => {
    const { records, brokenAt } = await readAudit(auditPathOf(f.config.store));
    expect(brokenAt).toBeUndefined();
    const qa = records.filter((r) => r.action.startsWith('qa.'));
    expect(qa.map((r) => [r.who, r.action, r.project])).toEqual([
      ['console:alice', 'qa.draw', 'DEMO'], ['console:alice', 'qa.mark', 'DEMO'], ['console:alice', 'qa.mark', 'DEMO'],
      ['console:alice', 'qa.mark', 'DEMO'], ['console:alice', 'qa.sign-off', 'DEMO'],
    ]);
    const text = JSON.stringify(qa);
    for (const id of identifiers) expect(text).not.toContain(id);
    expect(readFileSync(`${f.config.store}.qa/DEMO/batches/${batch}.json`, 'utf8')).not.toMatch(/MRN12345|Doe/);
  });
});
