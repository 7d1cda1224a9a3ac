/** A data element tag as one unsigned 32-bit number: group in the high 16 bits. */
export type Tag = number;

export const tagOf = (group: number, element: number): Tag => ((group << 16) | element) >>> 0;
export const groupOf = (tag: Tag): number => tag >>> 16;
export const elementOf = (tag: Tag): number => tag & 0xffff;
export const isPrivateTag = (tag: Tag): boolean => (groupOf(tag) & 1) === 1;
/** 'GGGGEEEE', upper-case hex: the key of the generated tables. */
export const tagKey = (tag: Tag): string => tag.toString(16).toUpperCase().padStart(8, '0');
/** '(GGGG,EEEE)' for messages: tags are safe to log, values are not. */
export const formatTag = (tag: Tag): string => {
  const k = tagKey(tag);
  return `(${k.slice(0, 4)},${k.slice(4)})`;
};

export const Tags = {
  FileMetaInformationGroupLength: tagOf(0x0002, 0x0000),
  FileMetaInformationVersion: tagOf(0x0002, 0x0001),
  MediaStorageSOPClassUID: tagOf(0x0002, 0x0002),
  MediaStorageSOPInstanceUID: tagOf(0x0002, 0x0003),
  TransferSyntaxUID: tagOf(0x0002, 0x0010),
  ImplementationClassUID: tagOf(0x0002, 0x0012),
  ImplementationVersionName: tagOf(0x0002, 0x0013),
  SpecificCharacterSet: tagOf(0x0008, 0x0005),
  ImageType: tagOf(0x0008, 0x0008),
  SOPClassUID: tagOf(0x0008, 0x0016),
  SOPInstanceUID: tagOf(0x0008, 0x0018),
  Modality: tagOf(0x0008, 0x0060),
  Manufacturer: tagOf(0x0008, 0x0070),
  CodeValue: tagOf(0x0008, 0x0100),
  CodingSchemeDesignator: tagOf(0x0008, 0x0102),
  CodeMeaning: tagOf(0x0008, 0x0104),
  ManufacturerModelName: tagOf(0x0008, 0x1090),
  PatientName: tagOf(0x0010, 0x0010),
  PatientID: tagOf(0x0010, 0x0020),
  IssuerOfPatientID: tagOf(0x0010, 0x0021),
  PatientBirthDate: tagOf(0x0010, 0x0030),
  PatientIdentityRemoved: tagOf(0x0012, 0x0062),
  DeidentificationMethod: tagOf(0x0012, 0x0063),
  DeidentificationMethodCodeSequence: tagOf(0x0012, 0x0064),
  StudyInstanceUID: tagOf(0x0020, 0x000d),
  SeriesInstanceUID: tagOf(0x0020, 0x000e),
  BitsAllocated: tagOf(0x0028, 0x0100),
  BitsStored: tagOf(0x0028, 0x0101),
  HighBit: tagOf(0x0028, 0x0102),
  PixelRepresentation: tagOf(0x0028, 0x0103),
  BurnedInAnnotation: tagOf(0x0028, 0x0301),
  LongitudinalTemporalInformationModified: tagOf(0x0028, 0x0303),
  FloatPixelData: tagOf(0x7fe0, 0x0008),
  DoubleFloatPixelData: tagOf(0x7fe0, 0x0009),
  PixelData: tagOf(0x7fe0, 0x0010),
  Item: tagOf(0xfffe, 0xe000),
  ItemDelimitationItem: tagOf(0xfffe, 0xe00d),
  SequenceDelimitationItem: tagOf(0xfffe, 0xe0dd),
} as const;

/** Pixel data elements whose bytes are streamed through, never held or decoded. */
export const isBulkPixelTag = (tag: Tag): boolean =>
  tag === Tags.PixelData || tag === Tags.FloatPixelData || tag === Tags.DoubleFloatPixelData;
