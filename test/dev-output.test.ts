/**
 * `pnpm dev`'s terminal: one line per log record, prefixed by its process, and nothing
 * printed around pino. Real child processes relayed exactly as scripts/dev.ts relays them:
 * a process logging through the runtime's root logger (a multi-line message, an error with
 * its stack, a big nested object), and the emulator started as `pnpm dev --sim` starts it,
 * made to print a libsignal-style session dump with console.* (test/support/console-dump.mjs).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../scripts/dev-sim.js';
import { relayLines } from '../scripts/support/dev-output.js';
import { TSX_ARGS, exited, repoRoot, until } from '../scripts/support/process-stack.js';

/** A relayed record: `name │ 13:04:05.067 LEVEL …`. */
const RECORD_LINE = /^[a-z-]+ +│ \d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /;

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function collector(): { lines: string[]; output: { colour: boolean; write: (text: string) => void } } {
  const lines: string[] = [];
  return { lines, output: { colour: false, write: (text) => lines.push(...text.split('\n').filter((line) => line !== '')) } };
}

describe('pnpm dev output', () => {
  it('shows each record of a process on one line with its fields, secrets redacted', async () => {
    const { lines, output } = collector();
    const child = spawn(process.execPath, [...TSX_ARGS, join(repoRoot, 'test/support/log-samples.ts')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    relayLines('worker', '35', [child.stdout, child.stderr], output);
    await exited(child);
    await until(() => lines.length >= 4, 'four relayed lines', 5000);
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(RECORD_LINE);
    expect(lines[0]).toMatch(/INFO {2}\[bridge\] connected to the daemon url=http:\/\/127\.0\.0\.1:7420 group=bot position=12$/);
    expect(lines[1]).toMatch(/WARN {2}\[main\] send failed:\\nretrying with the same id err="TypeError: socket hang up \(at .*log-samples\.ts:\d+:\d+\)+"$/);
    expect(lines[2]).toMatch(/DEBUG received a node node=\{"tag":"iq".*…$/);
    expect(lines[3]).toContain('ERROR answer token="[redacted]" reply="line one\\nline two"');
  });

  it('routes the emulator’s console output into its log: records only, no key material', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-dev-output-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const preload = pathToFileURL(join(repoRoot, 'test/support/console-dump.mjs')).href;
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', WA_SIM_LOG: 'debug', NODE_OPTIONS: `--import=${preload}` };
    const emulator: Emulator = await startEmulator(repoRoot, dataDir, env);
    cleanups.push(async () => {
      emulator.child.kill('SIGTERM');
      await exited(emulator.child);
    });
    const { lines, output } = collector();
    relayLines('wa-sim', '33', [emulator.child.stdout, emulator.child.stderr], output);
    let printed = false;
    emulator.child.on('message', (message) => {
      if (message === 'printed') printed = true;
    });
    emulator.child.send('print-console');
    await until(() => printed && lines.some((line) => line.includes('first line')), 'the console output relayed', 15_000);
    for (const line of lines) expect(line).toMatch(RECORD_LINE);
    expect(lines.some((line) => /DEBUG \[console\] Closing session: \[Object\]/.test(line))).toBe(true);
    expect(lines.some((line) => /WARN {2}\[console\] Session error: Error: Bad MAC/.test(line))).toBe(true);
    expect(lines.some((line) => line.includes('first line\\nsecond line [censored]'))).toBe(true);
    expect(lines.join('\n')).not.toContain(Buffer.alloc(32, 7).toString('base64'));
  });
});
