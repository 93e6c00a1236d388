/**
 * `pnpm token`: mints a dashboard JWT with `STICKERBOT_JWT_SECRET` (read from the
 * environment or a `.env` file) and prints it on stdout; what it grants goes to stderr.
 */
import { StickerbotError } from '@stickerbot/protocol';
import { signDashboardToken } from './jwt.js';
import { TOKEN_USAGE, parseTokenArgs } from './token-request.js';

try {
  process.loadEnvFile();
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

try {
  const request = parseTokenArgs(process.argv.slice(2).filter((arg) => arg !== '--'));
  const secret = process.env.STICKERBOT_JWT_SECRET?.trim() ?? '';
  if (secret === '') throw new StickerbotError('INVALID_ARGS', 'STICKERBOT_JWT_SECRET is not set (the daemon must use the same secret)');
  const now = Date.now();
  const token = await signDashboardToken(secret, { ...request, now });
  const sessions = request.sessions === '*' ? 'all sessions' : request.sessions.join(', ');
  process.stderr.write(
    `dashboard token for ${request.subject} (${request.role}) on ${sessions}, valid until ${new Date(now + request.ttlSeconds * 1000).toISOString()}\n`,
  );
  process.stdout.write(`${token}\n`);
} catch (err) {
  if (!(err instanceof StickerbotError)) throw err;
  process.stderr.write(`pnpm token: ${err.message}\n${TOKEN_USAGE}\n`);
  process.exit(2);
}
