import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, filesUnder, waitFor, writeProjectConfig } from '../helpers/agent-process.js';
import { BIG_ENDIAN_ONLY_PROFILE, StoreScp, freePort } from '../helpers/dicom-peers.js';
import { dcmdump, pydicomJson, runCli } from '../helpers/tools.js';

const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';
const EXPLICIT_BIG = '1.2.840.10008.1.2.2';

/**
 * The pixel values of 16-bit single-sample data as pydicom's `pixel_array` gives them: words in
 * the data set's byte order, signed when PixelRepresentation is 1. (Debian's python3 here has no
 * numpy, so pixel_array itself cannot run; this is what its numpy handler does for this data.)
 */
const PIXELS_OF = `
import json, struct, sys, warnings
warnings.simplefilter('ignore')
from pydicom import dcmread

def pixels_of(ds):
    assert ds.BitsAllocated == 16 and ds.SamplesPerPixel == 1
    fmt = ('<' if ds.is_little_endian else '>') + ('h' if ds.PixelRepresentation == 1 else 'H')
    flat = [v for (v,) in struct.iter_unpack(fmt, ds.PixelData)]
    return [flat[r * ds.Columns:(r + 1) * ds.Columns] for r in range(ds.Rows)]
`;

/**
 * Writes the two inputs with pydicom into argv[1] and prints what pydicom reads back from them:
 * (a) an MR whose meta declares explicit VR little endian over a data set written in implicit VR
 * (unsigned, values up to 62814, so a lost byte swap shows); (b) a CT in implicit VR little endian,
 * declared as such, signed with negative values: its pixel data is the dictionary's 'OB or OW'.
 */
const GENERATE = `${PIXELS_OF}
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

def image(sop_class, modality, rows, cols, values, signed, us_or_ss):
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.PatientName = 'Doe^Jane'
    ds.PatientID = 'MRN98765'
    ds.StudyDate = '20240102'
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1 if signed else 0
    ds.add_new(0x00280106, us_or_ss, min(values))  # SmallestImagePixelValue, 'US or SS'
    ds.add_new(0x00280107, us_or_ss, max(values))  # LargestImagePixelValue, 'US or SS'
    ds.PixelData = struct.pack('<%d%s' % (len(values), 'h' if signed else 'H'), *values)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.ImplementationClassUID = generate_uid()
    return ds, meta, values

def write_part10(path, meta, ds):
    # The meta as given, then the data set in implicit VR little endian whatever the meta says.
    fp = DicomBytesIO()
    fp.write(b'\\0' * 128 + b'DICM')
    write_file_meta_info(fp, meta, enforce_standard=True)
    fp.is_little_endian, fp.is_implicit_VR = True, True
    write_dataset(fp, ds)
    with open(path, 'wb') as f:
        f.write(fp.getvalue())

ds_a, meta_a, values_a = image('1.2.840.10008.5.1.4.1.1.4', 'MR', 8, 8, [3 + 997 * i for i in range(64)], False, 'US')
meta_a.TransferSyntaxUID = ExplicitVRLittleEndian
ds_b, meta_b, values_b = image('1.2.840.10008.5.1.4.1.1.2', 'CT', 4, 4, [7 + 1021 * (i - 8) for i in range(16)], True, 'SS')
meta_b.TransferSyntaxUID = ImplicitVRLittleEndian

result = {}
for name, ds, meta, values in (('mislabelled', ds_a, meta_a, values_a), ('implicit-signed', ds_b, meta_b, values_b)):
    path = '%s/%s.dcm' % (sys.argv[1], name)
    write_part10(path, meta, ds)
    back = dcmread(path)  # pydicom notices implicit VR under the explicit meta and reads it so
    pixels = pixels_of(back)
    assert [v for row in pixels for v in row] == values, name
    result[name] = {'path': path, 'modality': back.Modality, 'pixels': pixels,
                    'smallest': back[0x00280106].value, 'largest': back[0x00280107].value}
print(json.dumps(result))
`;

/** pydicom's reading of each file given: syntax, VRs as stored, pixel values, the two 'US or SS' values. */
const READ = `${PIXELS_OF}
out = {}
for path in sys.argv[1:]:
    ds = dcmread(path)
    out[path] = {'transferSyntax': str(ds.file_meta.TransferSyntaxUID), 'modality': ds.Modality,
                 'patientName': str(ds.PatientName), 'pixelVr': ds[0x7FE00010].VR, 'pixels': pixels_of(ds),
                 'smallest': ds[0x00280106].value, 'smallestVr': ds[0x00280106].VR,
                 'largest': ds[0x00280107].value, 'largestVr': ds[0x00280107].VR}
print(json.dumps(out))
`;

