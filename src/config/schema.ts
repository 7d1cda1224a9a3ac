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
  /** Files in flight at once (default: the number of CPUs). */
  concurrency: z.number().int().min(1).max(64).optional(),
  /** The agent's work area; must be on the inbox's file system (claims are renames). */
  work: z.string().min(1).optional(),
  /** Which associations to the agent's Storage SCP feed this project's pipeline. */
  listen: z.object({
    /** Associations calling this AE title come here. */
    calledAET: aeTitle.optional(),
    /** Associations to the agent's own AE title from these callers come here. */
    callingAETs: z.array(aeTitle).optional(),
  }).strict().optional(),
  /** The PACS to retrieve from (C-FIND, C-MOVE to the agent's listener). */
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

export const configSchema = z.object({
  store: z.string().min(1),
  /** The agent's Storage SCP (C-STORE listener, C-ECHO); projects pick associations with `listen`. */
  dicom: z.object({ aet: aeTitle, port: z.number().int().min(1).max(65535) }).strict().optional(),
  /** Worker threads that de-identify instances for every project (default: the number of CPUs; 0: the main thread). */
  workers: z.number().int().min(0).max(64).optional(),
  projects: z.array(projectConfigSchema).min(1),
}).strict().superRefine((c, ctx) => {
  const seen = new Set<string>();
  for (const [i, p] of c.projects.entries()) {
    if (p.retrieve && !p.pacs) ctx.addIssue({ code: 'custom', path: ['projects', i, 'retrieve'], message: 'needs projects.' + i + '.pacs' });
    if (p.retrieve && p.retrieve.method === 'move' && !c.dicom) ctx.addIssue({ code: 'custom', path: ['projects', i, 'retrieve', 'method'], message: 'C-MOVE needs the agent\'s listener: set dicom { aet, port }, or use method "get"' });
    if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['projects', i, 'name'], message: `duplicate project name '${p.name}'` });
    seen.add(p.name);
  }
});

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
