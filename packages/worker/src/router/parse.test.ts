import { describe, expect, it } from 'vitest';
import { parseBare, parseCommandLine, splitArgs, splitPair } from './parse.js';

describe('parseCommandLine', () => {
  it('splits prefix, lower-cased command and arguments', () => {
    expect(parseCommandLine('!Sticker circle  My Pack', '!')).toEqual({ name: 'sticker', args: ['circle', 'My', 'Pack'], rest: 'circle  My Pack' });
  });

  it('groups quoted words, with straight and curly quotes', () => {
    expect(splitArgs(`take "My Pack" 'and me' “curly one” plain`)).toEqual(['take', 'My Pack', 'and me', 'curly one', 'plain']);
    expect(splitArgs('"unclosed quote runs on')).toEqual(['unclosed quote runs on']);
    expect(splitArgs('it\'s fine')).toEqual(["it's", 'fine']);
  });

  it('accepts spaces after the prefix and multi-character prefixes', () => {
    expect(parseCommandLine('! help', '!')?.name).toBe('help');
    expect(parseCommandLine('.bot ping', '.bot')?.name).toBe('ping');
  });

  it('ignores text without the prefix or without a command word', () => {
    expect(parseCommandLine('hello !sticker', '!')).toBeUndefined();
    expect(parseCommandLine('!', '!')).toBeUndefined();
    expect(parseCommandLine('!!!', '!')).toBeUndefined();
    expect(parseBare('   ')).toBeUndefined();
  });

  it('splits "pack | author" pairs', () => {
    expect(splitPair('Cats | Alice')).toEqual(['Cats', 'Alice']);
    expect(splitPair('Cats')).toEqual(['Cats', undefined]);
    expect(splitPair('| Alice')).toEqual([undefined, 'Alice']);
    expect(splitPair('"Cat Pack" | “Alice B”')).toEqual(['Cat Pack', 'Alice B']);
  });
});
