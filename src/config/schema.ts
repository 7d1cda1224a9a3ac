import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { type Recipe, duplicateRecipe, parseRecipe, recipeSchema } from '../deid/recipes.js';
import { OPTION_NAMES } from './option-names.js';

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

const prefix = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/, 'letters, digits, _ and - only, at most 41 characters');

export const projectConfigSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . and - only'),
  prefix,
  inbox: z.string().min(1),
  outbox: z.string().min(1),
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
  /** The agent's Storage SCP (C-STORE listener, C-ECHO); projects pick associations with `listen`. */
  dicom: z.object({ aet: aeTitle, port: z.number().int().min(1).max(65535) }).strict().optional(),
  /** Worker threads that de-identify instances for every project (default: the number of CPUs; 0: the main thread). */
  workers: z.number().int().min(0).max(64).optional(),
  projects: z.array(projectConfigSchema).min(1),
}).strict();

export const configSchema = configBase.superRefine((c, ctx) => {
  const seen = new Set<string>();
  for (const [i, p] of c.projects.entries()) {
    if (p.retrieve && !p.pacs) ctx.addIssue({ code: 'custom', path: ['projects', i, 'retrieve'], message: 'needs projects.' + i + '.pacs' });
    if (p.retrieve && p.retrieve.method === 'move' && !c.dicom) ctx.addIssue({ code: 'custom', path: ['projects', i, 'retrieve', 'method'], message: 'C-MOVE needs the agent\'s listener: set dicom { aet, port }, or use method "get"' });
    if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['projects', i, 'name'], message: `duplicate project name '${p.name}'` });
    seen.add(p.name);
  }
  checkRetrievalRouting(c, ctx);
  checkInputFolders(c, ctx);
});

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
    folders.push({ path: resolve(p.inbox), key: ['projects', i, 'inbox'] });
    folders.push({ path: resolve(p.work ?? join(dirname(resolve(p.inbox)), `.deid-work-${p.name}`)), key: ['projects', i, 'work'] });
    if (p.retrieve) folders.push({ path: resolve(p.retrieve.requests), key: ['projects', i, 'retrieve', 'requests'] });
  }
  const inside = (a: string, b: string): boolean => a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
  for (const [x, a] of folders.entries()) {
    for (const b of folders.slice(0, x)) {
      if (a.key[1] === b.key[1]) continue; // one project's own folders: not a mix
      if (inside(a.path, b.path) || inside(b.path, a.path)) {
        ctx.addIssue({ code: 'custom', path: a.key, message: `${a.path === b.path ? 'is the same folder as' : inside(a.path, b.path) ? 'is inside' : 'contains'} ${b.key.join('.')}: two projects would take the same inputs` });
      }
    }
  }
}

/** The shape of watch.config.ts and of --config files (.js, .mjs, .json). */
export type DeidConfig = z.input<typeof configSchema>;
export type ProjectConfig = z.infer<typeof projectConfigSchema>;
export type ForwardConfig = z.infer<typeof forwardConfigSchema>;
export type ValidConfig = z.infer<typeof configSchema>;

/** A loaded config: paths absolute, the work area decided. */
export type ResolvedProjectConfig = ProjectConfig & { readonly work: string };
export interface ResolvedConfig {
  readonly store: string;
  readonly dicom?: { readonly aet: string; readonly port: number };
  readonly workers?: number;
  readonly projects: readonly ResolvedProjectConfig[];
}
