import { type DataElement, type Item, type ValueElement, asciiValue, sortElements } from '../dicom/dataset.js';
import { Tags, elementOf, groupOf, isPrivateTag } from '../dicom/tag.js';
import { isFreeTextVr } from '../dicom/vr.js';
import { shiftDa, shiftDt } from './date-shift.js';
import { dummyValue } from './dummy-values.js';
import { privateRule } from './private-attributes.js';
import { type Action, type Profile, type Rule, ruleForStandardTag, shiftsDates } from './profile.js';
import { provenanceElements } from './provenance.js';
import { remapUids } from './uid-remap.js';

/** The per-project secrets and assignments the engine applies. */
export interface ProjectKeys {
  /** Replaces Patient Name and Patient ID, e.g. ILIAC_CT_001 (ASCII). */
  readonly pseudonym: string;
  readonly dateShiftDays: number;
  /** Key of the UID remapping HMAC. */
  readonly uidSecret: Buffer;
}

export interface DeidStats {
  /** How many elements each action touched, at every depth. */
  readonly actions: Record<Action['do'], number>;
  /** Dates that could not be parsed and were therefore blanked rather than kept unshifted. */
  readonly blankedDates: number;
}

export interface DeidResult {
  readonly dataset: DataElement[];
  readonly stats: DeidStats;
}

const KEEP: Rule = { action: { do: 'keep' }, basis: 'not in E.1-1: kept' };
const REMOVE_STRUCTURE: Rule = { action: { do: 'remove' }, basis: 'group length or misplaced meta element' };
const DUMMY_FREE_TEXT: Rule = { action: { do: 'dummy' }, basis: 'free text inside a D sequence' };
const PSEUDONYM: Rule = { action: { do: 'pseudonym' }, basis: 'project pseudonym' };
const PROVENANCE_TAGS = new Set<number>([
  Tags.PatientIdentityRemoved, Tags.DeidentificationMethod, Tags.DeidentificationMethodCodeSequence,
  Tags.LongitudinalTemporalInformationModified,
]);

class Engine {
  readonly actions: Record<Action['do'], number> = {
    keep: 0, remove: 0, empty: 0, dummy: 0, remapUid: 0, shiftDate: 0, pseudonym: 0,
  };
  blankedDates = 0;

  constructor(private readonly profile: Profile, private readonly keys: ProjectKeys) {}

  private ruleFor(e: DataElement, siblings: readonly DataElement[], depth: number, insideDummy: boolean): Rule & { safeVr?: string } {
    if (elementOf(e.tag) === 0x0000 || groupOf(e.tag) === 0x0002) return REMOVE_STRUCTURE;
    if (isPrivateTag(e.tag)) return privateRule(e.tag, siblings, this.profile);
    if (depth === 0 && (e.tag === Tags.PatientName || e.tag === Tags.PatientID)) return PSEUDONYM;
    const rule = ruleForStandardTag(e.tag, this.profile);
    if (rule) return rule;
    if (insideDummy && e.kind === 'value' && isFreeTextVr(e.vr)) return DUMMY_FREE_TEXT;
    return KEEP;
  }

  clean(elements: readonly DataElement[], depth: number, insideDummy: boolean): DataElement[] {
    const out: DataElement[] = [];
    for (const e of elements) {
      const rule = this.ruleFor(e, elements, depth, insideDummy);
      const cleaned = this.apply(e, rule, depth, insideDummy);
      if (cleaned) out.push(cleaned);
    }
    return out;
  }

  private cleanItems(items: readonly Item[], depth: number, insideDummy: boolean): Item[] {
    return items.map((item) => ({ ...item, elements: this.clean(item.elements, depth + 1, insideDummy) }));
  }

  private withValue(e: ValueElement, text: string): ValueElement {
    return { ...e, value: Buffer.from(text, 'latin1') };
  }

  /** Kept dates are shifted too (every kept DA/DT, listed in E.1-1 or not), unless full dates are retained. */
  private shiftIfDate(e: ValueElement, vr: string): ValueElement {
    if (!shiftsDates(this.profile) || (vr !== 'DA' && vr !== 'DT')) return e;
    const text = e.value.toString('latin1').replace(/[\0 ]+$/, '');
    const shifted = vr === 'DA' ? shiftDa(text, this.keys.dateShiftDays) : shiftDt(text, this.keys.dateShiftDays);
    this.actions.shiftDate++;
    if (shifted === undefined) {
      this.blankedDates++;
      return this.withValue(e, '');
    }
    return this.withValue(e, shifted);
  }

