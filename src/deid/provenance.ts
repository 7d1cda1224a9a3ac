import type { DataElement, ValueElement } from '../dicom/dataset.js';
import { Tags } from '../dicom/tag.js';
import { PROFILE_REVISION, type SupportedOption } from './profile.js';
import type { Recipe } from './recipes.js';

/** DCM codes of PS3.16 CID 7050 for the profile and each option (PS3.15 Table E.1-1 header). */
const BASIC_CODE = { value: '113100', meaning: 'Basic Application Confidentiality Profile' };
const OPTION_CODES: Record<SupportedOption, { value: string; meaning: string; label: string }> = {
  retainLongFullDates: { value: '113106', meaning: 'Retain Longitudinal Temporal Information Full Dates Option', label: 'Full Dates' },
  retainLongModifiedDates: { value: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option', label: 'Modified Dates' },
  retainPatientCharacteristics: { value: '113108', meaning: 'Retain Patient Characteristics Option', label: 'Patient Characteristics' },
  retainDeviceIdentity: { value: '113109', meaning: 'Retain Device Identity Option', label: 'Device Identity' },
  retainUIDs: { value: '113110', meaning: 'Retain UIDs Option', label: 'UIDs' },
  retainSafePrivate: { value: '113111', meaning: 'Retain Safe Private Option', label: 'Safe Private' },
  retainInstitutionIdentity: { value: '113112', meaning: 'Retain Institution Identity Option', label: 'Institution Identity' },
  cleanDescriptors: { value: '113105', meaning: 'Clean Descriptors Option', label: 'Clean Descriptors' },
  cleanStructuredContent: { value: '113104', meaning: 'Clean Structured Content Option', label: 'Clean Structured Content' },
  cleanGraphics: { value: '113103', meaning: 'Clean Graphics Option', label: 'Clean Graphics' },
};

const text = (tag: number, vr: string, s: string): ValueElement => ({ kind: 'value', tag, vr, value: Buffer.from(s, 'latin1') });
/** LO holds 64 characters per value. */
const lo = (s: string): string => s.replace(/\\/g, '/').slice(0, 64);

export const TOOL_NAME = 'deid-agent 0.1.0';

/**
 * The attributes that record what was done (PS3.15 E.1.1 items 6–7, PS3.3 C.7.1.1): the options
 * carried out on this file, and the project's own rules, one value each.
 */
export function provenanceElements(applied: readonly SupportedOption[], recipes: readonly Recipe[]): DataElement[] {
  const chosen = [...applied].sort();
  const codes = [BASIC_CODE, ...chosen.map((o) => OPTION_CODES[o])];
  const method = [TOOL_NAME, `PS3.15 ${PROFILE_REVISION} Basic Profile`, ...chosen.map((o) => `Option ${OPTION_CODES[o].label}`), ...recipes.map((r) => lo(r.basis))];
  const temporal = applied.includes('retainLongModifiedDates') ? 'MODIFIED' : 'UNMODIFIED';
  return [
    text(Tags.PatientIdentityRemoved, 'CS', 'YES'),
    text(Tags.DeidentificationMethod, 'LO', method.map(lo).join('\\')),
    {
      kind: 'sequence', tag: Tags.DeidentificationMethodCodeSequence, undefinedLength: true,
      items: codes.map((c) => ({
        undefinedLength: true,
        elements: [text(Tags.CodeValue, 'SH', c.value), text(Tags.CodingSchemeDesignator, 'SH', 'DCM'), text(Tags.CodeMeaning, 'LO', c.meaning)],
      })),
    },
    text(Tags.LongitudinalTemporalInformationModified, 'CS', temporal),
  ];
}

const CLEAN_PIXEL_DATA = { value: '113101', meaning: 'Clean Pixel Data Option', label: 'Clean Pixel Data' };

/**
 * Records that the pixels were cleaned (PS3.15 E.3.1): the Clean Pixel Data code among the method
 * codes, and its label in the method's text. Only for an image whose cleaning was verified.
 */
export function withCleanPixelData(dataset: readonly DataElement[]): DataElement[] {
  return dataset.map((e) => {
    if (e.tag === Tags.DeidentificationMethodCodeSequence && e.kind === 'sequence') {
      const item = {
        undefinedLength: true,
        elements: [text(Tags.CodeValue, 'SH', CLEAN_PIXEL_DATA.value), text(Tags.CodingSchemeDesignator, 'SH', 'DCM'), text(Tags.CodeMeaning, 'LO', CLEAN_PIXEL_DATA.meaning)],
      };
      return { ...e, items: [...e.items, item] };
    }
    if (e.tag === Tags.DeidentificationMethod && e.kind === 'value') {
      return text(e.tag, 'LO', `${e.value.toString('latin1').replace(/[\0 ]+$/, '')}\\Option ${CLEAN_PIXEL_DATA.label}`);
    }
    return e;
  });
}
