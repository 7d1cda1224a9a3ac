import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { type Recipe, duplicateRecipe, parseRecipe, recipeSchema } from '../deid/recipes.js';
import { OPTION_NAMES } from './option-names.js';
import { checkConsoleProjects, consoleConfigSchema, type ResolvedConsoleConfig } from './console-schema.js';
import { projectRecordSchema } from './project-record.js';

const burnedInRuleSchema = z.object({
  name: z.string().min(1),
  reason: z.string().min(1),
  modality: z.array(z.string()).optional(),
  sopClassUidPrefix: z.array(z.string()).optional(),
  imageType: z.array(z.string()).optional(),
  manufacturer: z.array(z.string()).optional(),
  modelName: z.array(z.string()).optional(),
  unlessBurnedInAnnotationNo: z.boolean().optional(),
}).strict();

const aeTitle = z.string().regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, '1 to 16 printable ASCII characters, no backslash').refine((s) => s.trim() !== '', 'must not be blank');

/** A DICOM destination that de-identified instances are pushed to by C-STORE. */
export const forwardConfigSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  calledAET: aeTitle,
  callingAET: aeTitle.default('DEIDAGENT'),
  tls: z.object({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(), rejectUnauthorized: z.boolean().optional() }).strict().optional(),
  /** Keep retrying a refused connection, rejected association, abort or timeout for this long (default 7 days). */
  retryForHours: z.number().positive().default(168),
  /** Backoff between attempts: doubles from the first delay up to the longest. */
  firstRetryDelayMs: z.number().int().min(10).default(5_000),
  maxRetryDelayMs: z.number().int().min(10).default(600_000),
  /** Instances per association. */
  batchSize: z.number().int().min(1).max(10_000).default(100),
}).strict();

/** A secret: from an environment variable, or a file readable by its owner only (never inline). */
export const secretSchema = z.union([
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
], { error: 'give a secret as { "env": NAME } or { "file": PATH } (mode 0600), never inline' });

const url = z.string().url().refine((u) => /^https?:/.test(u), 'an http(s) URL');

/** A Box app's credentials: Client Credentials Grant (enterprise or user), or a JWT app config file. */
export const boxConfigSchema = z.object({
  clientId: z.string().min(1).optional(),
  clientSecret: secretSchema.optional(),
  enterpriseId: z.string().min(1).optional(),
  userId: z.string().min(1).optional(),
  /** The app's JSON config file (JWT auth, with its private key): a secret file. */
  jwtConfig: secretSchema.optional(),
  /** For proxies and tests; default the real service. */
  baseUrls: z.object({ baseUrl: url, uploadUrl: url, oauth2Url: url }).strict().optional(),
}).strict().superRefine((b, ctx) => {
  if (b.jwtConfig) return;
  if (!b.clientId || !b.clientSecret) ctx.addIssue({ code: 'custom', message: 'needs clientId and clientSecret (Client Credentials Grant), or jwtConfig' });
  if (!b.enterpriseId === !b.userId) ctx.addIssue({ code: 'custom', message: 'Client Credentials Grant needs exactly one of enterpriseId and userId' });
});

/** An Entra app's app-only credentials for Microsoft Graph (SharePoint/OneDrive). */
export const graphConfigSchema = z.object({
  tenantId: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: secretSchema.optional(),
  /** A PEM file with the certificate and its private key (ClientCertificateCredential). */
  certificate: secretSchema.optional(),
  authorityHost: url.optional(),
  baseUrl: url.optional(),
}).strict().refine((g) => !g.clientSecret !== !g.certificate, 'give exactly one of clientSecret and certificate');

