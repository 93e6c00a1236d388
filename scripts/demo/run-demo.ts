/**
 * The core of `pnpm demo`: the whole product on loopback with no phone. The wa-sim
 * emulator and the unmodified daemon (production Baileys socket factory) run in this
 * process, the worker runs as its own child process (`packages/worker/src/main.ts`), and a
 * scripted contact talks to the bot while the conversation is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { terminalQrPrinter } from '@stickerbot/daemon';
import { createStickerEngine, type StickerEngine } from '@stickerbot/sticker';
import type { ContactPhone, ReceivedMessage } from '@stickerbot/wa-sim';
import { makeJpeg, makeMp4, makePng, makePngWithAlpha } from '@stickerbot/sticker/test-kit';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';
import { startSimDaemon, startTrustedSim, waitFor, type SimDaemon } from '../support/emulator-stack.js';

/** The bot's phone number and the scripted contact's. */
export const DEMO_BOT = '4915100000001';
export const DEMO_CONTACT = '4915200000002';
/** Bob, who is with Alice and the bot in the demo's group. */
const DEMO_MEMBER = '4915200000003';
/** Carol, who tags and finds a sticker; Dave, who makes a pack. */
const DEMO_CATALOGUE = '4915200000004';
const DEMO_PACKER = '4915200000005';

export interface DemoOptions {
  /** Where the demo writes its lines (the terminal, or a test's collector). */
  print: (line: string) => void;
  /** Where the daemon's QR goes (default: stderr, as the daemon shows it). */
  qrStream?: NodeJS.WritableStream;
  /** Per-step time limit (default 90 s: the first animated sticker is the slowest step). */
  stepTimeoutMs?: number;
}

export interface DemoStep {
  name: string;
  passed: boolean;
  detail?: string;
}

