/**
 * `pnpm export-pack <pack name> [--chat JID] [-o file.wastickers]`: one of the bot's chat
 * packs (`!pack new Cats`) as a `.wastickers` file. A composition root of its own: it
 * reads the worker's config and database, and loads sharp (the worker process never does).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@stickerbot/runtime';
import { isStickerError, writeWastickers } from '@stickerbot/sticker';
import { loadConfig } from './config.js';
import { openBotDatabase } from './db/bot-database.js';
import { PackChoiceError, packForExport } from './db/pack-export.js';

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { output: { type: 'string', short: 'o' }, chat: { type: 'string' } } });
const name = positionals.join(' ').trim();
if (name === '') fail('usage: pnpm export-pack <pack name> [--chat JID] [-o file.wastickers]', 2);
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  fail(error instanceof ConfigError ? error.message : String(error));
}
const db = openBotDatabase(path.join(config.dataDir, 'worker.sqlite'), config.group);
try {
  const found = packForExport(db, name, values.chat);
  const out = path.resolve(process.env.INIT_CWD ?? process.cwd(), values.output ?? `${found.title}.wastickers`);
  await writeFile(out, await writeWastickers({ title: found.title, author: found.author, stickers: found.stickers }));
  process.stdout.write(`${out}: "${found.title}" from ${found.pack.chat}, ${found.stickers.length} stickers\n`);
} catch (error) {
  if (error instanceof PackChoiceError) fail(error.message);
  if (isStickerError(error)) fail(`error ${error.code}: ${error.message}`);
  throw error;
} finally {
  db.close();
}
