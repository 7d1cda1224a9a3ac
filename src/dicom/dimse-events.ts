/** dcmjs-dimse's clients and requests are event emitters; its typings do not say so. */
export interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
}

export const events = (x: unknown): Emitter => x as Emitter;