  private apply(e: DataElement, rule: Rule & { safeVr?: string }, depth: number, insideDummy: boolean): DataElement | undefined {
    const action = rule.action;
    this.actions[action.do]++;
    switch (action.do) {
      case 'keep':
        if (e.kind === 'value') return this.shiftIfDate(e, e.vr === 'UN' && rule.safeVr ? rule.safeVr : e.vr);
        if (e.kind === 'sequence') return { ...e, items: this.cleanItems(e.items, depth, insideDummy) };
        return e;
      case 'remove':
        return undefined;
      case 'empty':
        if (e.kind === 'value') return this.withValue(e, '');
        if (e.kind === 'sequence') return { ...e, items: [] };
        return undefined;
      case 'dummy':
        if (e.kind === 'sequence') return { ...e, items: this.cleanItems(e.items, depth, true) };
        if (e.kind !== 'value') return e;
        if (e.vr === 'UI') return this.withValue(e, remapUids(e.value.toString('latin1'), this.keys.uidSecret));
        return { ...e, value: dummyValue(e.vr) };
      case 'remapUid':
        if (e.kind === 'sequence') return { ...e, items: this.cleanItems(e.items, depth, insideDummy) };
        if (e.kind !== 'value') return undefined;
        return this.withValue(e, remapUids(e.value.toString('latin1'), this.keys.uidSecret));
      case 'shiftDate':
        if (e.kind === 'value') return this.shiftIfDate(e, e.vr);
        if (e.kind === 'sequence') return { ...e, items: this.cleanItems(e.items, depth, insideDummy) };
        return e;
      case 'pseudonym':
        if (e.kind !== 'value') return undefined;
        return this.withValue(e, this.keys.pseudonym);
      default: {
        const never: never = action;
        throw new Error(`unhandled action ${JSON.stringify(never)}`);
      }
    }
  }
}

/**
 * Applies the project's profile to a dataset. Pure: no I/O, the same input and keys give the same
 * output. Pixel data (`bulk`) passes through untouched; provenance attributes are added.
 */
export function deidentify(dataset: readonly DataElement[], profile: Profile, keys: ProjectKeys): DeidResult {
  const engine = new Engine(profile, keys);
  const cleaned = engine.clean(dataset, 0, false).filter((e) => !PROVENANCE_TAGS.has(e.tag));
  // Patient Name and ID are type 2 in every patient module: present even when the input lacked them.
  for (const tag of [Tags.PatientName, Tags.PatientID]) {
    if (!cleaned.some((e) => e.tag === tag)) {
      cleaned.push({ kind: 'value', tag, vr: tag === Tags.PatientName ? 'PN' : 'LO', value: Buffer.from(keys.pseudonym, 'latin1') });
    }
  }
  cleaned.push(...provenanceElements(profile));
  return { dataset: sortElements(cleaned), stats: { actions: engine.actions, blankedDates: engine.blankedDates } };
}

/** The UIDs that name an instance; a file without them cannot be filed or referenced. */
export interface InstanceUids {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
}

export function instanceUids(dataset: readonly DataElement[]): InstanceUids | { readonly missing: number } {
  const get = (tag: number): string => asciiValue(dataset, tag) ?? '';
  const uids = {
    sopClassUid: get(Tags.SOPClassUID), sopInstanceUid: get(Tags.SOPInstanceUID),
    studyInstanceUid: get(Tags.StudyInstanceUID), seriesInstanceUid: get(Tags.SeriesInstanceUID),
  };
  const order: ReadonlyArray<readonly [number, string]> = [
    [Tags.SOPClassUID, uids.sopClassUid], [Tags.SOPInstanceUID, uids.sopInstanceUid],
    [Tags.StudyInstanceUID, uids.studyInstanceUid], [Tags.SeriesInstanceUID, uids.seriesInstanceUid],
  ];
  const missing = order.find(([, v]) => !/^[0-9]+(\.[0-9]+)*$/.test(v));
  return missing ? { missing: missing[0] } : uids;
}
