/**
 * `pnpm demo --chat`: the same stack as the scripted demo, but a person types as the
 * contact. A line is sent as text; `/file <path> [caption]` sends a file (by extension:
 * .webp → sticker, .gif → GIF, .mp4/.mov/.webm → video, other → image); `/quit` ends.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { terminalQrPrinter } from '@stickerbot/daemon';
import { createStickerEngine } from '@stickerbot/sticker';
import type { PhoneMediaKind } from '@stickerbot/wa-sim';
import { spawnWorker } from '../support/worker-process.js';
import { startSimDaemon, startTrustedSim, waitFor } from '../support/emulator-stack.js';
import { DEMO_BOT, DEMO_CONTACT, describeBotMessage } from './run-demo.js';

const kindOf = (file: string): PhoneMediaKind => {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.webp') return 'sticker';
  if (ext === '.gif') return 'gif';
  if (['.mp4', '.mov', '.webm', '.mkv'].includes(ext)) return 'video';
  return 'image';
};

const mimeOf = (file: string): string | undefined =>
  ({ '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'video/mp4' })[path.extname(file).toLowerCase()];

/** Runs the interactive chat until `/quit` or end of input. */
export async function runChat(print: (line: string) => void): Promise<void> {
  const stickers = createStickerEngine({ concurrency: 2 });
  const sim = await startTrustedSim();
  const daemon = await startSimDaemon(sim, { qrPrinter: terminalQrPrinter(process.stderr) });
  const workerDir = mkdtempSync(path.join(tmpdir(), 'stickerbot-chat-worker-'));
  const worker = spawnWorker({ STICKERBOT_BRIDGE_URL: daemon.url, STICKERBOT_TOKEN: daemon.token, STICKERBOT_DATA_DIR: workerDir, LOG_LEVEL: 'warn' });
  let open = true;
  try {
    const qr = await waitFor(() => daemon.qrs[0], 'the first QR');
    await sim.scanQr(qr, { phone: DEMO_BOT });
    await daemon.waitForStatus('CONNECTED');
    const contact = sim.phone(DEMO_CONTACT, { name: 'You' });
    print(`connected. You are ${DEMO_CONTACT}; type a message, /file <path> [caption], or /quit. Try !help.`);
    const replies = (async () => {
      while (open) {
        try {
          const received = await contact.nextMessage(1_000);
          print(`bot → ${await describeBotMessage(stickers, contact, received)}`);
        } catch {
          // nothing within a second: poll again until the chat ends
        }
      }
    })();
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/quit') break;
      if (!text) continue;
      try {
        const file = /^\/file\s+(\S+)(?:\s+(.*))?$/.exec(text);
        if (file?.[1]) {
          const kind = kindOf(file[1]);
          const mimetype = mimeOf(file[1]);
          await contact.sendMedia(kind, readFileSync(file[1]), {
            ...(file[2] ? { caption: file[2] } : {}),
            ...(mimetype && kind !== 'gif' ? { mimetype } : {}),
          });
        } else {
          await contact.sendText(text);
        }
      } catch (err) {
        print(`could not send: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    rl.close();
    // Give the last replies a moment to arrive before tearing down.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    open = false;
    await replies;
  } finally {
    open = false;
    worker.kill('SIGTERM');
    await worker.exited;
    await daemon.stop();
    await sim.release();
    await stickers.close();
    rmSync(workerDir, { recursive: true, force: true });
    rmSync(daemon.dataDir, { recursive: true, force: true });
  }
}
