import type { Detector, Finding, InstanceFacts } from './detector.js';

/**
 * A configurable rule: every condition given must match (within a list, any value). Matching
 * instances are quarantined unless they carry BurnedInAnnotation NO (when `unlessBurnedInAnnotationNo`).
 */
export interface BurnedInRule {
  readonly name: string;
  readonly reason: string;
  readonly modality?: readonly string[];
  /** SOP Class UID prefixes ("1.2.840.10008.5.1.4.1.1.7" matches every secondary capture class). */
  readonly sopClassUidPrefix?: readonly string[];
  /** ImageType values, any of which matches (e.g. "SCREEN SAVE"). */
  readonly imageType?: readonly string[];
  /** Case-insensitive substrings of Manufacturer. */
  readonly manufacturer?: readonly string[];
  /** Case-insensitive substrings of Manufacturer's Model Name. */
  readonly modelName?: readonly string[];
  readonly unlessBurnedInAnnotationNo?: boolean;
}

export const DEFAULT_BURNED_IN_RULES: readonly BurnedInRule[] = [
  {
    name: 'ultrasound', reason: 'ultrasound images usually carry burned-in annotation',
    modality: ['US', 'IVUS'], unlessBurnedInAnnotationNo: true,
  },
  {
    name: 'ultrasound-class', reason: 'ultrasound SOP class',
    sopClassUidPrefix: ['1.2.840.10008.5.1.4.1.1.6.', '1.2.840.10008.5.1.4.1.1.3.1'], unlessBurnedInAnnotationNo: true,
  },
  {
    name: 'secondary-capture', reason: 'secondary capture images are often screenshots with text',
    sopClassUidPrefix: ['1.2.840.10008.5.1.4.1.1.7'], unlessBurnedInAnnotationNo: true,
  },
  {
    // Not SECONDARY: reformats and MPRs carry it routinely and are no more likely to hold text.
    name: 'screen-save', reason: 'ImageType marks a screen save',
    imageType: ['SCREEN SAVE'], unlessBurnedInAnnotationNo: true,
  },
  {
    name: 'encapsulated-document', reason: 'encapsulated documents (PDF, CDA, STL) cannot be cleaned',
    sopClassUidPrefix: ['1.2.840.10008.5.1.4.1.1.104.'],
  },
];

const anyEquals = (want: readonly string[] | undefined, have: readonly string[]): boolean =>
  want === undefined || want.some((w) => have.includes(w.toUpperCase()));
const anyContains = (want: readonly string[] | undefined, have: string): boolean =>
  want === undefined || want.some((w) => have.toUpperCase().includes(w.toUpperCase()));

export function ruleMatches(rule: BurnedInRule, f: InstanceFacts): boolean {
  if (rule.unlessBurnedInAnnotationNo && f.burnedInAnnotation === 'NO') return false;
  return anyEquals(rule.modality, [f.modality])
    && (rule.sopClassUidPrefix === undefined || rule.sopClassUidPrefix.some((p) => f.sopClassUid.startsWith(p)))
    && anyEquals(rule.imageType, f.imageType)
    && anyContains(rule.manufacturer, f.manufacturer)
    && anyContains(rule.modelName, f.modelName);
}

/** BurnedInAnnotation YES always quarantines; then the configured rules. */
export function createBurnedInRuleDetector(rules: readonly BurnedInRule[]): Detector {
  return {
    name: 'burned-in-rules',
    async inspect(f: InstanceFacts): Promise<readonly Finding[]> {
      const findings: Finding[] = [];
      if (f.burnedInAnnotation === 'YES') {
        findings.push({ detector: 'burned-in-rules', rule: 'burned-in-annotation', reason: 'BurnedInAnnotation (0028,0301) is YES' });
      }
      for (const rule of rules) {
        if (ruleMatches(rule, f)) findings.push({ detector: 'burned-in-rules', rule: rule.name, reason: rule.reason });
      }
      return findings;
    },
  };
}
