import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * JSON lines by default, readable when stdout is a terminal. What is logged: tags, actions,
 * outcomes, reasons, pseudonyms and keyed identifiers (log-key.ts) — never values or names from the input.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  const options = { level, base: { app: 'deid-agent' } };
  return process.stdout.isTTY ? pino(options, pretty({ colorize: true, translateTime: 'SYS:standard', ignore: 'pid,hostname,app' })) : pino(options);
}
