import { decodeText } from '../dicom/charset.js';
import { type DataElement, asciiValue, valueOf } from '../dicom/dataset.js';
import { Tags } from '../dicom/tag.js';

/** The original identifiers of one patient, decoded, for the honest broker's crosswalk. */
export interface PatientIdentity {
  /** Stable lookup key: issuer + ID, else name + birth date, else the study (never merged blindly). */
  readonly key: string;
  readonly patientId: string;
  readonly issuerOfPatientId: string;
  readonly patientName: string;
  readonly birthDate: string;
}

const trimText = (s: string): string => s.replace(/[\0\s]+$/u, '').replace(/^\s+/u, '');

export function patientIdentity(dataset: readonly DataElement[]): PatientIdentity {
  const charsets = (valueOf(dataset, Tags.SpecificCharacterSet)?.toString('latin1') ?? '').split('\\');
  const text = (tag: number): string => {
    const v = valueOf(dataset, tag);
    return v === undefined ? '' : trimText(decodeText(v, charsets));
  };
  const patientId = text(Tags.PatientID);
  const issuerOfPatientId = text(Tags.IssuerOfPatientID);
  // Empty trailing components ('Wang^XiaoDong=王^小東=') carry nothing: drop them, as readers do.
  const patientName = text(Tags.PatientName).replace(/[=^]+$/u, '');
  const birthDate = asciiValue(dataset, Tags.PatientBirthDate) ?? '';
  let key: string;
  if (patientId !== '') key = JSON.stringify(['id', issuerOfPatientId, patientId]);
  else if (patientName !== '') key = JSON.stringify(['name', patientName, birthDate]);
  // Nothing identifies the patient: keep studies apart rather than pool unknown patients.
  else key = JSON.stringify(['study', asciiValue(dataset, Tags.StudyInstanceUID) ?? '']);
  return { key, patientId, issuerOfPatientId, patientName, birthDate };
}
