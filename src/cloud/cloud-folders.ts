import type { Agent } from 'node:http';
import type { Logger } from 'pino';
import type { ResolvedConfig, ResolvedProjectConfig } from '../config/schema.js';
import { createBoxInbox } from './box/box-inbox.js';
import { createBoxOutbox } from './box/box-outbox.js';
import { type BoxSession, createBoxSession } from './box/box-session.js';
import { createGraphInbox } from './graph/graph-inbox.js';
import { createGraphOutbox } from './graph/graph-outbox.js';
import { type GraphSession, createGraphSession } from './graph/graph-session.js';
import type { RemoteInbox, RemoteOutbox } from './remote-folder.js';
import { createFolderOutbox } from '../sinks/folder-outbox.js';
import { createFolderInbox } from '../sources/folder-inbox.js';

export interface CloudFolders {
  readonly inbox?: RemoteInbox;
  readonly outbox?: RemoteOutbox;
}

/** What the agent connects with; tests give a plain HTTP agent (Box's default honours HTTP(S)_PROXY). */
export interface CloudConnectOptions {
  readonly httpAgent?: Agent;
  /** Where a share inbox reports folders it cannot read (codes only). */
  readonly log?: Pick<Logger, 'warn'>;
}

/** A share folder that cannot be read is reported once per code every 10 minutes, not every listing. */
function unreadableReporter(log: Pick<Logger, 'warn'> | undefined, source: string): (code: string) => void {
  const last = new Map<string, number>();
  return (code) => {
    if (Date.now() - (last.get(code) ?? -Infinity) < 600_000) return;
    last.set(code, Date.now());
    log?.warn({ source, code }, code === 'hard link' ? 'a hard-linked file in the share inbox is not taken' : 'a folder in the share inbox cannot be read; its files wait');
  };
}

/**
 * The cloud folders of a project, made from the config. One session per account, shared by every
 * project that uses it (one token, one single-flight refresh).
 */
export class CloudConnections {
  private box: BoxSession | undefined;
  private graph: GraphSession | undefined;

  constructor(private readonly config: ResolvedConfig, private readonly options: CloudConnectOptions = {}) {}

  foldersOf(p: ResolvedProjectConfig): CloudFolders {
    const inbox = p.remoteInbox;
    const outbox = p.remoteOutbox;
    return {
      ...(inbox ? { inbox: 'folder' in inbox
        ? createFolderInbox(inbox.folder.path, { ack: inbox.folder.ack, stabilityMs: inbox.folder.stabilityMs, onUnreadable: unreadableReporter(this.options.log, `folder ${inbox.folder.path}`) })
        : 'box' in inbox
        ? createBoxInbox(this.boxSession(), { folderId: inbox.box.folderId, ack: inbox.box.ack })
        : createGraphInbox(this.graphSession(), { driveId: inbox.graph.driveId, ack: inbox.graph.ack, ...place(inbox.graph) }) } : {}),
      ...(outbox ? { outbox: 'folder' in outbox
        ? createFolderOutbox(outbox.folder.path, { onConflict: outbox.folder.onConflict })
        : 'box' in outbox
        ? createBoxOutbox(this.boxSession(), { folderId: outbox.box.folderId, onConflict: outbox.box.onConflict })
        : createGraphOutbox(this.graphSession(), { driveId: outbox.graph.driveId, onConflict: outbox.graph.onConflict, ...place(outbox.graph) }) } : {}),
    };
  }

  private boxSession(): BoxSession {
    const b = this.config.box;
    if (!b) throw new Error('[config] a Box folder needs the "box" app'); // schema checks this first
    this.box ??= createBoxSession({
      clientId: b.clientId ?? '', ...(b.clientSecret ? { clientSecret: b.clientSecret } : {}), ...(b.enterpriseId ? { enterpriseId: b.enterpriseId } : {}),
      ...(b.userId ? { userId: b.userId } : {}), ...(b.jwtConfig ? { jwtConfig: b.jwtConfig } : {}), ...(b.baseUrls ? { baseUrls: { ...b.baseUrls } } : {}),
      ...(this.options.httpAgent ? { httpAgent: this.options.httpAgent } : {}),
    });
    return this.box;
  }

  private graphSession(): GraphSession {
    const g = this.config.graph;
    if (!g) throw new Error('[config] a SharePoint/OneDrive folder needs the "graph" app');
    this.graph ??= createGraphSession({
      tenantId: g.tenantId, clientId: g.clientId, ...(g.clientSecret ? { clientSecret: g.clientSecret } : {}),
      ...(g.certificate ? { certificatePem: g.certificate } : {}),
      ...(g.authorityHost ? { authorityHost: g.authorityHost } : {}), ...(g.baseUrl ? { baseUrl: g.baseUrl } : {}),
    });
    return this.graph;
  }
}

const place = (g: { readonly path?: string | undefined; readonly itemId?: string | undefined }): { path?: string; itemId?: string } =>
  (g.path !== undefined ? { path: g.path } : g.itemId !== undefined ? { itemId: g.itemId } : {});
