/** A project's sample inspection settings (config `qa`), defaults filled. */
export interface QaSettings {
  /** The share of a batch drawn, in percent. */
  readonly percent: number;
  /** At least this many (or the whole batch when it is smaller). */
  readonly min: number;
  /** At most this many. */
  readonly max: number;
  /** Days a cloud outbox's delivered outputs are kept locally for inspection. */
  readonly retainDays: number;
}

export const DEFAULT_QA: QaSettings = { percent: 5, min: 3, max: 50, retainDays: 14 };

export function qaSettingsOf(qa: Partial<QaSettings> | undefined): QaSettings {
  return { ...DEFAULT_QA, ...Object.fromEntries(Object.entries(qa ?? {}).filter(([, v]) => v !== undefined)) };
}

/** How many of a batch of `size` outputs are drawn: ceil(percent %), within [min, max], never more than there are. */
export function sampleSize(size: number, s: Pick<QaSettings, 'percent' | 'min' | 'max'>): number {
  const wanted = Math.min(s.max, Math.max(s.min, Math.ceil((s.percent * size) / 100)));
  return Math.max(0, Math.min(size, wanted));
}
