import { type DataElement, valueOf } from '../dicom/dataset.js';
import { Tags, elementOf, groupOf, isPrivateTag } from '../dicom/tag.js';
import { dictionaryVr, isKnownStandardTag, isStringVr } from '../dicom/vr.js';
import { type PrivateRule, privateRule } from './private-attributes.js';
import { type Action, type Cleaner, type Profile, type Rule, ruleForStandardTag } from './profile.js';
import { recipeFor } from './recipes.js';
import { CODE_ATTRIBUTE_TAGS, GRAPHICS, NON_INSTANCE_UID_TAGS, URN_CODE_VALUE } from './rules/attribute-classes.js';

/** Where in the tree the walk is: under a sequence kept as is, or inside one a Clean option keeps. */
export type Mode = 'normal' | Cleaner;
export interface Place { readonly depth: number; readonly mode: Mode }

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
/** Text that can carry a name or a number: what the Clean options look at. */
const FREE_TEXT_VRS = new Set(['AE', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT', 'UR']);
const CODE_MEANING = 0x00080104;

/**
 * The element as the rules must see it: a standard attribute is classified by what the dictionary
 * says it is, not by the VR the file wrote. A text attribute written with another text VR (a name
 * as LO, a date as SH) is relabelled, so its rule, its date shift and its checks apply; any other
 * text/binary mismatch (a sequence sent as bytes that do not parse, text where numbers belong)
 * cannot be read safely and the element is dropped (undefined).
 */
export function asTheDictionarySays(e: DataElement): DataElement | undefined {
  if (isPrivateTag(e.tag) || elementOf(e.tag) === 0x0000 || groupOf(e.tag) === 0x0002 || !isKnownStandardTag(e.tag)) return e;
  const choices = dictionaryVr(e.tag).split(' or ');
  if (e.kind === 'sequence') return choices.includes('SQ') ? e : undefined;
  if (e.kind !== 'value') return e;
  if (choices.includes(e.vr)) return e;
  if (e.vr === 'UN' && !choices.includes('SQ')) return e; // binary bytes in the file's order: rules go by tag
  const wanted = choices[0] ?? 'UN';
  if (choices.length === 1 && isStringVr(e.vr) && isStringVr(wanted)) return { ...e, vr: wanted };
  // Numbers written with another binary VR (OW for US) hold no text: the rules go by tag.
  if (!isStringVr(e.vr) && e.vr !== 'UN' && !choices.includes('SQ') && choices.every((c) => !isStringVr(c))) return e;
  return undefined;
}

/**
 * The rule for one element where the walk is: file structure goes, private data per its creator
 * (project rules, Table E.3.10-1), the top-level patient name and ID become the pseudonym, then
 * project rules, Table E.1-1, and for what the table does not list, the engine's own fail-closed
 * rules. Inside content a Clean option keeps, text the rules would keep is cleaned.
 */
export function ruleFor(e: DataElement, siblings: readonly DataElement[], at: Place, profile: Profile): PrivateRule {
  if (elementOf(e.tag) === 0x0000 || groupOf(e.tag) === 0x0002) return REMOVE_STRUCTURE;
  if (isPrivateTag(e.tag)) return privateRule(e.tag, siblings, profile);
  if (at.depth === 0 && (e.tag === Tags.PatientName || e.tag === Tags.PatientID)) return PSEUDONYM;
  const base = standardRule(e, siblings, at.mode, profile);
  return at.mode === 'normal' ? base : insideCleaned(e, base, at.mode, siblings);
}

function standardRule(e: DataElement, siblings: readonly DataElement[], mode: Mode, profile: Profile): Rule {
  const recipe = recipeFor(e.tag, siblings, profile.recipes);
  if (recipe) {
    const action: Action = recipe.action === 'replace' ? { do: 'replace', value: recipe.value ?? '' } : { do: recipe.action };
    return rule(action, recipe.basis);
  }
  const vr = e.kind === 'sequence' ? 'SQ' : e.vr;
  const listed = ruleForStandardTag(e.tag, profile, vr);
  if (listed) return listed;
  if (!isKnownStandardTag(e.tag)) return REMOVE_UNKNOWN;
  if (vr === 'UR') return e.tag === URN_CODE_VALUE ? KEEP : REMOVE_URL;
  if (vr === 'UI' && !NON_INSTANCE_UID_TAGS.has(e.tag)) return REMAP_UNLISTED_UID;
  // The table lists what the standard knows to identify; a person name or free text it does not
  // list can still hold anything, so it fails closed: names and free text are replaced by dummies
  // (or, under Clean Descriptors, the text is cleaned). Inside content a Clean option keeps, its
  // cleaner decides.
  if (vr === 'PN') return DUMMY_UNLISTED_NAME;
  if (mode === 'normal' && UNLISTED_FREE_TEXT_VRS.has(vr)) {
    return profile.options.has('cleanDescriptors') ? CLEAN_UNLISTED_TEXT : REPLACE_UNLISTED_TEXT;
  }
  return KEEP;
}

/**
 * Inside content a Clean option keeps, the rows still apply (a Person Name is D, a Referenced SOP
 * Instance UID U); what they would keep as text is cleaned: descriptors by the descriptor
 * cleaner, SR content and graphics replaced by dummies, except the codes of coded entries.
 */
function insideCleaned(e: DataElement, base: Rule, mode: Cleaner, siblings: readonly DataElement[]): Rule {
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