const ackSchema = z.enum(['delete', 'archive']).default('delete');
const conflictSchema = z.enum(['fail', 'replace']).default('fail');
/** How many files move to or from a cloud folder at once. */
const transfersSchema = z.number().int().min(1).max(32).default(4);
const boxFolder = z.object({ folderId: z.string().regex(/^\d+$/, 'a Box folder id (digits)') });
const graphFolder = z.object({ driveId: z.string().min(1), path: z.string().startsWith('/').optional(), itemId: z.string().min(1).optional() });
const onePlace = (g: { path?: string | undefined; itemId?: string | undefined }): boolean => !g.path !== !g.itemId;
const onePlaceMessage = 'give exactly one of path and itemId';
const sharePath = z.string().startsWith('/', 'an absolute path: the mount point of the share, or a folder below it');

/** A cloud inbox: files are claimed (moved into a processing folder of the agent's), downloaded, and acked once settled. */
export const remoteInboxSchema = z.union([
  z.object({ box: boxFolder.extend({ ack: ackSchema, transfers: transfersSchema, pollIntervalMs: z.number().int().min(100).default(60_000), changeIntervalMs: z.number().int().min(100).default(5_000) }).strict() }).strict(),
  z.object({ graph: graphFolder.extend({ ack: ackSchema, transfers: transfersSchema, pollIntervalMs: z.number().int().min(100).default(60_000), changeIntervalMs: z.number().int().min(100).default(5_000) }).strict().refine(onePlace, onePlaceMessage) }).strict(),
  // A mounted share (another file system than the work area): claimed, copied and acked like a cloud folder.
  z.object({ folder: z.object({ path: sharePath, ack: ackSchema, transfers: transfersSchema, pollIntervalMs: z.number().int().min(100).default(60_000), changeIntervalMs: z.number().int().min(100).default(5_000),
    stabilityMs: z.number().int().min(0).default(10_000) }).strict() }).strict(),
]);
/** The settings every claimed inbox has, whatever its kind. */
export const inboxSettings = (r: RemoteInboxConfig): { readonly transfers: number; readonly pollIntervalMs: number; readonly changeIntervalMs: number } =>
  ('box' in r ? r.box : 'graph' in r ? r.graph : r.folder);
/**
 * An outbox drained from a local spool through its own ledger: a cloud folder, or a mounted share
 * (`folder`: a destination that can go away, retried with backoff while it is).
 */
export const remoteOutboxSchema = z.union([
  z.object({ box: boxFolder.extend({ onConflict: conflictSchema, transfers: transfersSchema }).strict() }).strict(),
  z.object({ graph: graphFolder.extend({ onConflict: conflictSchema, transfers: transfersSchema }).strict().refine(onePlace, onePlaceMessage) }).strict(),
  z.object({ folder: z.object({ path: sharePath, onConflict: conflictSchema, transfers: transfersSchema }).strict() }).strict(),
]);

/** The settings of a spooled outbox, whatever its kind. */
export const outboxSettings = (r: RemoteOutboxConfig): { readonly onConflict: 'fail' | 'replace'; readonly transfers: number } =>
  ('box' in r ? r.box : 'graph' in r ? r.graph : r.folder);
/** Which kind of spooled outbox: its ledger's name and its label's first word. */
export const outboxKind = (r: RemoteOutboxConfig): 'box' | 'graph' | 'folder' => ('box' in r ? 'box' : 'graph' in r ? 'graph' : 'folder');

const prefix = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/, 'letters, digits, _ and - only, at most 41 characters');

