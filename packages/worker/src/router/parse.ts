/** A parsed chat command line. */
export interface ParsedCommand {
  /** The command word, lower-cased, without the prefix. */
  name: string;
  /** Arguments split on whitespace, with "double", 'single' and “curly” quotes grouping words. */
  args: string[];
  /** Everything after the command word, trimmed, unsplit. */
  rest: string;
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '„': '“', '«': '»' };

/** Splits an argument string, honouring quotes; an unclosed quote runs to the end. */
export function splitArgs(input: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inToken = false;
  for (const char of input) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
      continue;
    }
    const closing = QUOTES[char];
    if (closing !== undefined && !inToken) {
      quote = closing;
      inToken = true;
      continue;
    }
    if (/\s/.test(char)) {
      if (inToken) args.push(current);
      current = '';
      inToken = false;
      continue;
    }
    current += char;
    inToken = true;
  }
  if (inToken) args.push(current);
  return args;
}

/**
 * Parses `<prefix><command> <args…>`. Returns `undefined` when the text does not start
 * with the prefix or has no command word after it. The prefix may be followed by spaces
 * (`! sticker`), which phones' autocorrect tends to insert.
 */
export function parseCommandLine(text: string, prefix: string): ParsedCommand | undefined {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith(prefix)) return undefined;
  return parseBare(trimmed.slice(prefix.length));
}

/** Parses `<command> <args…>` without a prefix. */
export function parseBare(text: string): ParsedCommand | undefined {
  const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(text);
  if (!match) return undefined;
  const name = (match[1] ?? '').toLowerCase();
  if (!/^[\p{L}\p{N}_-]+$/u.test(name)) return undefined;
  const rest = (match[2] ?? '').trim();
  return { name, args: splitArgs(rest), rest };
}

/** Removes one pair of quotes around a whole value (`"Cat Pack"` → `Cat Pack`). */
export function unquote(value: string): string {
  const closing = QUOTES[value[0] ?? ''];
  return closing !== undefined && value.length >= 2 && value.endsWith(closing) ? value.slice(1, -1).trim() : value;
}

/**
 * Splits `a | b` into its trimmed, unquoted halves (for `pack name | author`); missing
 * halves are `undefined`.
 */
export function splitPair(text: string): [string | undefined, string | undefined] {
  const at = text.indexOf('|');
  const first = unquote((at === -1 ? text : text.slice(0, at)).trim());
  const second = unquote(at === -1 ? '' : text.slice(at + 1).trim());
  return [first === '' ? undefined : first, second === '' ? undefined : second];
}
