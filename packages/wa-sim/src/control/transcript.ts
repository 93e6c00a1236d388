import type { BinaryNode } from '@whiskeysockets/baileys';

/** One node on the wire, for failing-test dumps. */
export interface TranscriptEntry {
  readonly connectionId: number;
  /** `in` = client to server. */
  readonly direction: 'in' | 'out';
  readonly summary: string;
}

/**
 * Renders a node as one line without secrets: tags and attributes, binary content as its
 * length only (ciphertexts, keys and signatures never appear).
 */
export function summarizeNode(node: BinaryNode): string {
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}=${v}`)
    .join('');
  const content = node.content;
  if (Array.isArray(content)) return `<${node.tag}${attrs}>${content.map(summarizeNode).join('')}</${node.tag}>`;
  if (content instanceof Uint8Array) return `<${node.tag}${attrs}>[${content.length} bytes]</${node.tag}>`;
  if (typeof content === 'string') return `<${node.tag}${attrs}>[${content.length} chars]</${node.tag}>`;
  return `<${node.tag}${attrs}/>`;
}

/** A bounded log of nodes, newest last. */
export function createTranscript(limit = 2000) {
  const entries: TranscriptEntry[] = [];
  return {
    entries: entries as readonly TranscriptEntry[],
    record(connectionId: number, direction: 'in' | 'out', node: BinaryNode): void {
      entries.push({ connectionId, direction, summary: summarizeNode(node) });
      if (entries.length > limit) entries.splice(0, entries.length - limit);
    },
    format: (): string =>
      entries.map((e) => `#${e.connectionId} ${e.direction === 'in' ? 'C→S' : 'S→C'} ${e.summary}`).join('\n'),
  };
}

export type Transcript = ReturnType<typeof createTranscript>;
