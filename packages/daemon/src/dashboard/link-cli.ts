/**
 * `pnpm link:session <session> [--phone NUMBER] [--create]`: links a session of the running
 * daemon from a shell (a headless host under pm2, say). Reads the daemon's address and the
 * admin token from the environment or `.env`, as the daemon and worker do; exit codes in
 * `LINK_EXIT` (link-request.ts). Not `pnpm link`: that name is pnpm's own command.
 */
import { readFileSync } from 'node:fs';
import { StickerbotError } from '@stickerbot/protocol';
import { LINK_EXIT, LINK_USAGE, parseLinkArgs, resolveLinkTarget } from './link-request.js';
import { linkSession } from './link-session.js';

try {
  process.loadEnvFile();
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

const say = (text: string): void => void process.stdout.write(text);
const complain = (text: string): void => void process.stderr.write(text);

let request;
let target;
try {
  request = parseLinkArgs(process.argv.slice(2).filter((arg) => arg !== '--'));
  target = resolveLinkTarget(process.env);
} catch (err) {
  if (!(err instanceof StickerbotError)) throw err;
  complain(`pnpm link:session: ${err.message}\n${LINK_USAGE}\n`);
  process.exit(LINK_EXIT.usage);
}

let token = target.token;
if (token === undefined) {
  try {
    token = readFileSync(target.tokenFile, 'utf8').trim();
  } catch (err) {
    complain(`pnpm link:session: cannot read the admin token from ${target.tokenFile} (${(err as Error).message}); set STICKERBOT_TOKEN or STICKERBOT_DATA_DIR as the daemon has them\n`);
    process.exit(LINK_EXIT.unauthorized);
  }
}

process.exit(await linkSession({ url: target.url, token, request, out: say, err: complain }));
