import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type WorkerCommandArgs } from '@stickerbot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBotDatabase } from '../src/db/bot-database.js';
import { alive, messageEvent, startFakeDaemon, tempDir, waitFor, type FakeDaemon, type ReceivedCommand } from '../src/test-kit/index.js';
import { makePng } from '@stickerbot/sticker/test-kit';
import { spawnWorker } from '../../../scripts/support/worker-process.js';

/** The pids of a process's children (its sticker pool members). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter((p) => p.trim() !== '').map(Number);
}

/** A worker process against a protocol-speaking stand-in for the daemon (the real daemon is in the root test/). */
describe('the worker process', { timeout: 90_000 }, () => {
  let daemon: FakeDaemon;
  let png: Buffer;
  const media = new Map<string, Buffer>();
  let onSticker: (command: ReceivedCommand) => void = () => undefined;

  beforeAll(async () => {
    png = await makePng();
    daemon = await startFakeDaemon();
    daemon.respond = (command) => {
      if (command.name === 'media:download') {
        const data = media.get(String(command.args.messageId));
        return { data, mimetype: 'image/png', size: data?.byteLength ?? 0 };
      }
      if (command.name === 'message:send') {
        const content = command.args.content as WorkerCommandArgs<'message:send'>['content'];
        if (content.type === 'sticker') onSticker(command);
        return { messageId: `SENT${daemon.commands.length}`, timestamp: Date.now() };
      }
      if (command.name === 'daemon:status') return { protocol: 1, startedAt: Date.now() - 1000, now: Date.now() };
      throw new Error('unexpected');
    };
  }, 60_000);
  afterAll(() => daemon.close());

  function env(dir: string): Record<string, string> {
    return { STICKERBOT_BRIDGE_URL: daemon.url, STICKERBOT_DATA_DIR: dir, STICKERBOT_SHUTDOWN_GRACE_MS: '3000' };
  }

  it('reads the token the daemon generated, answers, and exits cleanly on SIGTERM', async () => {
    using dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir.path, 'token'), `${daemon.token}\n`, { mode: 0o600 });
    await using worker = spawnWorker(env(dir.path));
    await worker.waitForLog('connected to the daemon');
    const entry = daemon.append(messageEvent({ text: '!ping' }));
    await waitFor(() => daemon.acks.includes(entry.seq), 30_000, 'ack');
    // Conversions run in the pool's child processes: the worker itself never loads sharp (libvips).
    await worker.waitForLog('sticker engine runs ffmpeg');
    const members = childrenOf(worker.child.pid as number);
    expect(members.length).toBeGreaterThan(0);
    // They get none of the bot's settings (STICKERBOT_BRIDGE_URL and _DATA_DIR are set here).
    for (const pid of members) expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain('STICKERBOT_');
    expect(readFileSync(`/proc/${worker.child.pid}/maps`, 'utf8')).not.toMatch(/vips|sharp/);
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.lines.some((line) => line.msg === 'worker stopped')).toBe(true);
  });

  it('stops with a clear message when the configuration is bad', async () => {
    await using worker = spawnWorker({ STICKERBOT_MAX_MEDIA_MB: 'lots', STICKERBOT_BRIDGE_URL: 'nope' });
    expect(await worker.exited).toBe(1);
  });

  it('abandons the event in hand after the grace period on SIGTERM, and the next worker handles it', async () => {
    using dir = tempDir();
    let release: (() => void) | undefined;
    const respond = daemon.respond;
    daemon.respond = (command) => {
      if (command.name !== 'media:download') return respond(command);
      // The download hangs until the test lets it go: the worker is stuck mid-event.
      return new Promise((resolve) => {
        release = () => resolve(respond(command));
      });
    };
    const first = spawnWorker({ ...env(dir.path), STICKERBOT_TOKEN: daemon.token, STICKERBOT_SHUTDOWN_GRACE_MS: '500' });
    await first.waitForLog('connected to the daemon');
    const event = messageEvent({ kind: 'image', text: '!s', media: { mimetype: 'image/png', size: png.byteLength } });
    if (event.type === 'message:received') media.set(event.message.id, png);
    const entry = daemon.append(event);
    await waitFor(() => release !== undefined, 30_000, 'download requested');
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.lines.some((line) => String(line.msg).startsWith('abandoning the entries in hand'))).toBe(true);
    expect(daemon.acks.includes(entry.seq)).toBe(false);

    daemon.respond = respond;
    release?.();
    await using second = spawnWorker({ ...env(dir.path), STICKERBOT_TOKEN: daemon.token });
    await waitFor(() => daemon.acks.includes(entry.seq), 60_000, 'ack by the next worker');
    const mine = `w.default:${event.type === 'message:received' ? event.message.id : ''}.`;
    const stickerSends = daemon.commands.filter(
      (c) => c.name === 'message:send' && c.args.id.startsWith(mine) && (c.args.content as { type: string }).type === 'sticker',
    );
    expect(stickerSends).toHaveLength(1);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('handles an event exactly once when killed between receiving and acknowledging it', async () => {
    using dir = tempDir();
    // The first run shows ⏳ at once, the second never: the sends must keep their ids anyway.
    const first = spawnWorker({ ...env(dir.path), STICKERBOT_TOKEN: daemon.token, STICKERBOT_PROGRESS_DELAY_MS: '0' });
    await first.waitForLog('connected to the daemon');
    // The sticker send reaches the daemon (which performs and records it), then the worker dies.
    let members: number[] = [];
    onSticker = () => {
      members = childrenOf(first.child.pid as number);
      first.kill('SIGKILL');
    };
    const event = messageEvent({ kind: 'image', text: '!s', media: { mimetype: 'image/png', size: png.byteLength } });
    if (event.type === 'message:received') media.set(event.message.id, png);
    const entry = daemon.append(event);
    expect(await first.exited).toBe('SIGKILL');
    // Its sticker pool members notice the closed channel and end too.
    expect(members.length).toBeGreaterThan(0);
    await waitFor(() => !members.some(alive), 10_000, 'pool members gone');
    const db = openBotDatabase(path.join(dir.path, 'worker.sqlite'), 'bot');
    expect(db.progress.position()).toBeLessThan(entry.seq);
    db.close();

    onSticker = () => undefined;
    await using second = spawnWorker({ ...env(dir.path), STICKERBOT_TOKEN: daemon.token, STICKERBOT_PROGRESS_DELAY_MS: '60000' });
    await waitFor(() => daemon.acks.includes(entry.seq), 60_000, 'ack after restart');
    const mine = `w.default:${event.type === 'message:received' ? event.message.id : ''}.`;
    const stickerSends = daemon.commands.filter(
      (c) => c.name === 'message:send' && c.args.id.startsWith(mine) && (c.args.content as { type: string }).type === 'sticker',
    );
    expect(stickerSends.length).toBe(2);
    expect(new Set(stickerSends.map((c) => c.args.id)).size).toBe(1);
    const reactions = daemon.commands
      .filter((c) => c.name === 'message:send' && c.args.id.startsWith(mine) && (c.args.content as { type: string }).type === 'reaction')
      .map((c) => `${c.args.id}:${(c.args.content as { emoji: string }).emoji}`);
    // download (.1) and sticker (.2) have the same ids in both runs; the ⏳ a run may or may
    // not show has a named id outside that sequence. The second run showed no ⏳, so no ✅.
    expect(reactions).toEqual([`${mine}wait:⏳`]);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
