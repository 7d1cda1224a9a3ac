/** See large-ct.mjs: writes a large sparse CT; returns its pixel data's length in bytes. */
export function writeLargeCt(path: string, pixelMiB: number, sopInstanceUid: string): number;
