import type codecsModule from 'dcmjs-codecs';
import { cjsDefault } from '../cjs-default.js';

export type Codecs = typeof codecsModule;

let initialized: Promise<Codecs> | undefined;

/**
 * The WASM codecs (dcmjs-codecs), loaded once per thread from the package (no network), and only
 * when a frame is first decoded or encoded: a worker that never does either does not carry them.
 * A failed load is not cached: the next caller tries again.
 */
export function loadCodecs(): Promise<Codecs> {
  initialized ??= import('dcmjs-codecs').then(async (m) => {
    const codecs = cjsDefault(m as Codecs);
    await codecs.NativeCodecs.initializeAsync();
    return codecs;
  });
  initialized.catch(() => { initialized = undefined; });
  return initialized;
}
