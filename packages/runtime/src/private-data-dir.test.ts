import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ensurePrivateDataDir } from './private-data-dir.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe.skipIf(process.platform === 'win32')('ensurePrivateDataDir', () => {
  it('creates a missing folder 0700, with its missing parents', () => {
    const root = mkdtempSync(join(tmpdir(), 'stickerbot-private-'));
    dirs.push(root);
    ensurePrivateDataDir(join(root, 'a', 'data'));
    expect([mode(join(root, 'a')), mode(join(root, 'a', 'data'))]).toEqual(['700', '700']);
  });

  it('tightens folders and files at any depth with one warning each, and leaves what a symlink points at alone', () => {
    const root = mkdtempSync(join(tmpdir(), 'stickerbot-private-'));
    dirs.push(root);
    const data = join(root, 'data');
    mkdirSync(join(data, 'logs'), { recursive: true });
    writeFileSync(join(data, 'logs', 'daemon.out.log'), '');
    writeFileSync(join(data, 'token'), 'x');
    writeFileSync(join(root, 'outside'), 'x');
    symlinkSync(join(root, 'outside'), join(data, 'link'));
    for (const path of [data, join(data, 'logs')]) chmodSync(path, 0o755);
    for (const path of [join(data, 'logs', 'daemon.out.log'), join(data, 'token'), join(root, 'outside')]) chmodSync(path, 0o644);
    chmodSync(join(data, 'token'), 0o600);

    const warnings: Array<{ path: string; mode: string }> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push(JSON.parse(chunk.toString('utf8')) as { path: string; mode: string });
        done();
      },
    });
    ensurePrivateDataDir(data, pino({ level: 'warn' }, stream));

    expect(warnings.map(({ path, mode: old }) => [path, old]).sort()).toEqual(
      [
        [data, '755'],
        [join(data, 'logs'), '755'],
        [join(data, 'logs', 'daemon.out.log'), '644'],
      ].sort(),
    );
    expect([mode(data), mode(join(data, 'logs')), mode(join(data, 'logs', 'daemon.out.log')), mode(join(data, 'token'))]).toEqual(['700', '700', '600', '600']);
    expect(mode(join(root, 'outside'))).toBe('644');
  });
});
