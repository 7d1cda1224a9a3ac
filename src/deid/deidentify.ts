import { type DataElement, type Item, type SequenceElement, type ValueElement, asciiValue, sortElements, valueOf } from '../dicom/dataset.js';
import { Tags, elementOf, groupOf, isPrivateTag } from '../dicom/tag.js';
import { conformsToVr } from '../dicom/value-syntax.js';
import { isKnownStandardTag, isStringVr } from '../dicom/vr.js';
import { shiftDa, shiftDt } from './date-shift.js';
import { type DescriptorContext, cleanDescriptorBytes, cleanableBytes, descriptorContext, textEncodingFor } from './descriptor-cleaner.js';
import { dummySequence } from './dummy-sequence.js';
import { dummyValue } from './dummy-values.js';
import { type PrivateRule, privateRule } from './private-attributes.js';
import { type Action, type Cleaner, type Profile, type Rule, type SupportedOption, ruleForStandardTag, shiftsDates } from './profile.js';
import { provenanceElements } from './provenance.js';
import { recipeFor } from './recipes.js';
import { CODE_ATTRIBUTE_TAGS, GRAPHICS, NON_INSTANCE_UID_TAGS, URN_CODE_VALUE } from './rules/attribute-classes.js';
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

const rule = (action: Action, basis: string): Rule => ({ action, basis });
const KEEP = rule({ do: 'keep' }, 'not in E.1-1: kept');
const REMOVE_STRUCTURE = rule({ do: 'remove' }, 'group length or misplaced meta element');
const REMOVE_UNKNOWN = rule({ do: 'remove' }, 'not in the PS3.6 dictionary: cannot be classified, removed');
const REMOVE_URL = rule({ do: 'remove' }, 'a network location (UR) outside E.1-1: removed');
const REMAP_UNLISTED_UID = rule({ do: 'remapUid' }, 'an instance UID outside E.1-1: remapped');
const PSEUDONYM = rule({ do: 'pseudonym' }, 'project pseudonym');
const DUMMY_UNLISTED_NAME = rule({ do: 'dummy' }, 'a person name outside E.1-1: replaced');
// A dummy, not removal: some unlisted text is type 1 in its IOD (Metabolite Map Description).
const REPLACE_UNLISTED_TEXT = rule({ do: 'dummy' }, 'free text outside E.1-1: replaced');
const CLEAN_UNLISTED_TEXT = rule({ do: 'clean', cleaner: 'descriptors', fallback: { do: 'dummy' } }, 'free text outside E.1-1: Clean Descriptors');
const UNLISTED_FREE_TEXT_VRS = new Set(['LT', 'ST', 'UT', 'UC']);
/** Code values of a local coding scheme are made up on site and can be anything: cleaned like text. */
const LOCAL_CODE_TAGS = new Set([0x00080100, 0x00080119]);
const CODING_SCHEME_DESIGNATOR = 0x00080102;
const isLocalScheme = (siblings: readonly DataElement[]): boolean => {
  const scheme = valueOf(siblings, CODING_SCHEME_DESIGNATOR)?.toString('latin1').trim().toUpperCase() ?? '';
  return scheme.startsWith('99') || scheme === 'L' || scheme === 'LOCAL';
};
const DUMMY: Action = { do: 'dummy' };
const PROVENANCE_TAGS = new Set<number>([
  Tags.PatientIdentityRemoved, Tags.DeidentificationMethod, Tags.DeidentificationMethodCodeSequence,
  Tags.LongitudinalTemporalInformationModified,
]);
/** Text that can carry a name or a number: what the Clean options look at. */
const FREE_TEXT_VRS = new Set(['AE', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT', 'UR']);
const CODE_MEANING = 0x00080104;
const MAX_DESCRIPTOR = 10_240;
const NIL_URN = 'urn:uuid:00000000-0000-0000-0000-000000000000';

/** Where in the tree the walk is: under a sequence kept as is, or inside one a Clean option keeps. */
type Mode = 'normal' | Cleaner;
interface Place { readonly depth: number; readonly mode: Mode }

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

  private ruleFor(e: DataElement, siblings: readonly DataElement[], at: Place): PrivateRule {
    if (elementOf(e.tag) === 0x0000 || groupOf(e.tag) === 0x0002) return REMOVE_STRUCTURE;
    if (isPrivateTag(e.tag)) return privateRule(e.tag, siblings, this.profile);
    if (at.depth === 0 && (e.tag === Tags.PatientName || e.tag === Tags.PatientID)) return PSEUDONYM;
    const base = this.standardRule(e, siblings, at.mode);
    return at.mode === 'normal' ? base : this.insideCleaned(e, base, at.mode, siblings);
  }

  private standardRule(e: DataElement, siblings: readonly DataElement[], mode: Mode): Rule {
    const recipe = recipeFor(e.tag, siblings, this.profile.recipes);
    if (recipe) {
      const action: Action = recipe.action === 'replace' ? { do: 'replace', value: recipe.value ?? '' } : { do: recipe.action };
      return rule(action, recipe.basis);
    }
    const vr = e.kind === 'sequence' ? 'SQ' : e.vr;
    const listed = ruleForStandardTag(e.tag, this.profile, vr);
    if (listed) return listed;
    if (!isKnownStandardTag(e.tag)) return REMOVE_UNKNOWN;
    if (vr === 'UR') return e.tag === URN_CODE_VALUE ? KEEP : REMOVE_URL;
    if (vr === 'UI' && !NON_INSTANCE_UID_TAGS.has(e.tag)) return REMAP_UNLISTED_UID;
    // The table lists what the standard knows to identify; a person name or free text it does not
    // list can still hold anything, so it fails closed: names and free text are replaced by dummies
    // (or, under Clean Descriptors, the text is cleaned). Inside content a Clean option keeps, its cleaner decides.
    if (vr === 'PN') return DUMMY_UNLISTED_NAME;
    if (mode === 'normal' && UNLISTED_FREE_TEXT_VRS.has(vr)) {
      return this.profile.options.has('cleanDescriptors') ? CLEAN_UNLISTED_TEXT : REPLACE_UNLISTED_TEXT;
    }
    return KEEP;
  }

  /**
   * Inside content a Clean option keeps, the rows still apply (a Person Name is D, a Referenced SOP
   * Instance UID U); what they would keep as text is cleaned: descriptors by the descriptor
   * cleaner, SR content and graphics replaced by dummies, except the codes of coded entries.
   */
  private insideCleaned(e: DataElement, base: Rule, mode: Cleaner, siblings: readonly DataElement[]): Rule {
    if (mode === 'graphics' && e.tag === GRAPHICS.TextObjectSequence) return rule({ do: 'remove' }, 'Clean Graphics: text objects removed');
    // Text a descriptor row would clean is free text too when it sits in SR content or graphics.
    const keepsText = base.action.do === 'keep' || mode !== 'descriptors' && base.action.do === 'clean' && base.action.cleaner === 'descriptors';
    if (!keepsText || e.kind !== 'value' || !FREE_TEXT_VRS.has(e.vr)) return base;
    // A code's meaning is text, and a local code's value is made up on site: both are cleaned.
    const codeText = e.tag === CODE_MEANING || LOCAL_CODE_TAGS.has(e.tag) && isLocalScheme(siblings);
    if (codeText) return rule({ do: 'clean', cleaner: 'descriptors', fallback: DUMMY }, 'Clean option: code meaning or local code cleaned');
    if (mode === 'descriptors') {
      if (CODE_ATTRIBUTE_TAGS.has(e.tag)) return base;
      return rule({ do: 'clean', cleaner: 'descriptors', fallback: DUMMY }, 'Clean Descriptors: text inside a coded descriptor');
    }
    if (CODE_ATTRIBUTE_TAGS.has(e.tag)) return base;
    return rule(DUMMY, `Clean ${mode === 'graphics' ? 'Graphics' : 'Structured Content'}: free text replaced`);
  }

  clean(elements: readonly DataElement[], at: Place): DataElement[] {
    const out: DataElement[] = [];
    for (const e of elements) {
      const cleaned = this.apply(e, this.ruleFor(e, elements, at), at);
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
