import { hashPassword } from '../console/password-hash.js';
import { UsageError } from '../config/usage-error.js';
import { firstLineOf } from './first-line.js';

/**
 * Reads one password: from a terminal without echo (raw mode, a prompt on stderr), else the first
 * line of stdin (a pipe, a here-string). The password is never printed, logged or kept.
 */
export async function readPassword(input: NodeJS.ReadStream = process.stdin, prompt: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (input.isTTY) {
    prompt.write('Password (not shown): ');
    input.setRawMode(true);
    input.resume();
    try {
      return await new Promise<string>((resolve, reject) => {
        let typed = '';
        const onData = (chunk: Buffer): void => {
          for (const ch of chunk.toString('utf8')) {
            if (ch === '\r' || ch === '\n') return done(() => resolve(typed));
            if (ch === '\u0003' || ch === '\u0004') return done(() => reject(new UsageError('cancelled')));
            if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
            else typed += ch;
          }
        };
        const done = (finish: () => void): void => {
          input.off('data', onData);
          prompt.write('\n');
          finish();
        };
        input.on('data', onData);
      });
    } finally {
      input.setRawMode(false);
      input.pause();
    }
  }
  return firstLineOf(input as AsyncIterable<Buffer>);
}

/** The hash line and a config entry to paste into `console.users`. */
export async function hashPasswordCommand(name: string, role: string): Promise<string> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new UsageError('--name: letters, digits, . _ and - only, at most 64 characters');
  if (role !== 'reviewer' && role !== 'broker') throw new UsageError("--role: 'reviewer' or 'broker'");
  const password = await readPassword();
  if (password.length < 12) throw new UsageError('a console password needs at least 12 characters');
  const passwordHash = await hashPassword(password);
  return `${passwordHash}\n${JSON.stringify({ name, role, passwordHash })}\n`;
}
