/** A config that cannot be used; the message names the key and never a secret's value. */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`[config] ${message}`, options);
    this.name = 'ConfigError';
  }
}
