import { join } from 'node:path';
import { DEFAULT_BURNED_IN_RULES } from '../../src/detect/burned-in-rules.js';
import { DEFAULT_PIXEL_POLICY } from '../../src/detect/pixel-text-detector.js';
import type { Project } from '../../src/pipeline/project.js';
import type { ProcessingSpec } from '../../src/pipeline/project-context.js';

/** A project named `name` writing to `outbox` (quarantine and failed beside it), with a fixed shift and UID secret. */
export function processingSpec(name: string, outbox: string, over: Partial<Project> = {}, ledgers?: readonly string[]): ProcessingSpec {
  return {
    project: {
      name, prefix: `${name}_`, outbox, quarantine: join(outbox, '..', 'q'), failed: join(outbox, '..', 'f'),
      options: [], recipes: [], burnedInRules: DEFAULT_BURNED_IN_RULES, pixels: DEFAULT_PIXEL_POLICY, ...over,
    },
    secrets: { dateShiftDays: -1, uidSecret: Buffer.alloc(32, 1) },
    ...(ledgers ? { ledgers } : {}),
  };
}
