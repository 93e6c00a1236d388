/**
 * The daemon's configuration: the environment parsed once at start-up (DESIGN §7), every
 * problem reported at once naming the variable, then frozen and passed down. Only
 * `main.ts` reads `process.env`; everything else receives a {@link DaemonConfig}.
 */
import { DEFAULT_MAX_MEDIA_BYTES, SESSION_ID_PATTERN } from '@stickerbot/protocol';
import { ConfigError, LOG_LEVELS, type LogLevel } from '@stickerbot/runtime';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';
import { QR_TERMINAL_MODES, type QrTerminalMode } from './qr-output.js';
import { DAEMON_ID } from './cluster/redis-keys.js';

/** Journal retention, from the `STICKERBOT_JOURNAL_*` variables. */
export interface JournalRetentionConfig {
  /** Acknowledged entries older than this go (ms; `STICKERBOT_JOURNAL_MAX_AGE_H`, default 168 h = 7 days). */
  readonly maxAgeMs: number;
  /** Acknowledged entries beyond the newest this many go (`STICKERBOT_JOURNAL_MAX_COUNT`, default 100,000). */
  readonly maxCount: number;
  /**
   * Unacknowledged entries above this count make the journal "full": `/readyz` fails and
   * the daemon logs loudly, but nothing is dropped (`STICKERBOT_JOURNAL_MAX_UNACKED`, default 1,000,000).
   */
  readonly maxUnacknowledged: number;
  /** How often retention runs (ms; `STICKERBOT_JOURNAL_PRUNE_INTERVAL_S`, default 60 s). */
  readonly intervalMs: number;
}

/** Cluster mode (issue 17), from `STICKERBOT_REDIS_URL` and its companions. */
export interface ClusterConfig {
  /** The Redis every daemon of the cluster shares, `redis://` or `rediss://` (`STICKERBOT_REDIS_URL`). */
  readonly redisUrl: string;
  /**
   * This daemon's id in the cluster, the owner named in its session leases
   * (`STICKERBOT_DAEMON_ID`, default `<hostname>-<pid>`). Unique per running daemon; best
   * stable per host and port, so that logs and leases name the same daemon across restarts.
   */
  readonly daemonId: string;
  /** How long a session lease lives without a renew (ms; `STICKERBOT_LEASE_MS`, default 30,000): a dead daemon's sessions move after about this long. */
  readonly leaseMs: number;
}

/** The validated, frozen configuration of one daemon. */
export interface DaemonConfig {
  /** State folder: SQLite files, the generated token (`STICKERBOT_DATA_DIR`, default `./data`). */
  readonly dataDir: string;
  /** Bind address of the bridge, dashboard and health endpoints (`STICKERBOT_HOST`, default `127.0.0.1`). */
  readonly host: string;
  /** HTTP/Socket.IO port; 0 picks a free one (`STICKERBOT_PORT`, default 7420). */
  readonly port: number;
  /** The bridge and admin token (`STICKERBOT_TOKEN`); when absent one is generated into the data folder. */
  readonly token: string | undefined;
  /** HS256 secret for dashboard JWTs (`STICKERBOT_JWT_SECRET`); absent: JWT login is off. */
  readonly jwtSecret: string | undefined;
  /** Sessions started on boot (`STICKERBOT_SESSIONS`, comma-separated, default `default`). */
  readonly sessions: readonly string[];
  /**
   * How the sessions' connects are spread on boot: at most `concurrency` connecting at once
   * (`STICKERBOT_START_CONCURRENCY`, default 5), each start after the first wave delayed by a
   * random `0..jitterMs` (`STICKERBOT_START_JITTER_MS`, default 1000).
   */
  readonly start: { readonly concurrency: number; readonly jitterMs: number };
  /** WhatsApp Web socket URL (`STICKERBOT_WA_URL`); absent: Baileys' default. */
  readonly waUrl: string | undefined;
  /** The WhatsApp Web version announced, `2.3000.1023223821` (`STICKERBOT_WA_VERSION`); absent: Baileys' default. */
  readonly waVersion: readonly [number, number, number] | undefined;
  /** Largest media the daemon downloads or accepts, in bytes (`STICKERBOT_MAX_MEDIA_MB`, default 16 MiB). */
  readonly maxMediaBytes: number;
  /**
   * SQLite durability of each commit (`STICKERBOT_DB_SYNC`, default `NORMAL`): `NORMAL`
   * survives any process crash; `FULL` also power loss, at one fsync per journaled event.
   */
  readonly dbSynchronous: 'NORMAL' | 'FULL';
  /** Command results are remembered (idempotency) this long (ms; `STICKERBOT_COMMAND_LOG_MAX_AGE_H`, default 24 h). */
  readonly commandLogMaxAgeMs: number;
  readonly journal: JournalRetentionConfig;
  /**
   * The login QR as text on stderr (`STICKERBOT_QR_TERMINAL`, default `auto`): `auto` prints
   * on a terminal and whenever stderr is a file of its own (pm2's `daemon.err.log`), not when
   * it shares stdout's JSON log stream; `always`; `never` (dashboard and `pnpm link:session` only).
   */
  readonly qrTerminal: QrTerminalMode;
  /**
   * Host names the HTTP routes and the Socket.IO handshake accept in the `Host` header besides
   * `localhost`, the loopback addresses and the bind address (any IP address when bound to
   * 0.0.0.0 or ::), e.g. a reverse proxy's public name (`STICKERBOT_ALLOWED_HOSTS`,
   * comma-separated, lower-cased, default none). Anything else is refused (DNS rebinding).
   */
  readonly allowedHosts: readonly string[];
  /** Serve `/metrics` without the admin token (`STICKERBOT_METRICS_PUBLIC`, default false). */
  readonly metricsPublic: boolean;
  /** pino level (`LOG_LEVEL`, default `info`). */
  readonly logLevel: LogLevel;
  /** Cluster mode when `STICKERBOT_REDIS_URL` is set; `undefined`: one host, SQLite only. */
  readonly cluster: ClusterConfig | undefined;
}

