import type { MessageKind, Message } from '@stickerbot/protocol';
import type { RememberedMessage } from '../db/progress-store.js';

/** Kinds the sticker commands take as input. */
export const VISUAL_KINDS: readonly MessageKind[] = ['image', 'video', 'gif', 'sticker'];

/** Media a command works on: the message's own, or the one it replies to. */
export interface MediaSource {
  /** The message holding the media. */
  messageId: string;
  kind: MessageKind;
  mimetype: string | undefined;
  /** Declared size in bytes, when known. */
  size: number | undefined;
  animated: boolean | undefined;
  /** Declared duration in seconds (own video media only). */
  durationS: number | undefined;
  /** Whether the media is attached to the command message itself (else it is quoted). */
  own: boolean;
}

/** The visual kind of a message, counting image and video documents as such. */
export function visualKind(kind: MessageKind, mimetype: string | undefined): MessageKind | undefined {
  if (VISUAL_KINDS.includes(kind)) return kind;
  if (kind === 'document' && mimetype) {
    if (mimetype === 'image/webp') return 'image';
    if (mimetype === 'image/gif') return 'gif';
    if (mimetype.startsWith('image/')) return 'image';
    if (mimetype.startsWith('video/')) return 'video';
  }
  return undefined;
}

/**
 * Finds the media a command should use: the message's own visual media, else the visual
 * media of the message it quotes (whose size is known when the bot saw that message).
 */
export function findMedia(message: Message, remembered: (messageId: string) => RememberedMessage | undefined): MediaSource | undefined {
  const own = visualKind(message.kind, message.media?.mimetype);
  if (own) {
    return {
      messageId: message.id,
      kind: own,
      mimetype: message.media?.mimetype,
      size: message.media?.size,
      animated: message.media?.animated,
      durationS: message.media?.durationS,
      own: true,
    };
  }
  if (!message.quotedId) return undefined;
  const memory = remembered(message.quotedId);
  const quotedKind = message.quotedKind ?? (memory?.kind as MessageKind | undefined);
  if (!quotedKind) return undefined;
  const kind = visualKind(quotedKind, memory?.mimetype);
  if (!kind) return undefined;
  return {
    messageId: message.quotedId,
    kind,
    mimetype: memory?.mimetype,
    size: memory?.size,
    animated: memory?.animated,
    durationS: undefined,
    own: false,
  };
}