export const projectConfigSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . and - only'),
  prefix,
  /** A local folder; a cloud folder, { box: { folderId } } or { graph: { driveId, path | itemId } }; or a mounted share, { folder: { path } }. */
  inbox: z.union([z.string().min(1), remoteInboxSchema]),
  outbox: z.union([z.string().min(1), remoteOutboxSchema]),
  quarantine: z.string().min(1),
  failed: z.string().min(1),
  /** A fixed shift in days; when absent one is drawn from dateShiftRange the first time. */
  dateShiftDays: z.number().int().refine((n) => n !== 0, 'must not be 0 (use the retain-long-full-dates option to keep dates)').optional(),
  dateShiftRange: z.tuple([z.number().int(), z.number().int()]).refine(([a, b]) => a <= b, 'must be [low, high]').optional(),
  /** Profile options by their CLI names, e.g. "retain-patient-characteristics". */
  options: z.array(z.string().refine((o) => OPTION_NAMES.has(o), { message: `unknown option; known: ${[...OPTION_NAMES.keys()].join(', ')}` })).optional(),
  /** The project's own rules (recipes), checked before Table E.1-1: keep, remove or replace one attribute. */
  rules: z.array(recipeSchema).superRefine((rules, ctx) => {
    rules.forEach((r, i) => {
      const parsed = parseRecipe(r, i);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', path: [i], message: parsed });
    });
    const parsed = rules.map((r, i) => parseRecipe(r, i)).filter((r): r is Recipe => typeof r !== 'string');
    const twice = parsed.length === rules.length ? duplicateRecipe(parsed) : undefined;
    if (twice) ctx.addIssue({ code: 'custom', message: `${twice} names an attribute another rule names too` });
  }).optional(),
  /** A deflated data set inflating past this many MiB is refused (failed, with that reason). Default 256. */
  maxInflatedMiB: z.number().int().min(1).max(4096).optional(),
  /** Replaces the default burned-in rules when given. */
  burnedInRules: z.array(burnedInRuleSchema).optional(),
  /**
   * Which images have their pixels looked at for burned-in text: by modality ("CR") or SOP Class
   * UID prefix, "all", "series" (a series' first eight images and a sample of the rest, all of it once
   * one shows text) or "header" (the header rules alone); merged over the default (see README).
   */
  pixels: z.object({
    inspect: z.record(z.string().regex(/^([A-Z]{2,4}|[0-9.]+)$/, 'a modality (CR) or a SOP Class UID prefix'), z.enum(['all', 'series', 'header'])).optional(),
    otherwise: z.enum(['all', 'series', 'header']).optional(),
    /** What found text does: hold the image (default), or blank it, verify, and release it. */
    onText: z.enum(['quarantine', 'clean']).optional(),
    /** How a cleaned image is written: 'native' (explicit VR little endian, the default), or re-encoded losslessly. */
    cleanedSyntax: z.enum(['native', 'rle', 'jpeg-ls']).optional(),
  }).strict().optional(),
  /** Files in flight at once (default: 8 per CPU). */
  concurrency: z.number().int().min(1).max(64).optional(),
  /** The agent's work area; must be on the inbox's file system (claims are renames). */
  work: z.string().min(1).optional(),
  /** Which associations pushed to the agent's Storage SCP feed this project's pipeline. */
  listen: z.object({
    /** Associations calling this AE title come here. */
    calledAET: aeTitle.optional(),
    /** Associations to the agent's own AE title (dicom.aet) from these callers come here. */
    callingAETs: z.array(aeTitle).optional(),
  }).strict().optional(),
  /** The PACS to retrieve from (C-FIND, then C-MOVE to `retrieve.moveDestinationAET` or C-GET). */
  pacs: z.object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    calledAET: aeTitle,
  }).strict().optional(),
  /** Accession-number requests: files (.csv, .txt) in `requests`, run at `schedule` (cron); `requests/now/` at once. */
  retrieve: z.object({
    schedule: z.string().min(1).refine((c) => c.trim().split(/\s+/).length >= 5, 'a cron expression such as "0 1 * * *"'),
    requests: z.string().min(1),
    /** C-MOVE to the agent's listener (default), or C-GET on the query association. */
    method: z.enum(['move', 'get']).default('move'),
    /**
     * With "move": the AE title this project's C-MOVEs name as their destination. The PACS knows it
     * at the agent's host and port; associations called on it feed this project only, and only
     * with instances of studies its running retrieval asked for. One per project, so that two
     * projects retrieving from one PACS never receive each other's studies.
     */
    moveDestinationAET: aeTitle.optional(),
  }).strict().optional(),
  /** Push results by C-STORE as well (the outbox copy is written first). */
  forward: forwardConfigSchema.optional(),
  /** The IRB protocol, principal investigator and data use agreement: stamped into outputs; past its expiry nothing is delivered. */
  record: projectRecordSchema.optional(),
  /** Sample inspection: the share of each batch drawn (percent, default 5) between min (3) and max (50); a cloud outbox's outputs kept locally retainDays (14) for it. */
  qa: z.object({
    percent: z.number().min(0).max(100).optional(),
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(1).optional(),
    retainDays: z.number().int().min(1).max(3650).optional(),
  }).strict().refine((q) => q.min === undefined || q.max === undefined || q.min <= q.max, 'min must not exceed max').optional(),
  watch: z.object({
    /** Poll the inbox instead of relying on change events: for SMB/NFS shares. */
    usePolling: z.boolean().optional(),
    pollIntervalMs: z.number().int().min(50).optional(),
    /** A file is taken once its size and mtime have not changed for this long (default 2000). */
    stabilityMs: z.number().int().min(0).optional(),
  }).strict().optional(),
}).strict();

