/**
 * `pnpm demo` cannot rot: its core runs here end to end (emulator and daemon in-process,
 * the worker as a child process) and every scripted step must pass.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../scripts/demo/run-demo.js';

describe('pnpm demo', () => {
  it('runs every scripted step: QR login, !help, image and video stickers, !toimg, !find, a pack, a group', { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    let qrText = '';
    const qrStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        qrText += chunk.toString('utf8');
        done();
      },
    });
    const result = await runDemo({ print: (line) => lines.push(line), qrStream });
    const output = lines.join('\n');
    expect(result.steps.filter((s) => !s.passed)).toEqual([]);
    expect(result.passed).toBe(result.total);
    expect(output).toContain(`demo: ${result.total}/${result.total} steps passed`);
    expect(qrText).toContain('scan with WhatsApp');
    expect(output).toMatch(/bot {3}→ \[sticker 512×512, [\d.]+ KB, 1 frame, pack "stickerbot"/);
    expect(output).toMatch(/bot {3}→ \[sticker 512×512, [\d.]+ KB, \d+ frames, animated/);
    expect(output).toMatch(/bot {3}→ \[image PNG, [\d.]+ KB\]/);
  });
});
