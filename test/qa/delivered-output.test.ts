import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qaReport } from '../../src/cli/qa.js';
import { loadConfig } from '../../src/config/load-config.js';
import { hashPassword } from '../../src/console/password-hash.js';
import { type RunningConsole, startConsole } from '../../src/console/server.js';
import { CHANGED_TEXT } from '../../src/qa/delivered-output.js';
import { localDay } from '../../src/qa/qa-paths.js';
import type { QaRecord } from '../../src/qa/qa-record.js';
import { type QaScope, qaScopeOf } from '../../src/qa/qa-scope.js';
import { drawSample } from '../../src/qa/sample-draw.js';
import { viewSample } from '../../src/qa/sample-view.js';
import { ALICE, ConsoleClient } from '../console/console-fixture.js';
import { PYDICOM_TEST_FILES, SAMPLES } from '../helpers/corpus.js';
import { type QaWorld, anonymizeWorld, inputIdentifiers, makeQaWorld } from './qa-fixture.js';

// The outbox is writable by the researcher: a sampled output replaced by a link to a file with
// PHI (an original), by another DICOM file, by a copy of an original given the delivered SOP
// Instance UID, or reached through a linked folder, is never shown by `qa report` nor by the
// console's sample page and its PNG: each says "not available (changed since delivery)".

const INPUTS = [join(SAMPLES, 'study-a-ct-1.dcm'), join(SAMPLES, 'study-a-ct-2-implicit.dcm'), join(SAMPLES, 'study-b-mr-no-patient-id.dcm'), join(SAMPLES, 'study-c-us.dcm'),
  join(PYDICOM_TEST_FILES, 'CT_small.dcm'), join(PYDICOM_TEST_FILES, 'MR_small.dcm')];
const PHI_FILE = join(SAMPLES, 'study-a-ct-1.dcm'); // Doe^Jane, MRN12345

let w: QaWorld;
let scope: QaScope;
let record: QaRecord;
let identifiers: string[];
let server: RunningConsole;
let alice: ConsoleClient;
let tampered: string[] = [];
const batch = `day-${localDay(new Date())}` as const;

/** Puts `make`'s file at the sampled output's path, atomically (written beside it, renamed in). */
function replace(relPath: string, make: (at: string) => void): void {
  const path = join(w.outbox, relPath);
  const beside = `${path}.swap`;
  make(beside);
  renameSync(beside, path);
}

beforeAll(async () => {
  w = makeQaWorld('tampered', { qa: { percent: 100, min: 1, max: 20 } }, INPUTS);
  anonymizeWorld(w);
  const raw = JSON.parse(readFileSync(w.config, 'utf8')) as Record<string, unknown>;
  raw.console = { port: 8443, users: [{ name: ALICE.name, role: 'reviewer', passwordHash: await hashPassword(ALICE.password) }] };
  writeFileSync(w.config, JSON.stringify(raw));
  const config = await loadConfig(w.config, { secrets: false });
  scope = qaScopeOf(config, 'QA');
  identifiers = [...await inputIdentifiers(INPUTS), 'MRN12345', 'Doe'];
  record = await drawSample(scope, batch, 'console:alice', { seed: '5a'.repeat(32) });
  expect(record.sample.length).toBe(5); // the US image is held (burned-in text), the rest delivered
  // 4: a patient's folder (one output) replaced by a link to a folder holding an original at the same path.
  const top = (s: { path: string }): string => s.path.split('/')[0] as string;
  const alone = record.sample.find((s) => record.sample.filter((x) => top(x) === top(s)).length === 1);
  if (!alone) throw new Error('no patient folder with one output');
  const [s1, s2, s3] = record.sample.filter((s) => s !== alone);
  if (!s1 || !s2 || !s3) throw new Error('short sample');
  tampered = [s1.sop, s2.sop, s3.sop, alone.sop];
  // 1: a link to an original; 2: another DICOM file (an original, as a regular file);
  // 3: an original given the delivered SOP Instance UID (it does not say its identity was removed).
  replace(s1.path, (at) => symlinkSync(PHI_FILE, at));
  replace(s2.path, (at) => copyFileSync(PHI_FILE, at));
  replace(s3.path, (at) => execFileSync('/usr/bin/python3', ['-c', [
    'import sys, pydicom', 'ds = pydicom.dcmread(sys.argv[1])', 'ds.SOPInstanceUID = sys.argv[3]',
    'ds.file_meta.MediaStorageSOPInstanceUID = sys.argv[3]', 'ds.save_as(sys.argv[2])'].join('\n'), PHI_FILE, at, s3.sop]));
  const elsewhere = join(w.root, 'elsewhere');
  mkdirSync(join(elsewhere, dirname(alone.path)), { recursive: true });
  copyFileSync(PHI_FILE, join(elsewhere, alone.path));
  rmSync(join(w.outbox, top(alone)), { recursive: true });
  symlinkSync(join(elsewhere, top(alone)), join(w.outbox, top(alone)));
  server = await startConsole(config, pino({ level: 'silent' }), { port: 0 });
  alice = new ConsoleClient(server.url);
  expect((await alice.login(ALICE.name, ALICE.password)).status).toBe(303);
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (w) rmSync(w.root, { recursive: true, force: true });
});

describe('QA never shows an output replaced in the outbox', () => {
  it('viewSample: the four replaced outputs are "changed", the untouched one is shown', async () => {
    for (const item of record.sample) {
      expect([item.sop, (await viewSample(scope, item)).kind]).toEqual([item.sop, tampered.includes(item.sop) ? 'changed' : 'available']);
    }
  });

  it('qa report: says each is unavailable and holds none of the replacing file\'s identifiers', async () => {
    const out = join(w.root, 'report.html');
    const summary = await qaReport(w.config, 'QA', { out });
    expect(summary).toMatch(/changed since delivery \(not shown\)/);
    const html = readFileSync(out, 'utf8');
    // The good outputs' images are base64 PNG data, random to the eye: a short name ("Doe") can
    // appear in them by chance, so the text is searched without them (pixels are not text).
    const text = html.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, 'data:image/png;base64,');
    expect(text.length).toBeGreaterThan(1000);
    for (const id of identifiers) expect(text, id).not.toContain(id);
    expect(html.split(CHANGED_TEXT).length - 1).toBeGreaterThanOrEqual(4);
    expect(html).toContain('data:image/png;base64,'); // the untouched output is still shown
  });

  it('the console\'s sample page and its PNG: unavailable, no identifier, no image', async () => {
    for (let n = 1; n <= record.sample.length; n++) {
      if (!tampered.includes(record.sample[n - 1]?.sop ?? '')) continue;
      const page = await (await alice.request(`/qa/QA/${batch}/${n}`)).text();
      expect(page).toContain(CHANGED_TEXT);
      for (const id of identifiers) expect(page, id).not.toContain(id);
      expect(page).not.toContain('<table class="attributes"');
      expect((await alice.request(`/qa/QA/${batch}/${n}/frame/0`)).status).toBe(404);
    }
  });
});
