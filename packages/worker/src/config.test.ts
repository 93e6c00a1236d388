import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@stickerbot/runtime';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      bridgeUrl: 'http://127.0.0.1:7420',
      token: undefined,
      dataDir: path.resolve('./data'),
      tokenFile: path.resolve('./data/token'),
      databaseFile: path.resolve('./data/worker.sqlite'),
      group: 'bot',
      prefix: '!',
      owners: [],
      pack: 'stickerbot',
      author: undefined,
      maxMediaBytes: 16 * 1024 * 1024,
      backlogMaxAgeMs: 600_000,
      concurrency: 8,
      logLevel: 'info',
      shutdownGraceMs: 5000,
      progressDelayMs: 600,
      ffmpegPath: undefined,
      searchPath: undefined,
      jobTimeoutMs: 60_000,
      jobMemoryBytes: 1024 * 1024 * 1024,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses owners, numbers and treats empty strings as unset', () => {
    const config = loadConfig({
      STICKERBOT_OWNERS: '+4915123456789, 441234567890',
      STICKERBOT_MAX_MEDIA_MB: '2',
      STICKERBOT_BACKLOG_MAX_AGE_S: '0',
      STICKERBOT_TOKEN: '',
      STICKERBOT_PREFIX: '/',
      STICKERBOT_PROGRESS_DELAY_MS: '0',
      STICKERBOT_WORKER_CONCURRENCY: '2',
      FFMPEG_PATH: ' /opt/ffmpeg/bin/ffmpeg ',
      PATH: '/usr/bin:/bin',
      STICKERBOT_JOB_TIMEOUT_S: '2.5',
      STICKERBOT_JOB_MEMORY_MB: '0',
    });
    expect(config.jobTimeoutMs).toBe(2500);
    expect(config.jobMemoryBytes).toBe(0);
    expect(config.ffmpegPath).toBe('/opt/ffmpeg/bin/ffmpeg');
    expect(config.searchPath).toBe('/usr/bin:/bin');
    expect(config.owners).toEqual(['4915123456789', '441234567890']);
    expect(config.maxMediaBytes).toBe(2 * 1024 * 1024);
    expect(config.backlogMaxAgeMs).toBe(0);
    expect(config.token).toBeUndefined();
    expect(config.prefix).toBe('/');
    expect(config.progressDelayMs).toBe(0);
    expect(config.concurrency).toBe(2);
  });

  it('names every bad variable at once', () => {
    const attempt = () =>
      loadConfig({
        STICKERBOT_BRIDGE_URL: 'not a url',
        STICKERBOT_MAX_MEDIA_MB: 'lots',
        STICKERBOT_OWNERS: 'alice',
        STICKERBOT_GROUP: 'Bad Group',
        LOG_LEVEL: 'loud',
        STICKERBOT_WORKER_CONCURRENCY: '0',
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const text = (error as ConfigError).message;
      for (const name of ['STICKERBOT_BRIDGE_URL', 'STICKERBOT_MAX_MEDIA_MB', 'STICKERBOT_OWNERS', 'STICKERBOT_GROUP', 'LOG_LEVEL', 'STICKERBOT_WORKER_CONCURRENCY']) {
        expect(text).toContain(name);
      }
    }
  });
});
