import { type Tag, tagOf } from '../../dicom/tag.js';

/**
 * UI attributes outside Table E.1-1 whose values name a class, a transfer syntax, a coding scheme,
 * a template or a piece of software: never a patient, a study or an instance. They are kept.
 * Every other UI attribute outside the table is treated as an instance UID and remapped, so a UID
 * attribute the table does not name (a newer one, a reference) cannot carry an original out.
 */
export const NON_INSTANCE_UID_TAGS: ReadonlySet<Tag> = new Set([
  tagOf(0x0008, 0x0016), // SOP Class UID
  tagOf(0x0008, 0x001a), // Related General SOP Class UID
  tagOf(0x0008, 0x001b), // Original Specialized SOP Class UID
  tagOf(0x0008, 0x0062), // SOP Classes in Study
  tagOf(0x0008, 0x010c), // Coding Scheme UID
  tagOf(0x0008, 0x010d), // Context Group Extension Creator UID
  tagOf(0x0008, 0x0117), // Context UID
  tagOf(0x0008, 0x0118), // Mapping Resource UID
  tagOf(0x0008, 0x040e), // Stored Instance Transfer Syntax UID
  tagOf(0x0008, 0x1150), // Referenced SOP Class UID
  tagOf(0x0008, 0x115a), // SOP Classes Supported
  tagOf(0x0008, 0x3002), // Available Transfer Syntax UID
  tagOf(0x0008, 0x9123), // Creator-Version UID (the software that made the instance)
  tagOf(0x0034, 0x0003), // Flow Transfer Syntax UID
  tagOf(0x0400, 0x0010), // MAC Calculation Transfer Syntax UID
  tagOf(0x0400, 0x0510), // Encrypted Content Transfer Syntax UID
  tagOf(0x3010, 0x001f), // Segmentation Template UID
  tagOf(0x3010, 0x0052), // Pertinent SOP Classes in Study
  tagOf(0x3010, 0x0053), // Pertinent SOP Classes in Series
  tagOf(0x0004, 0x1510), // Referenced SOP Class UID in File
  tagOf(0x0004, 0x1512), // Referenced Transfer Syntax UID in File
  tagOf(0x0004, 0x151a), // Referenced Related General SOP Class UID in File
]);

/**
 * The attributes of a coded entry (PS3.3 Table 8.8-1, Code Sequence Macro). Inside content that a
 * Clean option keeps (SR content, graphic annotations, coded descriptors) these are the clinical
 * vocabulary and stay; every other text value there is replaced or cleaned.
 */
export const CODE_ATTRIBUTE_TAGS: ReadonlySet<Tag> = new Set([
  tagOf(0x0008, 0x0100), // Code Value
  tagOf(0x0008, 0x0102), // Coding Scheme Designator
  tagOf(0x0008, 0x0103), // Coding Scheme Version
  tagOf(0x0008, 0x0104), // Code Meaning
  tagOf(0x0008, 0x0105), // Mapping Resource
  tagOf(0x0008, 0x0106), // Context Group Version
  tagOf(0x0008, 0x0107), // Context Group Local Version
  tagOf(0x0008, 0x010b), // Context Group Extension Flag
  tagOf(0x0008, 0x010f), // Context Identifier
  tagOf(0x0008, 0x0119), // Long Code Value
  tagOf(0x0008, 0x0120), // URN Code Value
  tagOf(0x0008, 0x0122), // Mapping Resource Name
]);

/** The one URL-valued attribute that is a name, not a network location, when it is a URN. */
export const URN_CODE_VALUE: Tag = tagOf(0x0008, 0x0120);

/** Graphic annotation items: text objects go under Clean Graphics; an item keeps only drawn graphics. */
export const GRAPHICS = {
  TextObjectSequence: tagOf(0x0070, 0x0008),
  GraphicObjectSequence: tagOf(0x0070, 0x0009),
  CompoundGraphicSequence: tagOf(0x0070, 0x0209),
} as const;
