import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkStickerRules, createStickerEngine } from '@stickerbot/sticker';
import { describe, expect, it } from 'vitest';
import { openBotDatabase } from '../src/db/bot-database.js';
import { packForExport } from '../src/db/pack-export.js';
import { engineEnvironment, tempDir } from '../src/test-kit/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

describe('pnpm export-pack', { timeout: 60_000 }, () => {
  it("exports a chat's pack by name as a .wastickers that unzips to its stickers in order, and names the chats when the name is ambiguous", async () => {
    using dir = tempDir();
    const engine = createStickerEngine({ concurrency: 1, ...engineEnvironment() });
    const stickers = await Promise.all(['one', 'two', 'three'].map((text) => engine.fromText(text).then((s) => s.data)));
    await engine.close();
    const db = openBotDatabase(path.join(dir.path, 'worker.sqlite'), 'bot');
    const chat = '4915100000001@s.whatsapp.net';
    const pack = db.packs.create(chat, 'Cats', chat);
    for (const data of stickers) db.packs.add(pack?.id ?? -1, db.catalogue.add({ data, animated: false, creator: chat, chat }));
    db.settings.setPack(chat, { pack: 'Mine', author: 'Alice' });
    db.packs.create('120363000000000001@g.us', 'cats', chat);
    expect(() => packForExport(db, 'CATS')).toThrow(/2 chats have a pack called "CATS"; pick one with --chat/);
    expect(packForExport(db, 'cats', chat)).toMatchObject({ title: 'Cats', author: 'Alice' });
    db.close();

    const out = path.join(dir.path, 'cats.wastickers');
    const done = await run(path.join(root, 'node_modules/.bin/tsx'), ['--conditions=@stickerbot/source', 'packages/worker/src/export-pack-main.ts', 'Cats', '--chat', chat, '-o', out], {
      STICKERBOT_DATA_DIR: dir.path,
    });
    expect(done.stderr).toBe('');
    expect(done.stdout).toContain('"Cats" from 4915100000001@s.whatsapp.net, 3 stickers');
    const unpacked = path.join(dir.path, 'unpacked');
    expect((await run('unzip', ['-q', out, '-d', unpacked])).code).toBe(0);
    expect((await readdir(unpacked)).sort()).toEqual(['01.webp', '02.webp', '03.webp', 'author.txt', 'title.txt', 'tray.png']);
    expect(await readFile(path.join(unpacked, 'author.txt'), 'utf8')).toBe('Alice');
    for (const [i, data] of stickers.entries()) {
      const file = await readFile(path.join(unpacked, `0${i + 1}.webp`));
      expect(file.equals(data)).toBe(true);
      expect(checkStickerRules(file)).toEqual([]);
    }
  });
});
