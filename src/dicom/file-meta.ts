import type { DataElement } from './dataset.js';
import { Tags } from './tag.js';

/** This implementation's class UID (a 2.25 UUID-derived root) and version, recorded in every output. */
export const IMPLEMENTATION_CLASS_UID = '2.25.326210358873269781181414293801048513502';
export const IMPLEMENTATION_VERSION_NAME = 'DEIDAGENT_0.1.0';

const ui = (tag: number, uid: string): DataElement => ({ kind: 'value', tag, vr: 'UI', value: Buffer.from(uid, 'latin1') });

/**
 * A fresh meta group (PS3.10 7.1). Nothing of the input's meta group is carried over: its source
 * AE title and private information can identify the sender.
 */
export function buildFileMeta(sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): DataElement[] {
  return [
    { kind: 'value', tag: Tags.FileMetaInformationVersion, vr: 'OB', value: Buffer.from([0x00, 0x01]) },
    ui(Tags.MediaStorageSOPClassUID, sopClassUid),
    ui(Tags.MediaStorageSOPInstanceUID, sopInstanceUid),
    ui(Tags.TransferSyntaxUID, transferSyntaxUid),
    ui(Tags.ImplementationClassUID, IMPLEMENTATION_CLASS_UID),
    { kind: 'value', tag: Tags.ImplementationVersionName, vr: 'SH', value: Buffer.from(IMPLEMENTATION_VERSION_NAME, 'latin1') },
  ];
}
