/**
 * Proof 1 (issue 7): the worker restarted again and again, by SIGTERM and SIGKILL, while
 * contacts keep writing: every message is answered exactly once, recorded once in the
 * worker's own database, and the daemon's WhatsApp sockets never close.
 * `pnpm test` runs a short storm; `pnpm test:soak` the full one (5,000 messages, 20 restarts).
 */
import { describe, expect, it } from 'vitest';
import { runStorm } from './support/storm.js';

const soak = process.env.STICKERBOT_SOAK === '1';
const sizes = soak
  ? { messages: 5000, restarts: 20, sessions: 50, rate: 120 }
  : { messages: 240, restarts: 4, sessions: 8, rate: 40 };

describe('restart storm (daemon and worker as separate processes)', () => {
  it(
    `answers each of ${sizes.messages} messages exactly once across ${sizes.restarts} worker restarts, without closing the WhatsApp socket`,
    async () => {
      const result = await runStorm({ ...sizes, onProgress: soak ? (line) => process.stdout.write(`${line}\n`) : undefined });
      process.stdout.write(
        `restart storm: ${result.messages} messages, ${result.kills.SIGTERM} SIGTERM + ${result.kills.SIGKILL} SIGKILL, ` +
          `${result.repliesTotal} replies, ${result.handlerRuns} handler runs, ${result.elapsedMs} ms\n`,
      );
      expect(result.kills.SIGTERM + result.kills.SIGKILL).toBe(sizes.restarts);
      expect(result.kills.SIGTERM).toBeGreaterThan(0);
      expect(result.kills.SIGKILL).toBeGreaterThan(0);
      expect(result.lost).toEqual([]);
      expect(result.duplicated).toEqual([]);
      expect(result.repliesTotal).toBe(result.messages);
      expect(result.unrecorded).toEqual([]);
      // A handler may run again only for a message in hand at a SIGKILL (its reply is deduplicated by command id).
      expect(result.handlerRuns).toBeGreaterThanOrEqual(result.messages);
      expect(result.handlerRuns).toBeLessThanOrEqual(result.messages + result.kills.SIGKILL);
      for (const session of result.sockets) expect(session).toEqual({ sessionId: session.sessionId, sockets: 1, state: 'open', closes: 0 });
    },
    soak ? 900_000 : 120_000,
  );
});
