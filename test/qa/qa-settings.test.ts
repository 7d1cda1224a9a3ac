import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { DEFAULT_QA, qaSettingsOf, sampleSize } from '../../src/qa/qa-settings.js';

// How many of a batch are drawn, and the config key that sets it.

describe('sampleSize', () => {
  it('is ceil(percent % of the batch), at least min, at most max, never more than the batch', () => {
    const d = DEFAULT_QA; // 5 %, 3 … 50
    expect([0, 1, 2, 3, 10, 60, 61, 200, 201, 999, 1000, 5000].map((n) => sampleSize(n, d))).toEqual([0, 1, 2, 3, 3, 3, 4, 10, 11, 50, 50, 50]);
    expect(sampleSize(100, { percent: 100, min: 0, max: 1000 })).toBe(100);
    expect(sampleSize(100, { percent: 0, min: 0, max: 10 })).toBe(0);
    expect(sampleSize(100, { percent: 0, min: 7, max: 10 })).toBe(7);
    expect(sampleSize(33, { percent: 10, min: 1, max: 2 })).toBe(2);
    expect(sampleSize(7, { percent: 12.5, min: 0, max: 50 })).toBe(1);
  });
});

describe('the qa config key', () => {
  const project = (qa?: unknown) => ({
    store: '/srv/s.json',
    projects: [{ name: 'A', prefix: 'A_', inbox: '/srv/a/in', outbox: '/srv/a/out', quarantine: '/srv/a/q', failed: '/srv/a/f', ...(qa === undefined ? {} : { qa }) }],
  });

  it('is optional; given, its keys fill over the defaults', () => {
    expect(configSchema.safeParse(project()).success).toBe(true);
    expect(qaSettingsOf(undefined)).toEqual({ percent: 5, min: 3, max: 50, retainDays: 14 });
    const parsed = configSchema.parse(project({ percent: 10, retainDays: 30 }));
    expect(qaSettingsOf(parsed.projects[0]?.qa)).toEqual({ percent: 10, min: 3, max: 50, retainDays: 30 });
  });

  it('refuses a percent outside 0–100, a min above max, unknown keys and a retention of 0 days', () => {
    for (const bad of [{ percent: 101 }, { percent: -1 }, { min: 10, max: 5 }, { sample: 3 }, { retainDays: 0 }, { min: 1.5 }]) {
      expect(configSchema.safeParse(project(bad)).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
