import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ERROR_CODES,
  ERROR_CODE_LIST,
  StickerbotError,
  fromWireError,
  toWireError,
  wireError,
} from './errors.js';
import { fail, ok, resultSchema } from './result.js';

describe('error codes', () => {
  it('are unique and each has a message and a doc line', () => {
    expect(new Set(ERROR_CODE_LIST).size).toBe(ERROR_CODE_LIST.length);
    for (const code of ERROR_CODE_LIST) {
      expect(code).toMatch(/^[A-Z][A-Z_]+$/);
      expect(ERROR_CODES[code].message.length, code).toBeGreaterThan(5);
      expect(ERROR_CODES[code].doc.length, code).toBeGreaterThan(20);
    }
  });

  it('include every code the design names', () => {
    for (const code of [
      'UNAUTHORIZED',
      'INVALID_ARGS',
      'SESSION_NOT_FOUND',
      'SESSION_NOT_CONNECTED',
      'TIMEOUT',
      'CIRCUIT_OPEN',
      'RATE_LIMITED',
      'MEDIA_TOO_LARGE',
      'INTERNAL',
    ]) {
      expect(ERROR_CODE_LIST).toContain(code);
    }
  });

  it('are all documented in the protocol README error table with their retryability and doc line', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const code of ERROR_CODE_LIST) {
      const { retryable, doc } = ERROR_CODES[code];
      expect(readme, code).toContain(`| \`${code}\` | ${retryable ? 'yes' : 'no'} | ${doc} |`);
    }
  });
});

describe('toWireError', () => {
  it('keeps the code, message and retryable of a typed error', () => {
    expect(toWireError(new StickerbotError('SESSION_NOT_CONNECTED', 'session default is reconnecting'))).toEqual({
      code: 'SESSION_NOT_CONNECTED',
      message: 'session default is reconnecting',
      retryable: true,
    });
  });

  it('lets a typed error override retryable and falls back to the table message', () => {
    const error = new StickerbotError('TIMEOUT', undefined, { retryable: false });
    expect(toWireError(error)).toEqual({ code: 'TIMEOUT', message: ERROR_CODES.TIMEOUT.message, retryable: false });
  });

  it('maps a plain Error to INTERNAL with its message', () => {
    expect(toWireError(new TypeError('boom'))).toEqual({ code: 'INTERNAL', message: 'boom', retryable: false });
  });

  it('maps a thrown string to INTERNAL carrying the string', () => {
    expect(toWireError('disk full')).toEqual({ code: 'INTERNAL', message: 'disk full', retryable: false });
  });

  it('maps undefined and other values to INTERNAL with the table message', () => {
    for (const value of [undefined, null, 42, {}, '']) {
      expect(toWireError(value)).toEqual({ code: 'INTERNAL', message: ERROR_CODES.INTERNAL.message, retryable: false });
    }
  });

  it('maps a zod error to INVALID_ARGS naming the failing field', () => {
    const parsed = z.object({ chat: z.string() }).safeParse({ chat: 7 });
    expect(parsed.success).toBe(false);
    const wire = toWireError(parsed.error);
    expect(wire.code).toBe('INVALID_ARGS');
    expect(wire.message).toContain('chat');
  });

  it('passes an error already in wire shape through without its extra fields', () => {
    const received = { code: 'RATE_LIMITED', message: 'slow down', retryable: true, stack: 'x' };
    expect(toWireError(received)).toEqual({ code: 'RATE_LIMITED', message: 'slow down', retryable: true });
  });

  it('does not pass through an object with an unknown code', () => {
    expect(toWireError({ code: 'NOPE', message: 'x', retryable: true }).code).toBe('INTERNAL');
  });

  it('round-trips through fromWireError', () => {
    const back = fromWireError(wireError('CIRCUIT_OPEN'));
    expect(back).toBeInstanceOf(StickerbotError);
    expect(back.code).toBe('CIRCUIT_OPEN');
    expect(back.retryable).toBe(true);
    expect(toWireError(back)).toEqual(wireError('CIRCUIT_OPEN'));
  });

  it('keeps the cause of a typed error out of the wire shape', () => {
    const error = new StickerbotError('INTERNAL', 'db failed', { cause: new Error('SQLITE_BUSY') });
    expect(error.cause).toBeInstanceOf(Error);
    expect(Object.keys(toWireError(error))).toEqual(['code', 'message', 'retryable']);
  });
});

describe('Result', () => {
  const schema = resultSchema(z.object({ messageId: z.string() }));

  it('ok and fail build values the result schema accepts', () => {
    expect(schema.parse(ok({ messageId: 'ABC' }))).toEqual({ ok: true, result: { messageId: 'ABC' } });
    expect(schema.parse(fail(new StickerbotError('TIMEOUT')))).toEqual({ ok: false, error: wireError('TIMEOUT') });
  });

  it('rejects a success without a result and a failure without a valid error', () => {
    expect(schema.safeParse({ ok: true }).success).toBe(false);
    expect(schema.safeParse({ ok: false, error: { code: 'TIMEOUT' } }).success).toBe(false);
  });
});
