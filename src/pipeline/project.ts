import type { ResolvedProjectConfig } from '../config/schema.js';
import type { ProjectRecord } from '../config/project-record.js';
import { parseOptionNames } from '../config/option-names.js';
import { type BurnedInRule, DEFAULT_BURNED_IN_RULES } from '../detect/burned-in-rules.js';
import { DEFAULT_PIXEL_POLICY, type PixelPolicy } from '../detect/pixel-text-detector.js';
import type { SupportedOption } from '../deid/profile.js';
import { parseRecipes, type Recipe } from '../deid/recipes.js';

/**
 * One project, resolved: the one description that a one-shot run (`anonymize`) and the watch
 * agent alike settle inputs by. A config file's project becomes one through `projectOf`;
 * `anonymize` flags build or override one. Worker threads are handed it as plain data
 * (ProcessingSpec), so it holds no functions and no handles.
 */
export interface Project {
  readonly name: string;
  /** Pseudonyms are this prefix and an index. */
  readonly prefix: string;
  /** Where outputs are written: the outbox, or the sinks' spool when the outbox is a cloud folder. */
  readonly outbox: string;
  readonly quarantine: string;
  readonly failed: string;
  readonly options: readonly SupportedOption[];
  /** The project's own rules. */
  readonly recipes: readonly Recipe[];
  readonly burnedInRules: readonly BurnedInRule[];
  /** Which images have their pixels looked at for burned-in text. */
  readonly pixels: PixelPolicy;
  /** A fixed shift in days; when absent one is drawn from dateShiftRange the first time. */
  readonly dateShiftDays?: number;
  readonly dateShiftRange?: readonly [number, number];
  /** The cap on a deflated data set's inflated size, in bytes. */
  readonly maxInflatedBytes?: number;
  /** The IRB protocol and data use agreement: stamped into outputs; past its expiry inputs are held. */
  readonly record?: ProjectRecord;
}

/** A loaded config's project, resolved: option names and rules parsed, sizes in bytes, defaults filled. */
export function projectOf(p: ResolvedProjectConfig): Project {
  return {
    name: p.name, prefix: p.prefix, outbox: p.outbox, quarantine: p.quarantine, failed: p.failed,
    options: parseOptionNames(p.options ?? []), recipes: parseRecipes(p.rules ?? []), burnedInRules: p.burnedInRules ?? DEFAULT_BURNED_IN_RULES,
    pixels: pixelPolicyOf(p.pixels),
    ...(p.dateShiftDays === undefined ? {} : { dateShiftDays: p.dateShiftDays }),
    ...(p.dateShiftRange === undefined ? {} : { dateShiftRange: p.dateShiftRange }),
    ...(p.maxInflatedMiB === undefined ? {} : { maxInflatedBytes: p.maxInflatedMiB * 1024 * 1024 }),
    ...(p.record === undefined ? {} : { record: p.record }),
  };
}

/** The project's pixel policy: its entries over the default's. */
export function pixelPolicyOf(p: ResolvedProjectConfig['pixels']): PixelPolicy {
  return {
    inspect: { ...DEFAULT_PIXEL_POLICY.inspect, ...(p?.inspect ?? {}) },
    otherwise: p?.otherwise ?? DEFAULT_PIXEL_POLICY.otherwise,
    onText: p?.onText ?? DEFAULT_PIXEL_POLICY.onText,
    ...(p?.cleanedSyntax === undefined ? {} : { cleanedSyntax: p.cleanedSyntax }),
  };
}
