import path from 'node:path';
import { DEFAULT_GROUP, groupNameSchema, phoneSchema } from '@stickerbot/protocol';
import { ConfigError, LOG_LEVELS, type LogLevel } from '@stickerbot/runtime';
import { z } from 'zod';

/** The worker's configuration, parsed once from the environment and frozen. */
export interface WorkerConfig {
  /** Where the daemon's bridge listens (`STICKERBOT_BRIDGE_URL`, default `http://127.0.0.1:7420`). */
  readonly bridgeUrl: string;
  /**
   * The bridge token (`STICKERBOT_TOKEN`). When unset the worker reads {@link tokenFile}
   * before every connection attempt, so a daemon that starts later (and generates it) is found.
   */
  readonly token: string | undefined;
  /** `<dataDir>/token`, the file the daemon generates when no token is configured. */
  readonly tokenFile: string;
  /** State folder (`STICKERBOT_DATA_DIR`, default `./data`); the bot database is `<dataDir>/worker.sqlite`. */
  readonly dataDir: string;
  /** The bot database file. */
  readonly databaseFile: string;
  /** The consumer group (`STICKERBOT_GROUP`, default `bot`). */
  readonly group: string;
  /** Chat command prefix (`STICKERBOT_PREFIX`, default `!`). */
  readonly prefix: string;
  /** Phone numbers (digits, country code first) allowed to run owner commands (`STICKERBOT_OWNERS`). */
  readonly owners: readonly string[];
  /** Default sticker pack name (`STICKERBOT_PACK`, default `stickerbot`). */
  readonly pack: string;
  /** Default sticker author (`STICKERBOT_AUTHOR`); unset: the bot account's name, else `stickerbot`. */
  readonly author: string | undefined;
  /** Largest media the bot downloads or accepts, in bytes (`STICKERBOT_MAX_MEDIA_MB`, default 16 MiB). */
  readonly maxMediaBytes: number;
  /** Offline-backlog messages older than this are acknowledged and ignored, in ms (`STICKERBOT_BACKLOG_MAX_AGE_S`, default 600 s). */
  readonly backlogMaxAgeMs: number;
  /** How many journal entries of different chats are handled at once (`STICKERBOT_WORKER_CONCURRENCY`, default 8, at most 64). */
  readonly concurrency: number;
  /** How long SIGINT/SIGTERM waits for the events in hand, in ms (`STICKERBOT_SHUTDOWN_GRACE_MS`, default 5000). */
  readonly shutdownGraceMs: number;
  /**
   * How long work that called `working()` runs before the ⏳ reaction is shown, in ms
   * (`STICKERBOT_PROGRESS_DELAY_MS`, default 600; 0 shows it at once).
   */
  readonly progressDelayMs: number;
  /** pino level (`LOG_LEVEL`, default `info`). */
  readonly logLevel: LogLevel;
  /** The ffmpeg binary the sticker engine runs (`FFMPEG_PATH`); unset: the engine chooses. */
  readonly ffmpegPath: string | undefined;
  /** Where the sticker engine looks for ffmpeg and prlimit (`PATH`). */
  readonly searchPath: string | undefined;
  /** Time budget of one conversion, in ms (`STICKERBOT_JOB_TIMEOUT_S`, default 60 s). */
  readonly jobTimeoutMs: number;
  /** Memory budget of one conversion's process, in bytes (`STICKERBOT_JOB_MEMORY_MB`, default 1024 MiB; 0: none). */
  readonly jobMemoryBytes: number;
}

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const envSchema = z.object({
  STICKERBOT_BRIDGE_URL: z
    .url({ protocol: /^(https?|wss?)$/, error: 'must be an http(s) URL such as http://127.0.0.1:7420' })
    .default('http://127.0.0.1:7420'),
  STICKERBOT_TOKEN: optionalText,
  STICKERBOT_DATA_DIR: z.string().trim().min(1, 'must not be empty').default('./data'),
  STICKERBOT_GROUP: groupNameSchema.min(1).default(DEFAULT_GROUP),
  STICKERBOT_PREFIX: z
    .string()
    .min(1, 'must not be empty')
    .max(8, 'at most 8 characters')
    .regex(/^\S+$/, 'must not contain spaces')
    .default('!'),
  STICKERBOT_OWNERS: z
    .string()
    .default('')
    .transform((value) => value.split(/[,\s]+/).map((phone) => phone.replace(/^\+/, '')).filter((phone) => phone !== ''))
    .pipe(z.array(phoneSchema)),
  STICKERBOT_PACK: z.string().trim().min(1).max(128).default('stickerbot'),
  STICKERBOT_AUTHOR: optionalText.pipe(z.string().max(128).optional()),
  STICKERBOT_MAX_MEDIA_MB: z.coerce.number({ error: 'must be a number' }).positive('must be positive').max(2048).default(16),
  STICKERBOT_BACKLOG_MAX_AGE_S: z.coerce.number({ error: 'must be a number' }).int().nonnegative().default(600),
  STICKERBOT_WORKER_CONCURRENCY: z.coerce.number({ error: 'must be a number' }).int().min(1).max(64).default(8),
  STICKERBOT_SHUTDOWN_GRACE_MS: z.coerce.number({ error: 'must be a number' }).int().nonnegative().max(600_000).default(5000),
  STICKERBOT_PROGRESS_DELAY_MS: z.coerce.number({ error: 'must be a number' }).int().nonnegative().max(60_000).default(600),
  STICKERBOT_JOB_TIMEOUT_S: z.coerce.number({ error: 'must be a number' }).positive('must be positive').max(3600).default(60),
  STICKERBOT_JOB_MEMORY_MB: z.coerce.number({ error: 'must be a number' }).int().nonnegative().default(1024),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  FFMPEG_PATH: optionalText,
  PATH: z.string().optional(),
});

/**
 * Parses the worker's environment once. Every problem is reported at once in a
 * `ConfigError` (from `@stickerbot/runtime`), each naming its variable; empty strings count as unset.
 */
export function loadConfig(env: Record<string, string | undefined>): WorkerConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || 'environment'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.STICKERBOT_DATA_DIR);
  return Object.freeze({
    bridgeUrl: e.STICKERBOT_BRIDGE_URL,
    token: e.STICKERBOT_TOKEN,
    tokenFile: path.join(dataDir, 'token'),
    dataDir,
    databaseFile: path.join(dataDir, 'worker.sqlite'),
    group: e.STICKERBOT_GROUP,
    prefix: e.STICKERBOT_PREFIX,
    owners: Object.freeze([...new Set(e.STICKERBOT_OWNERS)]),
    pack: e.STICKERBOT_PACK,
    author: e.STICKERBOT_AUTHOR,
    maxMediaBytes: Math.floor(e.STICKERBOT_MAX_MEDIA_MB * 1024 * 1024),
    backlogMaxAgeMs: e.STICKERBOT_BACKLOG_MAX_AGE_S * 1000,
    concurrency: e.STICKERBOT_WORKER_CONCURRENCY,
    shutdownGraceMs: e.STICKERBOT_SHUTDOWN_GRACE_MS,
    progressDelayMs: e.STICKERBOT_PROGRESS_DELAY_MS,
    logLevel: e.LOG_LEVEL,
    ffmpegPath: e.FFMPEG_PATH,
    searchPath: e.PATH,
    jobTimeoutMs: Math.round(e.STICKERBOT_JOB_TIMEOUT_S * 1000),
    jobMemoryBytes: e.STICKERBOT_JOB_MEMORY_MB * 1024 * 1024,
  });
}