const configBase = z.object({
  store: z.string().min(1),
  /**
   * The key the crosswalk's identifiers are sealed with: a file (created with a fresh key, mode
   * 0600, when absent) or an environment variable (64 hex digits). Default: `<store>.key`.
   */
  crosswalkKey: secretSchema.optional(),
  /** The agent's Storage SCP (C-STORE listener, C-ECHO); projects pick associations with `listen`. */
  dicom: z.object({ aet: aeTitle, port: z.number().int().min(1).max(65535) }).strict().optional(),
  /** Worker threads that de-identify instances for every project (default: the number of CPUs; 0: the main thread). */
  workers: z.number().int().min(0).max(64).optional(),
  /** The Box app the projects' Box folders are reached with. */
  box: boxConfigSchema.optional(),
  /** The Entra app the projects' SharePoint/OneDrive folders are reached with. */
  graph: graphConfigSchema.optional(),
  projects: z.array(projectConfigSchema).min(1),
  /** The review console (served by `start`): port, host, accounts, TLS. */
  console: consoleConfigSchema.optional(),
}).strict();

export const configSchema = configBase.superRefine((c, ctx) => {
  const seen = new Set<string>();
  for (const [i, p] of c.projects.entries()) {
    if (p.retrieve && !p.pacs) ctx.addIssue({ code: 'custom', path: ['projects', i, 'retrieve'], message: 'needs projects.' + i + '.pacs' });
    if (p.retrieve && p.retrieve.method === 'move' && !c.dicom) ctx.addIssue({ code: 'custom', path: ['projects', i, 'retrieve', 'method'], message: 'C-MOVE needs the agent\'s listener: set dicom { aet, port }, or use method "get"' });
    if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['projects', i, 'name'], message: `duplicate project name '${p.name}'` });
    seen.add(p.name);
    for (const key of ['inbox', 'outbox'] as const) {
      const folder = p[key];
      if (typeof folder === 'string') continue;
      if ('box' in folder && !c.box) ctx.addIssue({ code: 'custom', path: ['projects', i, key, 'box'], message: 'needs the Box app: set "box" at the top level' });
      if ('graph' in folder && !c.graph) ctx.addIssue({ code: 'custom', path: ['projects', i, key, 'graph'], message: 'needs the Entra app: set "graph" at the top level' });
    }
    if (typeof p.inbox !== 'string' && (p.listen || p.retrieve)) ctx.addIssue({ code: 'custom', path: ['projects', i, 'inbox'], message: 'a cloud inbox project takes its inputs from the cloud folder only (no listen or retrieve)' });
  }
  checkRetrievalRouting(c, ctx);
  checkInputFolders(c, ctx);
  checkCloudFolders(c, ctx);
  checkConsoleProjects(c, ctx);
});

