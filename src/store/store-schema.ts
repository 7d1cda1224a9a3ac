import { z } from 'zod';

/** 2: identifiers sealed (AES-256-GCM) and the crosswalk indexed by a keyed hash; 1: plaintext. */
export const STORE_FORMAT_VERSION = 2;

/**
 * One patient in a project's crosswalk, as stores of format 1 kept it: the original identifiers
 * in plaintext, keyed by the SHA-256 of the identity. Read only to be migrated (sealed) at open.
 */
export const legacyPatientEntrySchema = z.object({
  pseudonym: z.string().min(1),
  patientId: z.string(),
  issuerOfPatientId: z.string(),
  patientName: z.string(),
  birthDate: z.string(),
  firstSeen: z.string(),
});

/**
 * One patient in a project's crosswalk: the original identifiers sealed with the crosswalk key
 * (see crosswalk-key.ts), keyed by a keyed hash of the identity. Nothing here identifies the
 * patient without the key.
 */
export const sealedPatientEntrySchema = z.object({
  pseudonym: z.string().min(1),
  firstSeen: z.string(),
  sealed: z.string().regex(/^[A-Za-z0-9_-]{40,}$/),
}).strict();

export const patientEntrySchema = z.union([sealedPatientEntrySchema, legacyPatientEntrySchema]);

/** Counters for `deid-agent status`; not durability-critical, flushed within a second. */
export const projectStatsSchema = z.object({
  received: z.number().int().min(0),
  delivered: z.number().int().min(0),
  quarantined: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Instances the forward destination has confirmed (C-STORE success or warning). */
  forwarded: z.number().int().min(0).default(0),
  /** Held inputs a reviewer discarded (the original deleted): counted out of quarantined. */
  discarded: z.number().int().min(0).default(0),
  lastActivity: z.string().nullable(),
});

export const emptyStats = (): z.infer<typeof projectStatsSchema> => ({ received: 0, delivered: 0, quarantined: 0, failed: 0, forwarded: 0, discarded: 0, lastActivity: null });

/** One instance waiting to be (or refused from being) forwarded by C-STORE. */
export const forwardEntrySchema = z.object({
  /** The de-identified file in the outbox. */
  path: z.string(),
  enqueuedAt: z.string(),
  attempts: z.number().int().min(0),
  nextAttemptAt: z.string(),
  /** When the first failed attempt of the current run of failures happened. */
  retryingSince: z.string().nullable(),
  lastError: z.string().nullable(),
  state: z.enum(['pending', 'failed']),
  /** The DIMSE status of a final failure, when the destination gave one. */
  status: z.number().int().nullable(),
});

export const projectStateSchema = z.object({
  prefix: z.string().min(1),
  dateShiftDays: z.number().int(),
  /** 32 random bytes, hex: the key of the UID remapping. */
  uidSecret: z.string().regex(/^[0-9a-f]{64}$/),
  nextIndex: z.number().int().min(1),
  createdAt: z.string(),
  /** Keyed by the crosswalk's keyed hash of the identity (format 1: its plain SHA-256). */
  patients: z.record(z.string(), patientEntrySchema),
  stats: projectStatsSchema.default(emptyStats),
  /** Durable C-STORE queue, keyed by the de-identified SOP Instance UID (sending is idempotent on it). */
  forwardQueue: z.record(z.string(), forwardEntrySchema).default({}),
});

export const storeSchema = z.object({
  formatVersion: z.union([z.literal(1), z.literal(STORE_FORMAT_VERSION)]),
  /** Recognises the crosswalk key this store is sealed with (see deriveKeys); absent before format 2. */
  keyCheck: z.string().regex(/^[0-9a-f]{32}$/).optional(),
  /**
   * The sequence number of the last journal record this snapshot includes: on reading, only
   * records after it are replayed. 0 for a store written before the journal existed.
   */
  journalSeq: z.number().int().min(0).default(0),
  projects: z.record(z.string(), projectStateSchema),
});

export type PatientEntry = z.infer<typeof patientEntrySchema>;
export type SealedPatientEntry = z.infer<typeof sealedPatientEntrySchema>;
export type LegacyPatientEntry = z.infer<typeof legacyPatientEntrySchema>;
export const isSealed = (e: PatientEntry): e is SealedPatientEntry => 'sealed' in e;
export type ProjectState = z.infer<typeof projectStateSchema>;
export type ProjectStats = z.infer<typeof projectStatsSchema>;
export type ForwardEntry = z.infer<typeof forwardEntrySchema>;
export type StoreData = z.infer<typeof storeSchema>;

export const emptyStore = (): StoreData => ({ formatVersion: STORE_FORMAT_VERSION, journalSeq: 0, projects: {} });
