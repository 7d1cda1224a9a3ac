import { type DataElement, type Item, type SequenceElement, type ValueElement, asciiValue, sortElements, valueOf } from '../dicom/dataset.js';
import { Tags, isPrivateTag } from '../dicom/tag.js';
import { conformsToVr } from '../dicom/value-syntax.js';
import { isStringVr } from '../dicom/vr.js';
import { shiftDa, shiftDt } from './date-shift.js';
import { type DescriptorContext, cleanDescriptorBytes, cleanableBytes, descriptorContext, textEncodingFor } from './descriptor-cleaner.js';
import { dummySequence } from './dummy-sequence.js';
import { dummyValue } from './dummy-values.js';
import { type Mode, type Place, asTheDictionarySays, ruleFor } from './element-rules.js';
import type { PrivateRule } from './private-attributes.js';
import { type Action, type Cleaner, type Profile, type SupportedOption, shiftsDates } from './profile.js';
import { provenanceElements } from './provenance.js';
import { GRAPHICS, NON_INSTANCE_UID_TAGS } from './rules/attribute-classes.js';
import { instanceUidsIn, scrubUids } from './uid-scrub.js';
import { remapUid } from './uid-remap.js';

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
  /** Kept values that broke their VR's syntax (an IS of '1A'), blanked. */
  readonly invalidBlanked: number;
  /** Values outside the UID rows that held an original UID (replaced in text, removed in binary). */
  readonly scrubbedUids: number;
}

export interface DeidResult {
  readonly dataset: DataElement[];
  readonly stats: DeidStats;
  /** The options carried out on this file, as its provenance declares them. */
  readonly appliedOptions: readonly SupportedOption[];
}

const PROVENANCE_TAGS = new Set<number>([
  Tags.PatientIdentityRemoved, Tags.DeidentificationMethod, Tags.DeidentificationMethodCodeSequence,
  Tags.LongitudinalTemporalInformationModified,
]);
const MAX_DESCRIPTOR = 10_240;
const NIL_URN = 'urn:uuid:00000000-0000-0000-0000-000000000000';

const trimmedText = (v: Buffer): string => v.toString('latin1').replace(/[\0 ]+$/, '');

class Engine {
  readonly actions: Record<Action['do'], number> = {
    keep: 0, remove: 0, empty: 0, dummy: 0, remapUid: 0, shiftDate: 0, pseudonym: 0, replace: 0, clean: 0,
  };
  blankedDates = 0;
  invalidBlanked = 0;
  /** Originals the rules remapped, and UIDs a rule kept on purpose (Retain options, recipes). */
  readonly remapped = new Map<string, string>();
  readonly keptUids = new Set<string>();
  /** Cleaners that met something they could not clean (the Basic action was used instead). */
  readonly fellBack = new Set<Cleaner>();
  private descriptors: DescriptorContext | undefined;
  private readonly charsets: readonly string[];

  constructor(private readonly profile: Profile, private readonly keys: ProjectKeys, private readonly input: readonly DataElement[]) {
    this.charsets = (valueOf(input, Tags.SpecificCharacterSet)?.toString('latin1') ?? '').split('\\');
  }

  remap = (uid: string): string => {
    let r = this.remapped.get(uid);
    if (r === undefined) {
      r = remapUid(uid, this.keys.uidSecret);
      this.remapped.set(uid, r);
    }
    return r;
  };

  private remapValue = (value: Buffer): Buffer =>
    Buffer.from(trimmedText(value).split('\\').map((u) => this.remap(u.trim())).join('\\'), 'latin1');

  clean(elements: readonly DataElement[], at: Place): DataElement[] {
    const out: DataElement[] = [];
    for (const raw of elements) {
      const e = asTheDictionarySays(raw);
      if (!e) {
        this.actions.remove++;
        continue;
      }
      const cleaned = this.apply(e, ruleFor(e, elements, at, this.profile), at);
      if (cleaned) out.push(cleaned);
    }
    return out;
  }