const HOUR_MS = 3_600_000;

/** An unset or blank variable counts as absent, so `FOO=` in a `.env` file means "use the default". */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

function integer(min: number, max: number) {
  return optionalString.pipe(
    z.coerce.number<string>().int(`must be a whole number`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`).optional(),
  );
}

function positiveNumber(max: number) {
  return optionalString.pipe(z.coerce.number<string>().positive('must be greater than 0').max(max, `must be at most ${max}`).optional());
}

// A DNS name (labels of letters, digits, `-` and `_`) or an IP address, without scheme or port.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function isHostName(host: string): boolean {
  return HOST_NAME.test(host) || isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/** The default daemon id: the host name (reduced to the id's characters) and the process id. */
function defaultDaemonId(): string {
  // Room for `-` and the pid within the id's 100 characters.
  const host = hostname().replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 90) || 'daemon';
  return `${host}-${process.pid}`;
}

const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false };

const envSchema = z.object({
  STICKERBOT_DATA_DIR: optionalString,
  STICKERBOT_HOST: optionalString.pipe(
    z
      .string()
      .refine((host) => host === 'localhost' || isIP(host) !== 0, 'must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1) or localhost')
      .optional(),
  ),
  STICKERBOT_PORT: integer(0, 65_535),
  STICKERBOT_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').max(4096).optional()),
  STICKERBOT_JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  STICKERBOT_SESSIONS: z
    .string()
    .optional()
    .transform((value) =>
      value === undefined
        ? undefined
        : value
            .split(',')
            .map((id) => id.trim())
            .filter((id) => id !== ''),
    )
    .pipe(z.array(z.string().regex(SESSION_ID_PATTERN, 'each id must match [a-z0-9_-]{1,64}')).optional()),
  STICKERBOT_START_CONCURRENCY: integer(1, 1000),
  STICKERBOT_START_JITTER_MS: integer(0, 600_000),
  STICKERBOT_WA_URL: optionalString.pipe(
    z
      .url({ protocol: /^wss?$/, message: 'must be a ws:// or wss:// URL' })
      .optional(),
  ),
  STICKERBOT_WA_VERSION: optionalString.pipe(
    z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'must look like 2.3000.1023223821')
      .transform((version) => version.split('.').map(Number) as [number, number, number])
      .optional(),
  ),
  STICKERBOT_MAX_MEDIA_MB: positiveNumber(2048),
  STICKERBOT_DB_SYNC: optionalString.pipe(z.enum(['NORMAL', 'FULL'], { message: 'must be NORMAL or FULL' }).optional()),
  STICKERBOT_COMMAND_LOG_MAX_AGE_H: positiveNumber(24 * 365),
  STICKERBOT_JOURNAL_MAX_AGE_H: positiveNumber(24 * 365),
  STICKERBOT_JOURNAL_MAX_COUNT: integer(0, Number.MAX_SAFE_INTEGER),
  STICKERBOT_JOURNAL_MAX_UNACKED: integer(1, Number.MAX_SAFE_INTEGER),
  STICKERBOT_JOURNAL_PRUNE_INTERVAL_S: integer(1, 86_400),
  STICKERBOT_QR_TERMINAL: optionalString.pipe(z.enum(QR_TERMINAL_MODES, { message: `must be one of ${QR_TERMINAL_MODES.join(', ')}` }).optional()),
  STICKERBOT_ALLOWED_HOSTS: optionalString
    .transform((value) =>
      value === undefined
        ? undefined
        : value
            .split(',')
            .map((host) => host.trim().toLowerCase().replace(/\.$/, ''))
            .filter((host) => host !== ''),
    )
    .pipe(z.array(z.string().refine(isHostName, 'each entry must be a host name or IP address, without scheme or port (e.g. bot.example.com)')).optional()),
  STICKERBOT_METRICS_PUBLIC: optionalString.pipe(
    z
      .string()
      .transform((value) => BOOLEANS[value.toLowerCase()])
      .pipe(z.boolean({ message: 'must be true or false' }))
      .optional(),
  ),
  LOG_LEVEL: optionalString.pipe(z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).optional()),
  STICKERBOT_REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional()),
  STICKERBOT_DAEMON_ID: optionalString.pipe(z.string().regex(DAEMON_ID, 'must be 1 to 100 characters of letters, digits and . _ : -').optional()),
  STICKERBOT_LEASE_MS: integer(1_000, 600_000),
});

/** Whether a bind address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * Parses the environment into a frozen {@link DaemonConfig}. Throws a {@link ConfigError}
 * listing every bad variable at once; refuses a non-loopback `STICKERBOT_HOST` without an
 * explicit `STICKERBOT_TOKEN` (a generated token in a file is fine on one host, not across a network).
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): DaemonConfig {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'environment');
        // Secrets are never echoed (a Redis URL may carry a password).
        const secret = variable === 'STICKERBOT_TOKEN' || variable === 'STICKERBOT_JWT_SECRET' || variable === 'STICKERBOT_REDIS_URL';
        const value = secret ? '' : ` (got ${JSON.stringify(env[variable])})`;
        return `${variable}: ${issue.message}${value}`;
      });
  // Judged on the raw values, so that it is reported together with every other problem.
  const givenHost = env.STICKERBOT_HOST?.trim() ?? '';
  const rawHost = givenHost === '' ? '127.0.0.1' : givenHost;
  const rawToken = env.STICKERBOT_TOKEN?.trim() ?? '';
  if (isIP(rawHost) !== 0 && !isLoopbackHost(rawHost) && rawToken === '') {
    problems.push(`STICKERBOT_HOST: binding to ${rawHost} exposes the bridge beyond this machine; set STICKERBOT_TOKEN explicitly to do that`);
  }
  // A cluster setting without the Redis URL is a daemon that was meant to join a cluster and would run alone.
  if ((env.STICKERBOT_REDIS_URL?.trim() ?? '') === '') {
    for (const name of ['STICKERBOT_DAEMON_ID', 'STICKERBOT_LEASE_MS']) {
      if ((env[name]?.trim() ?? '') !== '') problems.push(`${name}: only used in cluster mode; set STICKERBOT_REDIS_URL too, or leave it unset`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const vars = parsed.data;
  const host = vars.STICKERBOT_HOST ?? '127.0.0.1';
  const config: DaemonConfig = {
    dataDir: vars.STICKERBOT_DATA_DIR ?? './data',
    host,
    port: vars.STICKERBOT_PORT ?? 7420,
    token: vars.STICKERBOT_TOKEN,
    jwtSecret: vars.STICKERBOT_JWT_SECRET,
    sessions: Object.freeze([...new Set(vars.STICKERBOT_SESSIONS ?? ['default'])]),
    start: Object.freeze({ concurrency: vars.STICKERBOT_START_CONCURRENCY ?? 5, jitterMs: vars.STICKERBOT_START_JITTER_MS ?? 1000 }),
    waUrl: vars.STICKERBOT_WA_URL,
    waVersion: vars.STICKERBOT_WA_VERSION === undefined ? undefined : Object.freeze(vars.STICKERBOT_WA_VERSION),
    maxMediaBytes:
      vars.STICKERBOT_MAX_MEDIA_MB === undefined ? DEFAULT_MAX_MEDIA_BYTES : Math.floor(vars.STICKERBOT_MAX_MEDIA_MB * 1024 * 1024),
    dbSynchronous: vars.STICKERBOT_DB_SYNC ?? 'NORMAL',
    commandLogMaxAgeMs: (vars.STICKERBOT_COMMAND_LOG_MAX_AGE_H ?? 24) * HOUR_MS,
    journal: Object.freeze({
      maxAgeMs: (vars.STICKERBOT_JOURNAL_MAX_AGE_H ?? 168) * HOUR_MS,
      maxCount: vars.STICKERBOT_JOURNAL_MAX_COUNT ?? 100_000,
      maxUnacknowledged: vars.STICKERBOT_JOURNAL_MAX_UNACKED ?? 1_000_000,
      intervalMs: (vars.STICKERBOT_JOURNAL_PRUNE_INTERVAL_S ?? 60) * 1000,
    }),
    qrTerminal: vars.STICKERBOT_QR_TERMINAL ?? 'auto',
    allowedHosts: Object.freeze([...new Set((vars.STICKERBOT_ALLOWED_HOSTS ?? []).map((host) => host.replace(/^\[(.*)\]$/, '$1')))]),
    metricsPublic: vars.STICKERBOT_METRICS_PUBLIC ?? false,
    logLevel: vars.LOG_LEVEL ?? 'info',
    cluster:
      vars.STICKERBOT_REDIS_URL === undefined
        ? undefined
        : Object.freeze({ redisUrl: vars.STICKERBOT_REDIS_URL, daemonId: vars.STICKERBOT_DAEMON_ID ?? defaultDaemonId(), leaseMs: vars.STICKERBOT_LEASE_MS ?? 30_000 }),
  };
  return Object.freeze(config);
}