/** A cloud folder's identity: the service and its folder id, or its drive and path (case-blind, as SharePoint is). */
function cloudKey(f: RemoteInboxConfig | RemoteOutboxConfig): string {
  if ('folder' in f) return `folder:${f.folder.path}`;
  return 'box' in f ? `box:${f.box.folderId}` : `graph:${f.graph.driveId}:${f.graph.itemId ? `id:${f.graph.itemId}` : `path:${(f.graph.path ?? '').replace(/\/+$/, '').toLowerCase()}`}`;
}

/**
 * Two projects on one cloud inbox would take each other's files (two pseudonymised copies of one
 * input), and an outbox that is an inbox (or inside one, for Graph paths) would feed outputs back in.
 */
function checkCloudFolders(c: ConfigInput, ctx: z.RefinementCtx): void {
  const inboxes = new Map<string, number>();
  for (const [i, p] of c.projects.entries()) {
    if (typeof p.inbox === 'string') continue;
    const key = cloudKey(p.inbox);
    const other = inboxes.get(key);
    if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['projects', i, 'inbox'], message: `is also projects.${other}.inbox: two projects would take the same files` });
    else inboxes.set(key, i);
  }
  for (const [i, p] of c.projects.entries()) {
    if (typeof p.outbox === 'string') continue;
    const out = cloudKey(p.outbox);
    for (const [key, j] of inboxes) {
      if (out === key || (out.startsWith('graph:') && out.startsWith(`${key}/`))) {
        ctx.addIssue({ code: 'custom', path: ['projects', i, 'outbox'], message: `is projects.${j}.inbox${out === key ? '' : ' or inside it'}: outputs would be taken in again` });
      }
    }
  }
}

type ConfigInput = z.infer<typeof configBase>;

/**
 * AE titles as peers compare them: padding is not significant (PS3.5), and many PACS (Orthanc by
 * default, StrictAetComparison false) match them without regard to case. Two titles equal here
 * could reach the same project, so they count as the same title.
 */
const sameAe = (ae: string): string => ae.trim().toUpperCase();

/**
 * Rejects every set-up in which one association could feed two projects, or a PACS's moves for one
 * project could reach another. Associations are routed by the AE title they call (a project's
 * `listen.calledAET` or `retrieve.moveDestinationAET`), or, on the agent's own `dicom.aet`, by the
 * caller (`listen.callingAETs`); each of those must lead to exactly one project and one purpose.
 */
function checkRetrievalRouting(c: ConfigInput, ctx: z.RefinementCtx): void {
  // Every called AE title that routes somewhere, with the key that claims it.
  const called = new Map<string, string>();
  if (c.dicom) called.set(sameAe(c.dicom.aet), 'dicom.aet');
  const claim = (ae: string, path: (string | number)[], why: string): void => {
    const key = path.join('.');
    const other = called.get(sameAe(ae));
    if (other) ctx.addIssue({ code: 'custom', path, message: `'${ae}' is also ${other}${other === 'dicom.aet' ? ' (the agent\'s own AE title, for C-ECHO and listen.callingAETs routes)' : ''}: ${why}` });
    else called.set(sameAe(ae), key);
  };
  for (const [i, p] of c.projects.entries()) {
    const move = p.retrieve?.method === 'move' ? p.retrieve : undefined;
    if (move && !move.moveDestinationAET) {
      ctx.addIssue({ code: 'custom', path: ['projects', i, 'retrieve', 'moveDestinationAET'], message: 'required with method "move": an AE title of this project\'s own, which the PACS knows at the agent\'s host and port (projects moving to one AE title would receive each other\'s studies)' });
    }
    if (p.retrieve?.moveDestinationAET && !move) {
      ctx.addIssue({ code: 'custom', path: ['projects', i, 'retrieve', 'moveDestinationAET'], message: 'only used with method "move" (C-GET receives on its own association)' });
    }
    if (p.listen?.calledAET) claim(p.listen.calledAET, ['projects', i, 'listen', 'calledAET'], 'a called AE title must lead to one project and one purpose');
    if (move?.moveDestinationAET) claim(move.moveDestinationAET, ['projects', i, 'retrieve', 'moveDestinationAET'], 'a move destination is this project\'s alone (its associations are admitted only for studies its retrieval asked for)');
  }
  // Callers routed on the agent's own AE title.
  const callers = new Map<string, string>();
  for (const [i, p] of c.projects.entries()) {
    for (const [k, ae] of (p.listen?.callingAETs ?? []).entries()) {
      const path = ['projects', i, 'listen', 'callingAETs', k];
      const other = callers.get(sameAe(ae));
      if (other && !other.startsWith(`projects.${i}.`)) {
        ctx.addIssue({ code: 'custom', path, message: `'${ae}' is also listed by ${other}: an association from it would feed either project` });
      }
      if (!other) callers.set(sameAe(ae), path.join('.'));
      // A PACS another project retrieves from sends that project's studies; a route by its
      // calling AE title would take whatever it sends to the agent's own AE title, unchecked.
      const pacsOf = c.projects.findIndex((q, j) => j !== i && q.pacs && sameAe(q.pacs.calledAET) === sameAe(ae));
      if (pacsOf >= 0) {
        ctx.addIssue({ code: 'custom', path, message: `'${ae}' is projects.${pacsOf}.pacs.calledAET: this route could catch that PACS's instances meant for projects.${pacsOf}` });
      }
    }
  }
}

