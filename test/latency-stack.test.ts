/**
 * `pnpm bench:latency` cannot rot: its stack (emulator in process, daemon with real Baileys
 * and the worker as child processes) answers a timed `!ping`, and a command sent while the
 * worker is stopped is answered after the worker is started, as the bench times them.
 */
import { describe, expect, it } from 'vitest';
import { startLatencyStack } from '../scripts/support/latency-stack.js';

describe('the latency benchmark stack', () => {
  it('times a !ping from the phone send to the decrypted answer, and answers a backlog after a worker start', { timeout: 120_000 }, async () => {
    await using stack = await startLatencyStack();
    const phone = stack.phone('4915299000001');
    stack.startWorker();

    const ping = await phone.ask((p) => p.sendText('!ping'), 'text');
    expect(ping.answer.text).toMatch(/^pong/);
    expect(ping.answer.message.extendedTextMessage?.contextInfo?.stanzaId).toBe(ping.sent.id);
    expect(ping.ms).toBe(ping.answer.receivedAt - ping.sentAt);
    expect(ping.ms).toBeGreaterThan(0);
    await stack.settle();

    await stack.stopWorker();
    const waiting = await phone.send((p) => p.sendText('!ping'));
    const { startedAt } = stack.startWorker();
    const connectedAt = await stack.workerConnectedAt();
    const answer = await phone.answerTo(waiting, 'text');
    expect(answer.answer.text).toMatch(/^pong/);
    expect(connectedAt).toBeGreaterThanOrEqual(startedAt);
    expect(answer.answer.receivedAt).toBeGreaterThan(connectedAt);
    expect(stack.sim.problems).toEqual([]);
  });
});
