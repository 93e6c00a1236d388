import type { BinaryNode } from '@whiskeysockets/baileys';

/** The server's own address in `from` attributes (Baileys sends `to='@s.whatsapp.net'`). */
export const SERVER = 's.whatsapp.net';

export const unixNow = (): string => String(Math.floor(Date.now() / 1000));

export const children = (node: BinaryNode | undefined): BinaryNode[] =>
  Array.isArray(node?.content) ? node.content : [];

export const child = (node: BinaryNode | undefined, tag: string): BinaryNode | undefined =>
  children(node).find((c) => c.tag === tag);

/** The binary content of a node (an `<enc>` ciphertext); empty when it has none. */
export const nodeBytes = (node: BinaryNode): Buffer =>
  node.content instanceof Uint8Array
    ? Buffer.from(node.content)
    : Buffer.from(typeof node.content === 'string' ? node.content : '', 'binary');

export function childBytes(node: BinaryNode | undefined, tag: string): Buffer | undefined {
  const content = child(node, tag)?.content;
  if (content instanceof Uint8Array) return Buffer.from(content);
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  return undefined;
}

export const bytesNode = (tag: string, content: Uint8Array, attrs: Record<string, string> = {}): BinaryNode => ({
  tag,
  attrs,
  content,
});

/** A `type='result'` reply to a client iq, echoing its id. */
export const iqResult = (iq: BinaryNode, content?: BinaryNode[]): BinaryNode => ({
  tag: 'iq',
  attrs: { from: SERVER, type: 'result', id: iq.attrs.id ?? '' },
  ...(content ? { content } : {}),
});

/** A `type='error'` reply to a client iq. */
export const iqError = (iq: BinaryNode, code: number, text: string): BinaryNode => ({
  tag: 'iq',
  attrs: { from: SERVER, type: 'error', id: iq.attrs.id ?? '' },
  content: [{ tag: 'error', attrs: { code: String(code), text } }],
});