/**
 * Two projects must not share a folder their inputs come from (the inbox, the work area where
 * received instances land, the requests folder), nor have one inside another: both would claim,
 * recover or run the same files. Paths resolve as loadConfig resolves them.
 */
function checkInputFolders(c: ConfigInput, ctx: z.RefinementCtx): void {
  const folders: Array<{ path: string; key: (string | number)[] }> = [];
  for (const [i, p] of c.projects.entries()) {
    const local = localFolders(p);
    folders.push({ path: local.inbox, key: ['projects', i, 'inbox'] });
    folders.push({ path: local.work, key: ['projects', i, 'work'] });
    if (typeof p.outbox !== 'string') folders.push({ path: local.outbox, key: ['projects', i, 'outbox'] });
    if (p.retrieve) folders.push({ path: resolve(p.retrieve.requests), key: ['projects', i, 'retrieve', 'requests'] });
  }
  const inside = (a: string, b: string): boolean => a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
  // A share is a folder of its own. An outbox share receives what leaves: no inputs, work, spool
  // or originals (quarantine, failed: PHI) may be in it or around it; an inbox share is listed
  // whole: a quarantine or outbox in it would be taken in again. Nor may two shares overlap.
  const shares: Array<{ path: string; key: (string | number)[] }> = [];
  for (const [i, p] of c.projects.entries()) {
    for (const side of ['inbox', 'outbox'] as const) {
      const f = p[side];
      if (typeof f !== 'string' && 'folder' in f) shares.push({ path: resolve(f.folder.path), key: ['projects', i, side, 'folder', 'path'] });
    }
  }
  for (const [x, share] of shares.entries()) {
    const others: Array<{ path: string; name: string }> = shares.slice(0, x).map((s) => ({ path: s.path, name: s.key.slice(0, 3).join('.') }));
    for (const [j, q] of c.projects.entries()) {
      const local = localFolders(q);
      others.push({ path: local.work, name: `projects.${j}.work` }, { path: resolve(q.quarantine), name: `projects.${j}.quarantine` }, { path: resolve(q.failed), name: `projects.${j}.failed` },
        { path: local.inbox, name: `projects.${j}.inbox${typeof q.inbox === 'string' ? '' : ' (its local inbox)'}` }, { path: local.outbox, name: `projects.${j}.outbox${typeof q.outbox === 'string' ? '' : ' (its spool)'}` });
    }
    // The store (the crosswalk: PHI) in an inbox share would be claimed; in an outbox share, delivered.
    if (inside(resolve(c.store), share.path)) ctx.addIssue({ code: 'custom', path: share.key, message: 'contains the store: the share must be a folder of its own' });
    for (const o of others) {
      if (inside(share.path, o.path) || inside(o.path, share.path)) ctx.addIssue({ code: 'custom', path: share.key, message: `${share.path === o.path ? 'is' : inside(share.path, o.path) ? 'is in' : 'contains'} ${o.name}: the share must be a folder of its own` });
    }
  }
  for (const [x, a] of folders.entries()) {
    for (const b of folders.slice(0, x)) {
      if (a.key[1] === b.key[1]) continue; // one project's own folders: not a mix
      if (inside(a.path, b.path) || inside(b.path, a.path)) {
        ctx.addIssue({ code: 'custom', path: a.key, message: `${a.path === b.path ? 'is the same folder as' : inside(a.path, b.path) ? 'is inside' : 'contains'} ${b.key.join('.')}: two projects would take the same inputs` });
      }
    }
  }
}

