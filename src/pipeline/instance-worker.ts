// The entry of an instance worker thread: reads, checks, de-identifies and writes instances for
// the main thread, which keeps the store (pseudonyms) and asks nothing else of it.
import { parentPort } from 'node:worker_threads';
import type { PatientIdentity } from '../deid/patient-identity.js';
import { type FromWorker, type ToWorker, fromThreadError, toThreadError } from './instance-messages.js';
import { type ProjectContext, processInstance } from './process-instance.js';
import { processingContext } from './project-context.js';

if (!parentPort) throw new Error('instance-worker runs as a worker thread');
const port = parentPort;
const post = (m: FromWorker): void => port.postMessage(m);

const contexts = new Map<string, ProjectContext>();
const waiting = new Map<number, { resolve: (pseudonym: string | undefined) => void; reject: (e: Error) => void }>();
let nextCall = 1;

function ask(m: (id: number) => FromWorker): Promise<string | undefined> {
  const id = nextCall++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    post(m(id));
  });
}

async function run(id: number, project: string, path: string): Promise<void> {
  try {
    const ctx = contexts.get(project);
    if (!ctx) throw Object.assign(new Error('unknown project'), { name: 'UnknownProject' });
    post({ type: 'outcome', id, outcome: await processInstance(path, ctx) });
  } catch (e) {
    post({ type: 'error', id, error: toThreadError(e) });
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'project': {
      const name = m.spec.project.name;
      // Structured cloning turns a Buffer into a plain Uint8Array.
      const secret = m.spec.secrets.uidSecret as Uint8Array;
      const spec = { ...m.spec, secrets: { ...m.spec.secrets, uidSecret: Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) } };
      contexts.set(name, processingContext(spec, {
        pseudonymFor: async (identity: PatientIdentity, input: string) => (await ask((id) => ({ type: 'pseudonymFor', id, project: name, identity, input }))) as string,
      }));
      break;
    }
    case 'process':
      void run(m.id, m.project, m.path);
      break;
    case 'answer': {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error) w?.reject(fromThreadError(m.error, 'store call failed'));
      else w?.resolve(m.pseudonym);
      break;
    }
  }
});
