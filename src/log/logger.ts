import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * JSON lines by default, readable when stdout is a terminal. What is logged: tags, actions,
 * outcomes, reasons, pseudonyms and short hashes — never values or names from the input.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  const options = { level, base: { app: 'deid-agent' } };
  return process.stdout.isTTY ? pino(options, pretty({ colorize: true, translateTime: 'SYS:standard', ignore: 'pid,hostname,app' })) : pino(options);
}

/** A short, stable stand-in for an input path (which may contain a patient's name). */
export const pathHash = (path: string): string => createHash('sha256').update(path).digest('hex').slice(0, 12);
