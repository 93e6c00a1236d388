import { describe, expect, it } from 'vitest';
import { MAX_VALUE_CHARS, formatLogRecord } from './log-format.js';

const at = new Date(2026, 11, 1, 13, 4, 5, 67);

function record(fields: Record<string, unknown>): string {
  return JSON.stringify({ level: 30, time: at.toISOString(), pid: 42, hostname: 'box', service: 'stickerbot-daemon', ...fields });
}

describe('formatLogRecord', () => {
  it('puts time, level, module and session, message and the other fields on one line', () => {
    const line = formatLogRecord(record({ module: 'supervisor', sessionId: 'main', msg: 'connected to WhatsApp', attempt: 3, ok: true, url: 'wss://127.0.0.1:9/ws' }));
    expect(line).toBe('13:04:05.067 INFO  [supervisor main] connected to WhatsApp attempt=3 ok=true url=wss://127.0.0.1:9/ws');
  });

  it('reads epoch-millisecond times and labels every pino level', () => {
    const labels = [10, 20, 30, 40, 50, 60].map((level) => formatLogRecord(JSON.stringify({ level, time: at.getTime(), msg: 'm' }))?.split(' ')[1]);
    expect(labels).toEqual(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
  });

  it('keeps a multi-line message, an error with its stack and a big object on one line', () => {
    const err = { type: 'TypeError', message: 'bad\nthing', stack: 'TypeError: bad\nthing\n    at send (/app/send.ts:12:3)\n    at run (/app/run.ts:4:1)', code: 'EPIPE' };
    const node = { tag: 'iq', attrs: { id: '1', type: 'get' }, content: Array.from({ length: 100 }, (_, i) => ({ tag: `n${i}` })) };
    const line = formatLogRecord(record({ level: 50, msg: 'send failed:\n  retrying', err, node, text: 'two\nlines', escape: '\u001b[2J' })) ?? '';
    expect(line).not.toContain('\n');
    expect(line).not.toContain('\u001b');
    expect(line).toContain('ERROR send failed:\\n  retrying');
    expect(line).toContain('err="TypeError [EPIPE]: bad\\nthing (at send (/app/send.ts:12:3))"');
    expect(line).toContain('text="two\\nlines"');
    expect(line).toMatch(/node=\{"tag":"iq".{180,}…/);
    expect(line.length).toBeLessThan(600);
    expect(line).not.toContain('pid=');
    expect(line).not.toContain('hostname=');
    expect(line).not.toContain('service=');
  });

  it('cuts a long value and quotes one with spaces', () => {
    const line = formatLogRecord(record({ msg: 'x', long: 'a'.repeat(500), spaced: 'a b' })) ?? '';
    expect(line).toContain(`long=${'a'.repeat(MAX_VALUE_CHARS)}… `);
    expect(line).toContain('spaced="a b"');
  });

  it('colours time and level for a terminal when asked', () => {
    expect(formatLogRecord(record({ level: 40, msg: 'careful' }), { colour: true })).toContain('\x1b[33mWARN \x1b[0m');
  });

  it('returns undefined for a line that is not a pino record', () => {
    for (const line of ['Closing session: SessionEntry {', '{"wsUrl":"ws://127.0.0.1:1"}', '{not json', '[1,2]', '']) {
      expect(formatLogRecord(line)).toBeUndefined();
    }
  });
});
