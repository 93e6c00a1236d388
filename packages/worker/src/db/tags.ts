/** Longest tag, in characters. */
export const MAX_TAG_LENGTH = 32;
/** Most tags one sticker keeps. */
export const MAX_TAGS = 24;

const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\p{Emoji_Modifier}|\u200d|\ufe0f)+$/u;
const PICTOGRAPHIC = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Whether a whitespace-free token is nothing but emojis (`😂🔥`, `👍🏽`, `🏳️‍🌈`). */
export function isEmojiToken(token: string): boolean {
  return token !== '' && EMOJI.test(token) && PICTOGRAPHIC.test(token) && !/^[\d#*]+$/.test(token);
}

/** The emojis of an emoji token, one per grapheme (`😂🔥` → `['😂', '🔥']`). */
export function splitEmojis(token: string): string[] {
  return [...segmenter.segment(token)].map((part) => part.segment).filter((part) => PICTOGRAPHIC.test(part));
}

/**
 * The catalogue's form of a tag: an emoji without its variation selector (`❤️` and `❤`
 * are one tag), a word lower-cased and stripped of surrounding punctuation.
 */
export function normalizeTag(tag: string): string {
  if (isEmojiToken(tag)) return tag.replaceAll('\ufe0f', '');
  return tag.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

/** Splits `😂🔥 funny cat` into emojis (as typed, for EXIF) and catalogue tags (normalised, distinct). */
export function parseTags(tokens: readonly string[]): { emojis: string[]; tags: string[] } {
  const emojis: string[] = [];
  const tags = new Set<string>();
  for (const token of tokens) {
    if (isEmojiToken(token)) {
      for (const emoji of splitEmojis(token)) {
        if (!emojis.includes(emoji)) emojis.push(emoji);
        tags.add(normalizeTag(emoji));
      }
      continue;
    }
    const word = normalizeTag(token);
    if (word !== '') tags.add(word.slice(0, MAX_TAG_LENGTH));
  }
  return { emojis, tags: [...tags].slice(0, MAX_TAGS) };
}

/** Removes the emoji tokens from a list of arguments and returns them apart (`!s circle 😂 Cats | Me`). */
export function takeEmojiArgs(args: readonly string[]): { emojis: string[]; rest: string[] } {
  const rest = args.filter((arg) => !isEmojiToken(arg));
  return { emojis: parseTags(args.filter(isEmojiToken)).emojis, rest };
}
