import { describe, expect, it } from 'vitest';
import { isEmojiToken, parseTags, takeEmojiArgs } from './tags.js';

describe('tags', () => {
  it('tells emoji tokens from words, numbers and keycap digits', () => {
    expect(['😂', '😂🔥', '👍🏽', '❤️', '🏳️‍🌈'].map(isEmojiToken)).toEqual([true, true, true, true, true]);
    expect(['cat', '12', '#', 'a😂', '|'].map(isEmojiToken)).toEqual([false, false, false, false, false]);
  });

  it('splits emojis one by one and normalises words and variation selectors', () => {
    expect(parseTags(['😂🔥', 'Cat!', '❤️', 'cat'])).toEqual({ emojis: ['😂', '🔥', '❤️'], tags: ['😂', '🔥', 'cat', '❤'] });
  });

  it('takes emoji arguments out of a command line wherever they are', () => {
    expect(takeEmojiArgs(['circle', '😂', 'Cats', '|', 'Me', '🔥'])).toEqual({ emojis: ['😂', '🔥'], rest: ['circle', 'Cats', '|', 'Me'] });
  });
});
