import { DEFAULT_MAX_MEDIA_BYTES } from '@stickerbot/protocol';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@stickerbot/runtime';
import { isLoopbackHost, loadConfig } from './config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      dataDir: './data',
      host: '127.0.0.1',
      port: 7420,
      token: undefined,
      jwtSecret: undefined,
      sessions: ['default'],
      start: { concurrency: 5, jitterMs: 1000 },
      waUrl: undefined,
      waVersion: undefined,
      maxMediaBytes: DEFAULT_MAX_MEDIA_BYTES,
      qrTerminal: 'auto',
      logLevel: 'info',
    });
    expect(config.journal.maxAgeMs).toBe(7 * 24 * 3_600_000);
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      STICKERBOT_DATA_DIR: '/var/lib/stickerbot',
      STICKERBOT_HOST: '0.0.0.0',
      STICKERBOT_PORT: '0',
      STICKERBOT_TOKEN: 'a-long-enough-token',
      STICKERBOT_JWT_SECRET: 'x'.repeat(32),
      STICKERBOT_SESSIONS: ' main, second ,main,',
      STICKERBOT_START_CONCURRENCY: '2',
      STICKERBOT_START_JITTER_MS: '0',
      STICKERBOT_WA_URL: 'ws://127.0.0.1:9000/ws/chat',
      STICKERBOT_WA_VERSION: '2.3000.1023223821',
      STICKERBOT_MAX_MEDIA_MB: '0.5',
      STICKERBOT_JOURNAL_MAX_COUNT: '0',
      STICKERBOT_JOURNAL_PRUNE_INTERVAL_S: '5',
      LOG_LEVEL: 'debug',
      STICKERBOT_DB_SYNC: 'FULL',
      STICKERBOT_QR_TERMINAL: 'never',
      STICKERBOT_ALLOWED_HOSTS: ' Bot.Example.com., [2001:db8::1], bot.example.com',
      STICKERBOT_METRICS_PUBLIC: 'yes',
    });
    expect(config).toMatchObject({
      dataDir: '/var/lib/stickerbot',
      host: '0.0.0.0',
      port: 0,
      sessions: ['main', 'second'],
      start: { concurrency: 2, jitterMs: 0 },
      waUrl: 'ws://127.0.0.1:9000/ws/chat',
      waVersion: [2, 3000, 1023223821],
      maxMediaBytes: 512 * 1024,
      logLevel: 'debug',
      dbSynchronous: 'FULL',
      qrTerminal: 'never',
      allowedHosts: ['bot.example.com', '2001:db8::1'],
      metricsPublic: true,
    });
    // A deliberate 0 is a value, not "unset".
    expect(config.journal.maxCount).toBe(0);
    expect(config.journal.intervalMs).toBe(5000);
  });

  it('treats blank variables as unset, except an empty session list, which starts none', () => {
    expect(loadConfig({ STICKERBOT_PORT: '', STICKERBOT_TOKEN: '  ' })).toMatchObject({ port: 7420, token: undefined });
    expect(loadConfig({ STICKERBOT_SESSIONS: '' }).sessions).toEqual([]);
  });

  it('reports every bad variable at once, naming each', () => {
    const problems = problemsOf({
      STICKERBOT_PORT: '70000',
      STICKERBOT_SESSIONS: 'ok,Not Valid',
      STICKERBOT_WA_URL: 'http://example.com',
      STICKERBOT_MAX_MEDIA_MB: '-1',
      LOG_LEVEL: 'loud',
      STICKERBOT_TOKEN: 'short',
      STICKERBOT_QR_TERMINAL: 'sometimes',
      STICKERBOT_START_CONCURRENCY: '0',
      STICKERBOT_START_JITTER_MS: '1.5',
    });
    expect(problems).toHaveLength(9);
    for (const variable of [
      'STICKERBOT_PORT',
      'STICKERBOT_SESSIONS',
      'STICKERBOT_WA_URL',
      'STICKERBOT_MAX_MEDIA_MB',
      'LOG_LEVEL',
      'STICKERBOT_TOKEN',
      'STICKERBOT_QR_TERMINAL',
      'STICKERBOT_START_CONCURRENCY',
      'STICKERBOT_START_JITTER_MS',
    ]) {
      expect(problems.some((problem) => problem.startsWith(`${variable}:`))).toBe(true);
    }
    // Secrets are never echoed back.
    expect(problems.join('\n')).not.toContain('short');
  });

  it('takes host names or addresses without scheme or port in STICKERBOT_ALLOWED_HOSTS, and a boolean in STICKERBOT_METRICS_PUBLIC', () => {
    expect(loadConfig({})).toMatchObject({ allowedHosts: [], metricsPublic: false });
    expect(loadConfig({ STICKERBOT_METRICS_PUBLIC: 'off' }).metricsPublic).toBe(false);
    for (const bad of ['https://bot.example.com', 'bot.example.com:443', 'bot example', '*.example.com']) {
      expect(problemsOf({ STICKERBOT_ALLOWED_HOSTS: bad })[0]).toMatch(/^STICKERBOT_ALLOWED_HOSTS: .*host name/);
    }
    expect(problemsOf({ STICKERBOT_METRICS_PUBLIC: 'maybe' })[0]).toMatch(/^STICKERBOT_METRICS_PUBLIC: must be true or false/);
  });

  it('refuses a non-loopback bind without an explicit token, along with any other problem', () => {
    const problems = problemsOf({ STICKERBOT_HOST: '0.0.0.0' });
    expect(problems[0]).toMatch(/^STICKERBOT_HOST: .*STICKERBOT_TOKEN/);
    expect(problemsOf({ STICKERBOT_HOST: '192.168.1.2', STICKERBOT_PORT: 'x' })).toHaveLength(2);
    expect(loadConfig({ STICKERBOT_HOST: '0.0.0.0', STICKERBOT_TOKEN: 'a-long-enough-token' }).host).toBe('0.0.0.0');
    expect(loadConfig({ STICKERBOT_HOST: '::1' }).host).toBe('::1');
  });

  it('turns cluster mode on with STICKERBOT_REDIS_URL, with a default daemon id and a 30 s lease', () => {
    expect(loadConfig({}).cluster).toBeUndefined();
    const cluster = loadConfig({ STICKERBOT_REDIS_URL: 'redis://127.0.0.1:6379/0' }).cluster;
    expect(cluster).toMatchObject({ redisUrl: 'redis://127.0.0.1:6379/0', leaseMs: 30_000 });
    expect(cluster?.daemonId).toMatch(new RegExp(`-${process.pid}$`));
    expect(loadConfig({ STICKERBOT_REDIS_URL: 'rediss://h:6380', STICKERBOT_DAEMON_ID: 'host-a:7420', STICKERBOT_LEASE_MS: '5000' }).cluster).toEqual({
      redisUrl: 'rediss://h:6380',
      daemonId: 'host-a:7420',
      leaseMs: 5000,
    });
  });

  it('refuses bad cluster settings, and cluster settings without a Redis URL, never echoing the URL', () => {
    const problems = problemsOf({ STICKERBOT_REDIS_URL: 'http://user:hunter2@redis', STICKERBOT_DAEMON_ID: 'a b', STICKERBOT_LEASE_MS: '500' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['STICKERBOT_DAEMON_ID', 'STICKERBOT_LEASE_MS', 'STICKERBOT_REDIS_URL']);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problemsOf({ STICKERBOT_LEASE_MS: '5000' })).toEqual(['STICKERBOT_LEASE_MS: only used in cluster mode; set STICKERBOT_REDIS_URL too, or leave it unset']);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sessions)).toBe(true);
    expect(Object.isFrozen(config.journal)).toBe(true);
  });
});

describe('isLoopbackHost', () => {
  it('knows the loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '192.168.1.2', '::'].some(isLoopbackHost)).toBe(false);
  });
});
