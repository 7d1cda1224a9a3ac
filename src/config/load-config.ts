import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { configSchema, type ResolvedConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`[config] ${message}`, options);
    this.name = 'ConfigError';
  }
}

async function loadRaw(file: string): Promise<unknown> {
  const ext = extname(file);
  if (ext === '.json') {
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new ConfigError(`cannot read ${file} (${e.code ?? 'error'})`, { cause: e });
    });
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  if (ext === '.js' || ext === '.mjs') {
    const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
    if (mod.default === undefined) throw new ConfigError(`${file} has no default export`);
    return mod.default;
  }
  throw new ConfigError(`${file}: use a .js, .mjs or .json file (watch.config.ts is built to dist/watch.config.js)`);
}

/**
 * Loads and validates a config file. Relative paths resolve against the working directory. A
 * problem is reported with the key that has it, e.g. `projects.0.prefix: letters, digits…`.
 */
export async function loadConfig(file: string): Promise<ResolvedConfig> {
  const parsed = configSchema.safeParse(await loadRaw(file));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${file} is invalid:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  return {
    ...(c.dicom ? { dicom: c.dicom } : {}),
    ...(c.workers === undefined ? {} : { workers: c.workers }),
    store: resolve(c.store),
    projects: c.projects.map((p) => ({
      ...p, inbox: resolve(p.inbox), outbox: resolve(p.outbox), quarantine: resolve(p.quarantine), failed: resolve(p.failed),
      // Beside the inbox by default, so that claiming (a rename) stays on one file system.
      work: resolve(p.work ?? join(dirname(resolve(p.inbox)), `.deid-work-${p.name}`)),
      ...(p.retrieve ? { retrieve: { ...p.retrieve, requests: resolve(p.retrieve.requests) } } : {}),
    })),
  };
}
