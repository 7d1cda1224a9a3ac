import type { DataElement, ValueElement } from '../dicom/dataset.js';
import { Tags } from '../dicom/tag.js';
import { PROFILE_REVISION, type Profile, type SupportedOption } from './profile.js';

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
};

const text = (tag: number, vr: string, s: string): ValueElement => ({ kind: 'value', tag, vr, value: Buffer.from(s, 'latin1') });

export const TOOL_NAME = 'deid-agent 0.1.0';

/** The attributes that record what was done (PS3.15 E.1.1 items 6–7, PS3.3 C.7.1.1). */
export function provenanceElements(profile: Profile): DataElement[] {
  const chosen = [...profile.options].sort();
  const codes = [BASIC_CODE, ...chosen.map((o) => OPTION_CODES[o])];
  const method = [`${TOOL_NAME}`, `PS3.15 ${PROFILE_REVISION} Basic Profile`, ...chosen.map((o) => `Option ${OPTION_CODES[o].label}`)];
  const temporal = profile.options.has('retainLongModifiedDates') ? 'MODIFIED' : 'UNMODIFIED';
  return [
    text(Tags.PatientIdentityRemoved, 'CS', 'YES'),
    text(Tags.DeidentificationMethod, 'LO', method.join('\\')),
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
