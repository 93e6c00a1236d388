import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { BotEvent, Message } from '@stickerbot/protocol';
import { pino, type Logger } from 'pino';
import { loadConfig } from '../config.js';

/**
 * The sticker engine options the worker's config takes from the environment (FFMPEG_PATH,
 * PATH), as main.ts passes them: CI runs the command tests once with the bundled ffmpeg.
 */
export function engineEnvironment(): { ffmpegPath: string | undefined; searchPath: string | undefined } {
  const { ffmpegPath, searchPath } = loadConfig({ FFMPEG_PATH: process.env.FFMPEG_PATH, PATH: process.env.PATH });
  return { ffmpegPath, searchPath };
}

/** A temp folder removed on dispose. */
export function tempDir(prefix = 'worker-test-'): { path: string } & Disposable {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { path: dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A pino logger whose JSON lines are kept for assertions. */
export function captureLog(level = 'debug'): { log: Logger; lines: Array<Record<string, unknown>>; messages(): string[] } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { log: pino({ level }, stream), lines, messages: () => lines.map((line) => String(line.msg)) };
}

let counter = 0;

/** A `message:received` event with sensible defaults (a private text message). */
export function messageEvent(overrides: Partial<Message> = {}): BotEvent {
  counter += 1;
  const message: Message = {
    id: `MSG${Date.now().toString(36)}${counter}`.toUpperCase(),
    chat: '4915100000001@s.whatsapp.net',
    sender: '4915100000001@s.whatsapp.net',
    fromMe: false,
    isGroup: false,
    pushName: 'Alice',
    timestamp: Date.now(),
    kind: 'text',
    text: 'hello',
    backlog: false,
    ...overrides,
  };
  return { type: 'message:received', message };
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a process with this pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