  private cleanItems(items: readonly Item[], at: Place, mode: Mode = at.mode): Item[] {
    return items.map((item) => ({ ...item, elements: this.clean(item.elements, { depth: at.depth + 1, mode }) }));
  }

  private withText(e: ValueElement, text: string): ValueElement {
    return { ...e, value: Buffer.from(text, 'latin1') };
  }

  /** Kept dates are shifted too (every kept DA/DT, listed in E.1-1 or not), unless full dates are retained. */
  private shiftIfDate(e: ValueElement, vr: string): ValueElement {
    if (!shiftsDates(this.profile) || (vr !== 'DA' && vr !== 'DT')) return e;
    const text = trimmedText(e.value);
    const shifted = vr === 'DA' ? shiftDa(text, this.keys.dateShiftDays) : shiftDt(text, this.keys.dateShiftDays);
    this.actions.shiftDate++;
    if (shifted === undefined) {
      this.blankedDates++;
      return this.withText(e, '');
    }
    return this.withText(e, shifted);
  }

  private keepValue(e: ValueElement, r: PrivateRule): ValueElement | undefined {
    const vr = e.vr === 'UN' && r.safeVr ? r.safeVr : e.vr;
    // A URN Code Value that is really a URL: replaced by the nil UUID URN, so the code keeps a value.
    if (vr === 'UR' && !/^urn:/i.test(trimmedText(e.value))) return this.withText(e, NIL_URN);
    if (vr === 'UI') {
      // A private UID kept (safe private, a recipe) is still an instance UID: remapped like any.
      if (isPrivateTag(e.tag) && !this.profile.options.has('retainUIDs')) return { ...e, value: this.remapValue(e.value) };
      if (!NON_INSTANCE_UID_TAGS.has(e.tag)) for (const u of trimmedText(e.value).split('\\')) this.keptUids.add(u.trim());
    }
    const kept = this.shiftIfDate(e, vr);
    // A kept value that breaks its VR's syntax ('1A' as an IS) would make strict readers refuse the
    // whole output; it carries nothing the study needs, so it is blanked rather than passed on.
    if (conformsToVr(vr, kept.value)) return kept;
    this.invalidBlanked++;
    return this.withText(kept, '');
  }

  private descriptorValue(e: ValueElement): ValueElement | undefined {
    // Longer than an LT (10,240 characters) is no descriptor, and would make the cleaner's
    // patterns slow on hostile input: such a value gets the Basic action.
    if (!isStringVr(e.vr) || e.vr === 'UI' || e.value.length > MAX_DESCRIPTOR || !cleanableBytes(e.value, this.charsets)) return undefined;
    const shift = shiftsDates(this.profile) ? this.keys.dateShiftDays : undefined;
    this.descriptors ??= descriptorContext(this.input, shift, textEncodingFor(this.charsets));
    return { ...e, value: cleanDescriptorBytes(e.value, this.descriptors) };
  }

  private cleanSequence(e: SequenceElement, cleaner: Cleaner, at: Place): SequenceElement | undefined {
    const items = this.cleanItems(e.items, at, cleaner);
    if (cleaner !== 'graphics') return { ...e, items };
    // A graphic annotation item must hold a text or a graphic object; text objects are gone.
    const drawn = items.filter((item) => item.elements.some((x) => x.tag === GRAPHICS.GraphicObjectSequence || x.tag === GRAPHICS.CompoundGraphicSequence));
    return drawn.length > 0 ? { ...e, items: drawn } : undefined;
  }

