import { describe, expect, it } from 'vitest';
import { commandArgsHash, idempotencyConflict } from './command-args-hash.js';

describe('commandArgsHash', () => {
  it('ignores key order and undefined members', () => {
    expect(commandArgsHash({ id: 'a', chat: 'c', quotedId: undefined, content: { type: 'text', text: 'hi' } })).toBe(
      commandArgsHash({ content: { text: 'hi', type: 'text' }, chat: 'c', id: 'a' }),
    );
  });

  it('hashes binary by content: a Buffer, a Uint8Array view and a copy agree; other bytes differ', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    const view = backing.subarray(1, 4);
    const a = commandArgsHash({ data: Buffer.from([1, 2, 3]) });
    expect(commandArgsHash({ data: view })).toBe(a);
    expect(commandArgsHash({ data: new Uint8Array([1, 2, 3]) })).toBe(a);
    expect(commandArgsHash({ data: Buffer.from([1, 2, 4]) })).not.toBe(a);
  });

  it('tells apart values that JSON would confuse or that differ only in type', () => {
    const hashes = [{ x: '1' }, { x: 1 }, { x: [1] }, { x: null }, { x: { y: 1 } }, { x: true }, {}].map(commandArgsHash);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe('idempotencyConflict', () => {
  it('allows the same op and hash, and a first use recorded without a hash', () => {
    expect(idempotencyConflict('c', 'message:send', 'h1', { op: 'message:send', argsHash: 'h1' })).toBeUndefined();
    expect(idempotencyConflict('c', 'message:send', 'h1', { op: 'message:send' })).toBeUndefined();
  });

  it('refuses another op or other arguments with IDEMPOTENCY_CONFLICT (not retryable)', () => {
    for (const conflict of [
      idempotencyConflict('c', 'message:send', 'h1', { op: 'message:read', argsHash: 'h1' }),
      idempotencyConflict('c', 'message:send', 'h1', { op: 'message:send', argsHash: 'h2' }),
    ]) {
      expect(conflict?.toWire()).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', retryable: false });
    }
  });
});
