import { SUPPORTED_OPTIONS, type SupportedOption } from '../deid/profile.js';
import { UsageError } from './usage-error.js';

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace('u-i-ds', 'uids');

/** CLI spelling of each option: retain-long-modified-dates, retain-uids, clean-descriptors, … */
export const OPTION_NAMES: ReadonlyMap<string, SupportedOption> = new Map(SUPPORTED_OPTIONS.map((o) => [kebab(o), o]));

export function parseOptionNames(values: readonly string[]): SupportedOption[] {
  const out: SupportedOption[] = [];
  for (const raw of values.flatMap((v) => v.split(','))) {
    const name = raw.trim();
    if (name === '') continue;
    const option = OPTION_NAMES.get(name) ?? SUPPORTED_OPTIONS.find((o) => o === name);
    if (!option) throw new UsageError(`unknown profile option '${name}'; known: ${[...OPTION_NAMES.keys()].join(', ')}`);
    out.push(option);
  }
  return out;
}
