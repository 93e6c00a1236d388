import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './suggest.js';

describe('closest command suggestion', () => {
  it('counts insertions, deletions, substitutions and transpositions as one edit', () => {
    expect(editDistance('sticker', 'stikcer')).toBe(1);
    expect(editDistance('sticker', 'sticke')).toBe(1);
    expect(editDistance('help', 'yelp')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
  });

  it('suggests the nearest word and nothing when nothing is near', () => {
    const words = ['sticker', 'toimg', 'take', 'help', 'stats'];
    expect(closest('stikcer', words)).toBe('sticker');
    expect(closest('tak', words)).toBe('take');
    expect(closest('weather', words)).toBeUndefined();
  });
});
