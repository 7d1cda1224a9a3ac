import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SAMPLES = join(REPO, 'samples');
/** pydicom's test files, from Debian's python3-pydicom (installed by .ci/run). */
export const PYDICOM_DATA = '/usr/lib/python3/dist-packages/pydicom/data';
export const PYDICOM_TEST_FILES = join(PYDICOM_DATA, 'test_files');
export const PYDICOM_CHARSET_FILES = join(PYDICOM_DATA, 'charset_files');

export function requireCorpus(): void {
  if (!existsSync(PYDICOM_TEST_FILES)) {
    throw new Error(`pydicom's test files are missing at ${PYDICOM_TEST_FILES}: apt-get install python3-pydicom`);
  }
}

export const dcmFiles = (dir: string): string[] =>
  readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(dir, f));

/** Real vendor files from Debian packages' test data, written by scripts/vendor-corpus.sh (run by .ci/run). */
export const VENDOR_CORPUS = process.env.DEID_VENDOR_CORPUS ?? '/var/cache/deid-agent/vendor-corpus';

/** The vendor corpus's .dcm files, sorted; throws if scripts/vendor-corpus.sh has not completed. */
export function vendorFiles(): string[] {
  if (!existsSync(VENDOR_CORPUS) || !existsSync(join(VENDOR_CORPUS, '.complete'))) {
    throw new Error(
      `the vendor corpus is missing or incomplete at ${VENDOR_CORPUS}: run bash scripts/vendor-corpus.sh (see .ci/run)`,
    );
  }
  return dcmFiles(VENDOR_CORPUS);
}

/** Inputs that are not readable instances, with the reason class the agent must give. */
export const EXPECTED_FAILURES: Readonly<Record<string, string>> = {
  'MR_truncated.dcm': 'truncated',
  'rtplan_truncated.dcm': 'truncated',
  'no_meta.dcm': 'not-dicom',
};
