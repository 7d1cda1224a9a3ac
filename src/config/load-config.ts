import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './config-error.js';
import { configSchema, localFolders, type ResolvedBoxConfig, type ResolvedConfig, type ResolvedGraphConfig, type ValidConfig } from './schema.js';
import { readSecret } from './secrets.js';
import { resolveConsole } from './console-schema.js';

export { ConfigError } from './config-error.js';

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
export async function loadConfig(file: string, options: { readonly secrets?: boolean } = {}): Promise<ResolvedConfig> {
  const parsed = configSchema.safeParse(await loadRaw(file));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${file} is invalid:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  // Secrets are read only when a project uses the service: a config may keep an unused app.
  // `secrets: false`: for commands that never connect (status, anonymize, retrieve), run from an
  // operator's shell that has neither the service's environment nor its 0600 files.
  const uses = (service: 'box' | 'graph'): boolean => options.secrets !== false && c.projects.some((p) => [p.inbox, p.outbox].some((f) => typeof f !== 'string' && service in f));
  return {
    ...(c.dicom ? { dicom: c.dicom } : {}),
    ...(c.workers === undefined ? {} : { workers: c.workers }),
    ...(c.box && uses('box') ? { box: await resolveBox(c.box) } : {}),
    ...(c.graph && uses('graph') ? { graph: await resolveGraph(c.graph) } : {}),
    store: resolve(c.store),
    crosswalkKey: c.crosswalkKey === undefined ? { file: `${resolve(c.store)}.key` } : 'file' in c.crosswalkKey ? { file: resolve(c.crosswalkKey.file) } : c.crosswalkKey,
    ...(c.console ? { console: resolveConsole(c.console) } : {}),
    projects: c.projects.map(({ inbox, outbox, ...p }) => ({
      ...p, ...localFolders({ ...p, inbox, outbox }), quarantine: resolve(p.quarantine), failed: resolve(p.failed),
      ...(typeof inbox === 'string' ? {} : { remoteInbox: inbox }),
      ...(typeof outbox === 'string' ? {} : { remoteOutbox: outbox }),
      ...(p.retrieve ? { retrieve: { ...p.retrieve, requests: resolve(p.retrieve.requests) } } : {}),
    })),
  };
}

async function resolveBox(b: NonNullable<ValidConfig['box']>): Promise<ResolvedBoxConfig> {
  return {
    ...(b.clientId ? { clientId: b.clientId } : {}),
    ...(b.clientSecret ? { clientSecret: await readSecret(b.clientSecret, 'box.clientSecret') } : {}),
    ...(b.enterpriseId ? { enterpriseId: b.enterpriseId } : {}),
    ...(b.userId ? { userId: b.userId } : {}),
    ...(b.jwtConfig ? { jwtConfig: await readSecret(b.jwtConfig, 'box.jwtConfig') } : {}),
    ...(b.baseUrls ? { baseUrls: b.baseUrls } : {}),
  };
}

async function resolveGraph(g: NonNullable<ValidConfig['graph']>): Promise<ResolvedGraphConfig> {
  return {
    tenantId: g.tenantId, clientId: g.clientId,
    ...(g.clientSecret ? { clientSecret: await readSecret(g.clientSecret, 'graph.clientSecret') } : {}),
    ...(g.certificate ? { certificate: await readSecret(g.certificate, 'graph.certificate') } : {}),
    ...(g.authorityHost ? { authorityHost: g.authorityHost } : {}),
    ...(g.baseUrl ? { baseUrl: g.baseUrl } : {}),
  };
}