interface Generated { path: string; modality: string; pixels: number[][]; smallest: number; largest: number }
interface Read {
  transferSyntax: string; modality: string; patientName: string; pixelVr: string; pixels: number[][];
  smallest: number; smallestVr: string; largest: number; largestVr: string;
}


interface ForwardStatus { forwarded: number; pending: number; failed: number; lastError: string | null }
const forwardStatus = (config: string): ForwardStatus | undefined =>
  (JSON.parse(runCli(['status', '--config', config, '--json']).stdout) as Array<{ forward?: ForwardStatus }>)[0]?.forward;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('C-STORE forwarding to a big-endian-only destination', () => {
  it('A mislabelled input and an implicit-VR "OB or OW" input, de-identified and forwarded to a big-endian-only storescp, arrive with correct pixel values', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-fwd-be-'));
    cleanup.push(async () => rmSync(root, { recursive: true, force: true })); // runs last
    const inputs = join(root, 'inputs');
    mkdirSync(inputs);
    // 1. The inputs, and the values pydicom reads from them before anything else touches them.
    const want = pydicomJson<Record<'mislabelled' | 'implicit-signed', Generated>>(GENERATE, inputs);
    expect(want.mislabelled.smallest).toBe(3);
    expect(want['implicit-signed'].smallest).toBeLessThan(0);
    // The mislabelled input really is unreadable as what it declares (dcmtk trusts the meta).
    expect(() => dcmdump(want.mislabelled.path)).toThrow();

    // 2. The destination accepts explicit VR big endian only; the real agent forwards to it.
    const profile = join(root, 'big-endian-only.cfg');
    writeFileSync(profile, BIG_ENDIAN_ONLY_PROFILE);
    const port = await freePort();
    const scp = new StoreScp(port, join(root, 'received'), 'DEST', ['-xf', profile, 'BigEndianOnly']);
    cleanup.push(() => scp.stop());
    await scp.ready();
    const dirs = writeProjectConfig(join(root, 'agent'), {
      forward: { host: '127.0.0.1', port, calledAET: 'DEST', callingAET: 'DEIDAGENT', firstRetryDelayMs: 200, maxRetryDelayMs: 1000 },
    });
    const agent = new AgentProcess(dirs);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    for (const g of Object.values(want)) copyFileSync(g.path, join(dirs.inbox, basename(g.path)));
    await waitFor(() => (forwardStatus(dirs.config)?.forwarded ?? 0) + (forwardStatus(dirs.config)?.failed ?? 0) >= 2, 30_000, 'both instances to be settled by the forwarder');
    expect(forwardStatus(dirs.config)).toMatchObject({ forwarded: 2, pending: 0, failed: 0 });
    expect(readdirSync(scp.dir)).toHaveLength(2);

    // 3. What arrived: big endian, 16-bit words swapped (OW), the same pixel values, the same
    //    'US or SS' values with the VR Pixel Representation gives them.
    const received = pydicomJson<Record<string, Read>>(READ, ...readdirSync(scp.dir).map((f) => join(scp.dir, f)));
    const byModality = new Map(Object.values(received).map((r) => [r.modality, r]));
    for (const [g, vr] of [[want.mislabelled, 'US'], [want['implicit-signed'], 'SS']] as const) {
      const got = byModality.get(g.modality);
      expect(got, `${g.modality} received`).toBeDefined();
      expect(got?.patientName).toMatch(/^HOLD_/); // de-identified, not merely passed through
      expect(got?.transferSyntax).toBe(EXPLICIT_BIG);
      expect(got?.pixelVr).toBe('OW');
      expect(got?.pixels).toEqual(g.pixels);
      expect(got?.smallest).toBe(g.smallest);
      expect(got?.smallestVr).toBe(vr);
      expect(got?.largest).toBe(g.largest);
      expect(got?.largestVr).toBe(vr);
    }

    // The outbox copy of (a) declares explicit VR little endian and is written so: dcmtk, which
    // trusts the meta, reads it through, with the VRs the data set's context gives.
    const outbox = pydicomJson<Record<string, Read>>(READ, ...filesUnder(dirs.outbox));
    const [outboxA] = Object.entries(outbox).filter(([, r]) => r.modality === 'MR').map(([p]) => p);
    expect(outboxA).toBeDefined();
    expect(outbox[outboxA as string]?.transferSyntax).toBe(EXPLICIT_LITTLE);
    expect(outbox[outboxA as string]?.pixels).toEqual(want.mislabelled.pixels);
    const dump = dcmdump(outboxA as string);
    expect(dump).toContain('(0002,0010) UI =LittleEndianExplicit');
    expect(dump).toMatch(/\(0028,0106\) US 3 /);
    expect(dump).toMatch(/\(7fe0,0010\) OW /);
    expect((await agent.stop()).code).toBe(0);
  });
});
