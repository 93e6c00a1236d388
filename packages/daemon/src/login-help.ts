/**
 * Where an operator links a session when the terminal is not where they look: the
 * dashboard's address and where its admin token is. Logged with every QR and printed
 * under the text QR, so a new operator reading `pm2 logs` on a headless host is not stuck.
 */
import { resolve } from 'node:path';
import { DASHBOARD_PATH } from './dashboard/page-routes.js';
import { TOKEN_FILE } from './token.js';

/** Where an operator can link a session besides the terminal QR. */
export interface LoginHelp {
  /** The dashboard page, e.g. `http://127.0.0.1:7420/dashboard/`. */
  readonly dashboard: string;
  /** Where the admin token is: the token file's absolute path, or `STICKERBOT_TOKEN`. */
  readonly tokenLocation: string;
}

/** What {@link loginHelp} is computed from: the bound address and the token's origin. */
export interface LoginHelpInput {
  /** The bind address (`STICKERBOT_HOST`). */
  readonly host: string;
  /** The bound port (the real one when `STICKERBOT_PORT=0`). */
  readonly port: number;
  /** Whether the token came from `STICKERBOT_TOKEN` rather than the data folder's file. */
  readonly tokenConfigured: boolean;
  readonly dataDir: string;
}

/**
 * The bind address as a URL host on this machine: a wildcard bind is reached through
 * loopback (which the Host check accepts too), IPv6 goes in brackets.
 */
export function reachableHost(host: string): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return reachable.includes(':') ? `[${reachable}]` : reachable;
}

/** The dashboard URL and token location for a daemon bound to `input.host:input.port`. */
export function loginHelp(input: LoginHelpInput): LoginHelp {
  return {
    dashboard: `http://${reachableHost(input.host)}:${input.port}${DASHBOARD_PATH}`,
    tokenLocation: input.tokenConfigured ? 'STICKERBOT_TOKEN' : resolve(input.dataDir, TOKEN_FILE),
  };
}
