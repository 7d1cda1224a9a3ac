import { describe, expect, it } from 'vitest';
import { type DeidConfig, configSchema } from '../../src/config/schema.js';

// Validation only: no folder is created, so the paths need not exist.
type Project = DeidConfig['projects'][number];
const project = (name: string, extra: Partial<Project> = {}): Project => ({
  name, prefix: `${name}_`, inbox: `/srv/t/${name}/inbox`, outbox: `/srv/t/${name}/outbox`, quarantine: `/srv/t/${name}/q`,
  failed: `/srv/t/${name}/f`, dateShiftDays: -10, ...extra,
});
const pacs = { host: '127.0.0.1', port: 4242, calledAET: 'ORTHANC' };
const mover = (name: string, moveDestinationAET?: string, extra: Partial<Project> = {}): Project => project(name, {
  pacs, retrieve: { schedule: '0 1 * * *', requests: `/srv/t/${name}/requests`, ...(moveDestinationAET ? { moveDestinationAET } : {}) }, ...extra,
});
const dicom = { aet: 'DEIDAGENT', port: 11113 };

/** The problems as loadConfig reports them: `key: message`, one a line. */
function problems(projects: Project[]): string[] {
  const r = configSchema.safeParse({ store: '/srv/t/store.json', dicom, projects });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('retrieval routing: config validation', () => {
  it('accepts two projects retrieving from one PACS, each moving to its own AE title', () => {
    expect(problems([mover('A', 'DEID_A'), mover('B', 'DEID_B', { listen: { calledAET: 'PUSH_B', callingAETs: ['CT_3'] } })])).toEqual([]);
  });

  it('accepts a project listing its own PACS as a caller (no other project could be fed by it)', () => {
    expect(problems([mover('A', 'DEID_A', { listen: { callingAETs: ['ORTHANC'] } }), project('B')])).toEqual([]);
  });

  it('rejects a C-MOVE retrieval without a move destination of its own', () => {
    expect(problems([mover('A')])).toEqual([expect.stringMatching(/^projects\.0\.retrieve\.moveDestinationAET: required with method "move"/)]);
  });

  it('rejects two projects moving to the same AE title', () => {
    expect(problems([mover('A', 'DEID_X'), mover('B', 'DEID_X')]))
      .toEqual([expect.stringMatching(/^projects\.1\.retrieve\.moveDestinationAET: 'DEID_X' is also projects\.0\.retrieve\.moveDestinationAET/)]);
  });

  it('rejects move destinations that differ only by case or padding (many PACS match AE titles so)', () => {
    expect(problems([mover('A', 'deid_x'), mover('B', 'DEID_X ')]))
      .toEqual([expect.stringMatching(/^projects\.1\.retrieve\.moveDestinationAET: .* is also projects\.0\.retrieve\.moveDestinationAET/)]);
  });

  it('rejects a move destination equal to the agent\'s own AE title', () => {
    expect(problems([mover('A', 'DEIDAGENT'), project('B', { listen: { callingAETs: ['CT_3'] } })]))
      .toEqual([expect.stringMatching(/^projects\.0\.retrieve\.moveDestinationAET: 'DEIDAGENT' is also dicom\.aet/)]);
  });

  it('rejects a move destination equal to another project\'s listen.calledAET', () => {
    expect(problems([project('A', { listen: { calledAET: 'DEID_X' } }), mover('B', 'DEID_X')]))
      .toEqual([expect.stringMatching(/^projects\.1\.retrieve\.moveDestinationAET: 'DEID_X' is also projects\.0\.listen\.calledAET/)]);
  });

  it('rejects a move destination that is also the project\'s own push AE title (pushes would be judged as retrievals)', () => {
    expect(problems([mover('A', 'DEID_A', { listen: { calledAET: 'DEID_A' } })]))
      .toEqual([expect.stringMatching(/^projects\.0\.retrieve\.moveDestinationAET: 'DEID_A' is also projects\.0\.listen\.calledAET/)]);
  });

  it('rejects two projects with the same listen.calledAET', () => {
    expect(problems([project('A', { listen: { calledAET: 'PUSH' } }), project('B', { listen: { calledAET: 'PUSH' } })]))
      .toEqual([expect.stringMatching(/^projects\.1\.listen\.calledAET: 'PUSH' is also projects\.0\.listen\.calledAET/)]);
  });

  it('rejects a listen.calledAET equal to the agent\'s own AE title (it would take every caller\'s associations)', () => {
    expect(problems([project('A', { listen: { calledAET: 'deidagent' } }), project('B', { listen: { callingAETs: ['CT_3'] } })]))
      .toEqual([expect.stringMatching(/^projects\.0\.listen\.calledAET: 'deidagent' is also dicom\.aet/)]);
  });

  it('rejects one caller routed to two projects', () => {
    expect(problems([project('A', { listen: { callingAETs: ['CT_3'] } }), project('B', { listen: { callingAETs: ['MR_1', 'CT_3'] } })]))
      .toEqual([expect.stringMatching(/^projects\.1\.listen\.callingAETs\.1: 'CT_3' is also listed by projects\.0\.listen\.callingAETs\.0/)]);
  });

  it('rejects a caller route that could catch the moves of a PACS another project retrieves from', () => {
    expect(problems([mover('A', 'DEID_A'), project('B', { listen: { callingAETs: ['orthanc'] } })]))
      .toEqual([expect.stringMatching(/^projects\.1\.listen\.callingAETs\.0: 'orthanc' is projects\.0\.pacs\.calledAET/)]);
  });

  it('rejects a move destination on a C-GET retrieval (it would be unused, and look like a route)', () => {
    expect(problems([project('A', { pacs, retrieve: { schedule: '0 1 * * *', requests: '/srv/t/A/requests', method: 'get', moveDestinationAET: 'DEID_A' } })]))
      .toEqual([expect.stringMatching(/^projects\.0\.retrieve\.moveDestinationAET: only used with method "move"/)]);
  });

  it('rejects two projects sharing a requests folder, or one inside another\'s (a request would run for both)', () => {
    const shared = mover('B', 'DEID_B');
    expect(problems([mover('A', 'DEID_A'), { ...shared, retrieve: { ...shared.retrieve!, requests: '/srv/t/A/requests' } }]))
      .toEqual([expect.stringMatching(/^projects\.1\.retrieve\.requests: is the same folder as projects\.0\.retrieve\.requests/)]);
    expect(problems([mover('A', 'DEID_A'), { ...shared, retrieve: { ...shared.retrieve!, requests: '/srv/t/A/requests/now' } }]))
      .toEqual([expect.stringMatching(/^projects\.1\.retrieve\.requests: is inside projects\.0\.retrieve\.requests/)]);
  });

  it('rejects two projects sharing an inbox or a work area (where received instances land)', () => {
    expect(problems([project('A'), project('B', { inbox: '/srv/t/A/inbox' })]))
      .toEqual([expect.stringMatching(/^projects\.1\.inbox: is the same folder as projects\.0\.inbox/)]);
    expect(problems([project('A', { work: '/srv/t/work' }), project('B', { work: '/srv/t/work' })]))
      .toEqual([expect.stringMatching(/^projects\.1\.work: is the same folder as projects\.0\.work/)]);
  });
});
