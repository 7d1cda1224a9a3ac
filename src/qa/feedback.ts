import { readdir } from 'node:fs/promises';
import { type RecipeInput, parseRecipe } from '../deid/recipes.js';
import { hasPhiFound, verdictsOf } from './marks.js';
import { type BatchId, batchesDir, isBatchId } from './qa-paths.js';
import { type Mark, type QaRecord, readRecord } from './qa-record.js';

/**
 * What would have kept a finding out: for an attribute, a project rule (config `rules`, parsed by
 * the same recipe parser) that removes it at every depth; for an image region, the pixel policy
 * as words (the config's `pixels` is per modality). Text when no rule can do it (the attributes
 * the engine owns, such as the pseudonym, cannot be given rules).
 */
export type Suggestion = { readonly rule: RecipeInput } | { readonly text: string };

export function suggestionFor(mark: Pick<Mark, 'attribute' | 'creator' | 'region' | 'modality'>): Suggestion {
  if (mark.attribute) {
    const own = mark.attribute.slice(mark.attribute.lastIndexOf('/') + 1);
    const group = own.slice(1, 5);
    const element = parseInt(own.slice(6, 10), 16);
    const rule: RecipeInput = parseInt(group, 16) % 2 === 1
      ? { tag: `(${group},xx${(element & 0xff).toString(16).toUpperCase().padStart(2, '0')})`, ...(mark.creator ? { creator: mark.creator } : {}), action: 'remove' }
      : { tag: own, action: 'remove' };
    const parsed = parseRecipe(rule, 0);
    if (typeof parsed !== 'string') return { rule };
    return { text: `no project rule can remove ${own} (${parsed}); report it to the agent's maintainers` };
  }
  const modality = mark.modality && /^[A-Z]{2,4}$/.test(mark.modality) ? mark.modality : undefined;
  return {
    text: `look at the pixels of every ${modality ?? 'such'} image and clean what is found: "pixels": { "inspect": { "${modality ?? '<modality>'}": "all" }, "onText": "clean" }` +
      ' (or "onText": "quarantine" to hold them for review)',
  };
}

export interface BatchState {
  readonly batch: BatchId;
  readonly sampled: number;
  readonly marked: number;
  readonly phiFound: number;
  readonly signedOff: boolean;
  /** Any sampled output's latest verdict is phi-found: the dashboard flags the batch. */
  readonly flagged: boolean;
}

export function batchStateOf(record: QaRecord): BatchState {
  const verdicts = [...verdictsOf(record).values()];
  return {
    batch: record.batch, sampled: record.sample.length, marked: verdicts.length,
    phiFound: verdicts.filter((m) => m.verdict === 'phi-found').length, signedOff: record.signOff !== undefined, flagged: hasPhiFound(record),
  };
}

/** Every batch of the project with a sample drawn, with its state (by batch id). */
export async function sampledBatches(storePath: string, project: string): Promise<BatchState[]> {
  const names = await readdir(batchesDir(storePath, project)).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const out: BatchState[] = [];
  for (const name of names.sort()) {
    const id = name.replace(/\.json$/, '');
    if (!name.endsWith('.json') || !isBatchId(id)) continue;
    const record = await readRecord(storePath, project, id);
    if (record) out.push(batchStateOf(record));
  }
  return out;
}

/** The project's batches flagged by a phi-found mark (for the dashboard). */
export async function flaggedBatches(storePath: string, project: string): Promise<BatchState[]> {
  return (await sampledBatches(storePath, project)).filter((b) => b.flagged);
}

/** One phi-found finding, as exported: what and where, never the value. */
export interface FeedbackRecord {
  readonly project: string;
  readonly batch: BatchId;
  /** The de-identified output's SOP Instance UID. */
  readonly sop: string;
  readonly attribute?: { readonly path: string; readonly tag: string; readonly keyword?: string };
  readonly region?: Mark['region'];
  readonly note?: string;
  readonly who: string;
  readonly at: string;
  readonly suggestion: Suggestion;
}

/** The phi-found findings of the project's batches (each output's latest verdict), oldest batch first. */
export async function feedbackOf(storePath: string, project: string, batch?: BatchId): Promise<FeedbackRecord[]> {
  const ids = batch ? [batch] : (await sampledBatches(storePath, project)).map((b) => b.batch);
  const out: FeedbackRecord[] = [];
  for (const id of ids) {
    const record = await readRecord(storePath, project, id);
    if (!record) continue;
    for (const m of verdictsOf(record).values()) {
      if (m.verdict !== 'phi-found') continue;
      out.push({
        project, batch: id, sop: m.sop,
        ...(m.attribute ? { attribute: { path: m.attribute, tag: m.attribute.slice(m.attribute.lastIndexOf('/') + 1), ...(m.keyword ? { keyword: m.keyword } : {}) } } : {}),
        ...(m.region ? { region: m.region } : {}),
        ...(m.note ? { note: m.note } : {}),
        who: m.who, at: m.at, suggestion: suggestionFor(m),
      });
    }
  }
  return out;
}