export interface DemoResult {
  steps: DemoStep[];
  passed: number;
  total: number;
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** Describes one bot message as the contact sees it (media decrypted and verified). */
export async function describeBotMessage(stickers: StickerEngine, phone: ContactPhone, received: ReceivedMessage): Promise<string> {
  const m = received.message;
  if (m.reactionMessage) return `reacts ${m.reactionMessage.text ?? ''}`;
  if (m.stickerMessage) {
    const info = await stickers.info(phone.downloadMedia(received));
    const pack = info.metadata ? `, pack "${info.metadata.packName ?? ''}" by "${info.metadata.publisher ?? ''}"` : '';
    return `[sticker ${info.width}×${info.height}, ${kb(info.bytes)}, ${info.frames} frame${info.frames === 1 ? '' : 's'}${info.animated ? ', animated' : ''}${pack}]`;
  }
  if (m.imageMessage) {
    const data = phone.downloadMedia(received);
    const format = data.subarray(1, 4).toString('latin1') === 'PNG' ? 'PNG' : (m.imageMessage.mimetype ?? 'image');
    return `[image ${format}, ${kb(data.length)}]${m.imageMessage.caption ? ` ${m.imageMessage.caption}` : ''}`;
  }
  if (m.videoMessage) return `[video, ${kb(phone.downloadMedia(received).length)}]`;
  return received.text ?? `(${Object.keys(m).join(', ')})`;
}

/** Runs the scripted demo and tears everything down; never throws for a failed step. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { print } = options;
  const stepTimeoutMs = options.stepTimeoutMs ?? 90_000;
  const steps: DemoStep[] = [];
  const cleanups: Array<() => Promise<unknown> | void> = [];
  const stickers: StickerEngine = createStickerEngine({ concurrency: 2 });
  cleanups.push(() => stickers.close());

  const step = async (name: string, run: () => Promise<string | void>): Promise<boolean> => {
    print(`\n▶ ${name}`);
    try {
      const detail = await run();
      steps.push({ name, passed: true, ...(detail ? { detail } : {}) });
      print(`  ✔ ${name}${detail ? ` — ${detail}` : ''}`);
      return true;
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      steps.push({ name, passed: false, detail });
      print(`  ✘ ${name}: ${detail}`);
      return false;
    }
  };

  const describe = (phone: ContactPhone, received: ReceivedMessage) => describeBotMessage(stickers, phone, received);

  /** Prints the bot's messages until one satisfies `done` (`show` false: another member's copy, not printed); returns that one. */
  const botReplies = async (phone: ContactPhone, done: (m: ReceivedMessage) => boolean, show = true): Promise<ReceivedMessage> => {
    const deadline = Date.now() + stepTimeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the bot did not answer in time');
      const received = await phone.nextMessage(left);
      if (show) print(`  bot   → ${(await describe(phone, received)).split('\n').join('\n          ')}`);
      if (done(received)) return received;
    }
  };

  let daemon: SimDaemon | undefined;
  let worker: WorkerProcess | undefined;
  try {
    const sim = await startTrustedSim();
    cleanups.push(() => sim.release());
    const contact = sim.phone(DEMO_CONTACT, { name: 'Alice' });
    print(`emulator: WhatsApp Web on ${sim.url}, media over HTTPS with a per-run test CA`);

    const started = await step('the daemon starts and shows a login QR', async () => {
      daemon = await startSimDaemon(sim, { qrPrinter: terminalQrPrinter(options.qrStream ?? process.stderr) });
      const d = daemon;
      cleanups.push(() => d.stop());
      cleanups.push(() => rmSync(d.dataDir, { recursive: true, force: true }));
      const qr = await waitFor(() => d.qrs[0], 'the first QR', stepTimeoutMs);
      return `daemon on ${d.url}, QR ${qr.slice(0, 24)}…`;
    });
    if (!started || !daemon) return finish();
    const d: SimDaemon = daemon;

    const linked = await step('the fake phone scans the QR and the session connects', async () => {
      const qr = d.qrs.at(-1) ?? '';
      const { jid } = await sim.scanQr(qr, { phone: DEMO_BOT });
      const session = await d.waitForStatus('CONNECTED', stepTimeoutMs);
      return `linked as ${jid}, session "${session.id}" ${session.status}`;
    });
    if (!linked) return finish();

    const workerDir = mkdtempSync(path.join(tmpdir(), 'stickerbot-demo-worker-'));
    cleanups.push(() => rmSync(workerDir, { recursive: true, force: true }));
    worker = spawnWorker({ STICKERBOT_BRIDGE_URL: d.url, STICKERBOT_TOKEN: d.token, STICKERBOT_DATA_DIR: workerDir, LOG_LEVEL: 'warn' });
    const w = worker;
    cleanups.push(async () => {
      w.kill('SIGTERM');
      await w.exited;
    });
    print(`worker: child process ${w.child.pid ?? '?'} (packages/worker/src/main.ts)`);

    const [png, mp4] = await Promise.all([makePng(), makeMp4(2)]);

    await step('Alice sends !help and the bot answers with its commands', async () => {
      print('  Alice → !help');
      await contact.sendText('!help');
      const reply = await botReplies(contact, (m) => Boolean(m.text));
      if (!reply.text?.includes('!')) throw new Error(`unexpected help text: ${reply.text ?? ''}`);
    });

    await step('Alice sends an image with !s and gets a static sticker', async () => {
      print(`  Alice → [image PNG 320×200, ${kb(png.length)}] !s`);
      await contact.sendMedia('image', png, { caption: '!s', mimetype: 'image/png', width: 320, height: 200 });
      const sticker = await botReplies(contact, (m) => Boolean(m.message.stickerMessage));
      const info = await stickers.info(contact.downloadMedia(sticker));
      if (info.animated || info.width !== 512 || info.height !== 512) throw new Error(`not a static 512×512 sticker: ${JSON.stringify(info)}`);
      return `${kb(info.bytes)}, pack "${info.metadata?.packName ?? ''}"`;
    });

    await step('Alice sends a video with !s and gets an animated sticker', async () => {
      print(`  Alice → [video MP4 2 s, ${kb(mp4.length)}] !s`);
      await contact.sendMedia('video', mp4, { caption: '!s', seconds: 2 });
      const sticker = await botReplies(contact, (m) => Boolean(m.message.stickerMessage));
      const info = await stickers.info(contact.downloadMedia(sticker));
      if (!info.animated || info.frames < 2) throw new Error(`not an animated sticker: ${JSON.stringify(info)}`);
      return `${info.frames} frames, ${kb(info.bytes)}`;
    });

    await step('Alice sends a sticker, replies !toimg and gets it back as an image', async () => {
      const theirs = await stickers.toSticker(png, { pack: 'Alice pack', author: 'Alice' });
      const info = await stickers.info(theirs.data);
      print(`  Alice → [sticker ${info.width}×${info.height}, ${kb(info.bytes)}, pack "Alice pack" by "Alice"]`);
      const sent = await contact.sendMedia('sticker', Buffer.from(theirs.data));
      print('  Alice → (replying to her sticker) !toimg');
      await contact.sendText('!toimg', { quoted: { id: sent.id, message: sent.message, participant: contact.jid } });
      const image = await botReplies(contact, (m) => Boolean(m.message.imageMessage));
      const data = contact.downloadMedia(image);
      if (data.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('the image is not a PNG');
      return `PNG, ${kb(data.length)}`;
    });

    // Each contact has a budget of commands (5 at once, one more every 4 s): the catalogue
    // scenes are two other contacts, so the demo shows answers, not "slow down".
    const carol = sim.phone(DEMO_CATALOGUE, { name: 'Carol' });
    await step('Carol tags a sticker with !s 😂 and finds it again with !find 😂', async () => {
      const photo = await makeJpeg(480, 480);
      print(`  Carol → [image JPEG 480×480, ${kb(photo.length)}] !s 😂`);
      await carol.sendMedia('image', photo, { caption: '!s 😂' });
      await botReplies(carol, (m) => Boolean(m.message.stickerMessage));
      print('  Carol → !find 😂');
      await carol.sendText('!find 😂');
      const found = await botReplies(carol, (m) => Boolean(m.message.stickerMessage));
      const info = await stickers.info(carol.downloadMedia(found));
      if (!info.metadata?.emojis?.includes('😂')) throw new Error(`the found sticker is not tagged 😂: ${JSON.stringify(info.metadata)}`);
      return "😂 is in the sticker's EXIF emojis, where WhatsApp's sticker search reads it";
    });

    const dave = sim.phone(DEMO_PACKER, { name: 'Dave' });
    await step('Dave collects three of his stickers into the pack "Cats" and !pack show Cats sends them in order', async () => {
      const pictures = [await makeJpeg(640, 480), await makeJpeg(300, 600), await makePngWithAlpha(400, 400)];
      const sent = [];
      for (const picture of pictures) {
        const own = await stickers.toSticker(picture, { pack: 'Dave pack', author: 'Dave' });
        print(`  Dave  → [sticker 512×512, ${kb(own.data.length)}]`);
        sent.push(await dave.sendMedia('sticker', Buffer.from(own.data)));
      }
      print('  Dave  → !pack new Cats');
      await dave.sendText('!pack new Cats');
      await botReplies(dave, (m) => Boolean(m.text));
      for (const sticker of sent) {
        print('  Dave  → (replying to a sticker) !pack add');
        await dave.sendText('!pack add', { quoted: { id: sticker.id, message: sticker.message, participant: dave.jid } });
        await botReplies(dave, (m) => Boolean(m.text));
      }
      print('  Dave  → !pack show Cats');
      await dave.sendText('!pack show Cats');
      await botReplies(dave, (m) => Boolean(m.text));
      for (const _ of pictures) await botReplies(dave, (m) => Boolean(m.message.stickerMessage));
      return `${pictures.length} stickers, in the order they were added`;
    });

    // A group: Alice created it (so she is its admin), Bob is a member, and so is the bot.
    const bob = sim.phone(DEMO_MEMBER, { name: 'Bob' });
    const group = sim.groups.create({ subject: 'Sticker fans', creator: DEMO_CONTACT, members: [DEMO_MEMBER, DEMO_BOT] });
    const inGroup = (m: ReceivedMessage) => m.group === group.jid;

    await step('in a group, Bob sends an image with !s and every member gets the sticker', async () => {
      print('  group "Sticker fans": Alice (admin), Bob, the bot; messages are sender-key encrypted');
      print(`  Bob   → (group) [image PNG 320×200, ${kb(png.length)}] !s`);
      await bob.sendMedia('image', png, { caption: '!s', mimetype: 'image/png', width: 320, height: 200, group: group.jid });
      const sticker = await botReplies(bob, (m) => inGroup(m) && Boolean(m.message.stickerMessage));
      const forAlice = await botReplies(contact, (m) => inGroup(m) && Boolean(m.message.stickerMessage), false);
      if (!bob.downloadMedia(sticker).equals(contact.downloadMedia(forAlice))) throw new Error('Alice and Bob got different stickers');
      return 'Bob and Alice decrypted the same sticker';
    });

    await step("in the group, Bob's !autosticker on is refused and Alice, an admin, switches it on", async () => {
      print('  Bob   → (group) !autosticker on');
      await bob.sendText('!autosticker on', { group: group.jid });
      const refusal = await botReplies(bob, (m) => inGroup(m) && Boolean(m.text));
      if (!refusal.text?.includes('admins')) throw new Error(`Bob was not refused: ${refusal.text ?? ''}`);
      await botReplies(contact, (m) => inGroup(m) && Boolean(m.text), false);
      print('  Alice → (group) !autosticker on');
      await contact.sendText('!autosticker on', { group: group.jid });
      const accepted = await botReplies(contact, (m) => inGroup(m) && Boolean(m.text));
      if (accepted.text?.includes('Only')) throw new Error(`Alice was refused: ${accepted.text}`);
      await botReplies(bob, (m) => inGroup(m) && Boolean(m.text), false);
    });

    await step('the emulator saw no unknown nodes and no protocol problems', () => {
      if (sim.unhandled.length > 0 || sim.problems.length > 0) {
        throw new Error(`unhandled: ${JSON.stringify(sim.unhandled)}; problems: ${JSON.stringify(sim.problems)}`);
      }
      return Promise.resolve();
    });
    return finish();
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        print(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  function finish(): DemoResult {
    const passed = steps.filter((s) => s.passed).length;
    // Steps that never ran because an earlier one failed still count against the total.
    const total = Math.max(steps.length, 7);
    print(`\ndemo: ${passed}/${total} steps passed`);
    return { steps, passed, total };
  }
}