/**
 * A project's local folders, resolved against the working directory. The work area is beside the
 * inbox by default (claims are renames, on one file system). A cloud inbox still has a local
 * inbox (files dropped there are taken too), beside the quarantine by default; a cloud outbox has
 * a local spool, the outbox its sinks' ledgers hold their queued files from.
 */
export function localFolders(p: Pick<ProjectConfig, 'name' | 'inbox' | 'outbox' | 'quarantine' | 'work'>): { inbox: string; work: string; outbox: string } {
  const inbox = typeof p.inbox === 'string' ? resolve(p.inbox) : join(dirname(resolve(p.quarantine)), `.deid-inbox-${p.name}`);
  const work = resolve(p.work ?? join(dirname(inbox), `.deid-work-${p.name}`));
  const outbox = typeof p.outbox === 'string' ? resolve(p.outbox) : join(dirname(work), `.deid-spool-${p.name}`);
  return { inbox, work, outbox };
}

/** The shape of watch.config.ts and of --config files (.js, .mjs, .json). */
export type DeidConfig = z.input<typeof configSchema>;
export type ProjectConfig = z.infer<typeof projectConfigSchema>;
export type ForwardConfig = z.infer<typeof forwardConfigSchema>;
export type ValidConfig = z.infer<typeof configSchema>;

export type RemoteInboxConfig = z.infer<typeof remoteInboxSchema>;
export type RemoteOutboxConfig = z.infer<typeof remoteOutboxSchema>;
export type SecretRef = z.infer<typeof secretSchema>;

/**
 * A loaded config: paths absolute, the work area decided. `inbox` and `outbox` are always local
 * folders (see localFolders); a cloud folder is in `remoteInbox` / `remoteOutbox`.
 */
export type ResolvedProjectConfig = Omit<ProjectConfig, 'inbox' | 'outbox'> & {
  readonly inbox: string;
  readonly outbox: string;
  readonly work: string;
  readonly remoteInbox?: RemoteInboxConfig;
  readonly remoteOutbox?: RemoteOutboxConfig;
};
/** Box credentials with their secrets read (never logged). */
export interface ResolvedBoxConfig {
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly enterpriseId?: string;
  readonly userId?: string;
  readonly jwtConfig?: string;
  readonly baseUrls?: { readonly baseUrl: string; readonly uploadUrl: string; readonly oauth2Url: string };
}
/** Graph credentials with their secrets read (never logged). */
export interface ResolvedGraphConfig {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** PEM text: the certificate and its private key. */
  readonly certificate?: string;
  readonly authorityHost?: string;
  readonly baseUrl?: string;
}
export interface ResolvedConfig {
  readonly store: string;
  /** The crosswalk key; a file's path absolute (default `<store>.key`). */
  readonly crosswalkKey: SecretRef;
  readonly dicom?: { readonly aet: string; readonly port: number };
  readonly workers?: number;
  readonly box?: ResolvedBoxConfig;
  readonly graph?: ResolvedGraphConfig;
  readonly projects: readonly ResolvedProjectConfig[];
  readonly console?: ResolvedConsoleConfig;
}