  private apply(e: DataElement, r: PrivateRule, at: Place): DataElement | undefined {
    const action = r.action;
    this.actions[action.do]++;
    switch (action.do) {
      case 'keep':
        if (e.kind === 'value') return this.keepValue(e, r);
        if (e.kind === 'sequence') return { ...e, items: this.cleanItems(e.items, at) };
        if (e.kind === 'bulk') return e; // top-level pixel data, streamed through
        return e.tag === Tags.PixelData ? e : undefined; // encapsulated data elsewhere: not pixels of this image
      case 'remove':
        return undefined;
      case 'empty':
        if (e.kind === 'value') return this.withText(e, '');
        if (e.kind === 'sequence') return { ...e, items: [] };
        return undefined;
      case 'dummy':
        if (e.kind === 'sequence') return dummySequence(e, this.remapValue);
        if (e.kind !== 'value') return undefined;
        if (e.vr === 'UI') return { ...e, value: this.remapValue(e.value) };
        return { ...e, value: dummyValue(e.vr) };
      case 'remapUid':
        if (e.kind === 'sequence') return { ...e, items: this.cleanItems(e.items, at) };
        if (e.kind !== 'value' || !isStringVr(e.vr) && e.vr !== 'UN') return undefined;
        return { ...e, value: this.remapValue(e.value) };
      case 'shiftDate':
        if (e.kind === 'sequence') return { ...e, items: this.cleanItems(e.items, at) };
        if (e.kind !== 'value') return undefined;
        if (e.vr === 'DA' || e.vr === 'DT') return this.shiftIfDate(e, e.vr);
        return e.vr === 'TM' ? e : undefined; // not a date after all: nothing safe to shift
      case 'pseudonym':
        return e.kind === 'value' ? this.withText(e, this.keys.pseudonym) : undefined;
      case 'replace':
        return e.kind === 'value' ? this.withText(e, action.value) : undefined;
      case 'clean': {
        if (e.kind === 'sequence') return this.cleanSequence(e, action.cleaner, at);
        const cleaned = e.kind === 'value' && action.cleaner === 'descriptors' ? this.descriptorValue(e) : undefined;
        if (cleaned) return cleaned;
        this.fellBack.add(action.cleaner);
        return this.apply(e, { action: action.fallback, basis: `${r.basis}: cannot clean, Basic action` }, at);
      }
      default: {
        const never: never = action;
        throw new Error(`unhandled action ${JSON.stringify(never)}`);
      }
    }
  }
}

/**
 * Applies the project's profile to a dataset. Pure: no I/O, the same input and keys give the same
 * output. Pixel data (`bulk`) passes through untouched; provenance attributes are added, naming
 * only the options carried out on this file.
 */
export function deidentify(dataset: readonly DataElement[], profile: Profile, keys: ProjectKeys): DeidResult {
  const engine = new Engine(profile, keys, dataset);
  let cleaned = engine.clean(dataset, { depth: 0, mode: 'normal' }).filter((e) => !PROVENANCE_TAGS.has(e.tag));
  let scrubbedUids = 0;
  if (!profile.options.has('retainUIDs')) {
    // The UIDs the profile replaces: every instance UID of the input (minus those a rule kept on
    // purpose) and every one the rules remapped. None may survive anywhere in the output.
    const replaced = instanceUidsIn(dataset);
    for (const kept of engine.keptUids) replaced.delete(kept);
    for (const original of engine.remapped.keys()) replaced.add(original);
    const scrub = scrubUids(cleaned, replaced, engine.remap);
    cleaned = scrub.elements;
    scrubbedUids = scrub.scrubbed;
  }
  // Patient Name and ID are type 2 in every patient module: present even when the input lacked them.
  for (const tag of [Tags.PatientName, Tags.PatientID]) {
    if (!cleaned.some((e) => e.tag === tag)) {
      cleaned.push({ kind: 'value', tag, vr: tag === Tags.PatientName ? 'PN' : 'LO', value: Buffer.from(keys.pseudonym, 'latin1') });
    }
  }
  const appliedOptions = [...profile.options].filter((o) => !CLEANER_OF[o] || !engine.fellBack.has(CLEANER_OF[o]));
  cleaned.push(...provenanceElements(appliedOptions, profile.recipes));
  return {
    dataset: sortElements(cleaned), appliedOptions,
    stats: { actions: engine.actions, blankedDates: engine.blankedDates, invalidBlanked: engine.invalidBlanked, scrubbedUids },
  };
}

const CLEANER_OF: Partial<Record<SupportedOption, Cleaner>> = {
  cleanDescriptors: 'descriptors', cleanStructuredContent: 'structuredContent', cleanGraphics: 'graphics',
};

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
