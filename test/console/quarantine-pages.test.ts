// The quarantine's GET pages over HTTP, with a real agent: a secondary capture dropped into the
// inbox is held by the header rules, listed for the reviewer of its project, shown with its
// findings, every frame rendered to PNG (not cached), and the header release would deliver
// (the project's pseudonym, none of the input's identifiers); other projects' items are not found.
import { copyFileSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiValue } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags } from '../../src/dicom/tag.js';
import { waitFor } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES } from '../helpers/corpus.js';
import { ALICE, ConsoleClient, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';

const SOURCE = join(PYDICOM_TEST_FILES, 'SC_rgb_rle_2frame.dcm');

describe('quarantine pages (a real agent, 127.0.0.1)', () => {
  let f: ConsoleFixture;
  let id: string;
  let alice: ConsoleClient;
  beforeAll(async () => {
    f = await startConsoleFixture();
    const project = f.config.projects.find((p) => p.name === 'DEMO');
    if (!project) throw new Error('no DEMO project');
    mkdirSync(join(f.dir, 'DEMO', 'staging'), { recursive: true });
    copyFileSync(SOURCE, join(f.dir, 'DEMO', 'staging', 'sc.dcm'));
    renameSync(join(f.dir, 'DEMO', 'staging', 'sc.dcm'), join(project.inbox, 'sc.dcm'));
    await waitFor(() => readdirSync(project.quarantine).some((n) => n.endsWith('.json')), 30_000, 'the held item');
    id = (readdirSync(project.quarantine).find((n) => n.endsWith('.json')) as string).slice(0, 12);
    alice = new ConsoleClient(f.url);
    expect((await alice.login(ALICE.name, ALICE.password)).status).toBe(303);
  }, 60_000);
  afterAll(async () => { await f.close(); });

  it('lists the held item with its reason for the reviewer of its project, behind the login', async () => {
    expect((await new ConsoleClient(f.url).request('/quarantine')).status).not.toBe(200);
    const res = await alice.request('/quarantine');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`href="/quarantine/DEMO/${id}"`);
    expect(text).toContain('secondary-capture');
    expect(text).toContain('href="/quarantine"');
  });

  it('shows the item: findings, frame browsing, and the header release would deliver, without the input\'s identifiers', async () => {
    const res = await alice.request(`/quarantine/DEMO/${id}?frame=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text).toContain('Frame 2 of 2');
    expect(text).toContain(`src="/quarantine/DEMO/${id}/frame/1"`);
    expect(text).toMatch(/Patient: <strong>DEMO_\d+<\/strong>/);
    const input = await readDicomFile(SOURCE);
    for (const tag of [Tags.PatientName, Tags.PatientID, Tags.StudyInstanceUID, Tags.SOPInstanceUID]) {
      const v = asciiValue(input.dataset, tag)?.trim();
      if (v) expect(text).not.toContain(v);
    }
  });

  it('renders every frame to PNG, uncached, and refuses a frame past the last or an id that is not one', async () => {
    for (const frame of [0, 1]) {
      const res = await alice.request(`/quarantine/DEMO/${id}/frame/${frame}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 100, 100]);
    }
    expect((await alice.request(`/quarantine/DEMO/${id}/frame/2`)).status).toBe(400);
    expect((await alice.request(`/quarantine/DEMO/${id}/frame/x`)).status).toBe(400);
    expect((await alice.request('/quarantine/DEMO/..%2F..%2Fetc')).status).toBe(400);
    expect((await alice.request(`/quarantine/DEMO/${'f'.repeat(12)}`)).status).toBe(404);
  });

  it('does not show another project\'s items to a reviewer of one project', async () => {
    expect((await alice.request(`/quarantine/OTHER/${id}`)).status).toBe(404);
    expect((await alice.request(`/quarantine/OTHER/${id}/frame/0`)).status).toBe(404);
    expect(await (await alice.request('/quarantine')).text()).not.toContain('OTHER');
  });
});
