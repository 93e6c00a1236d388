/**
 * Deaf-connection detection (DESIGN §3): the most reported failure is a session that says
 * it is connected but receives nothing. Two symptoms, checked periodically while
 * `CONNECTED`: no frame from the server for too long (Baileys pings every 30 s, so a live
 * server sends something at least that often), and a sent message that never got its
 * server ack (the single grey tick).
 */

/** Thresholds of the watchdog, in ms. */
export interface ZombieOptions {
  /** No frame for this long means deaf (default 75 s: two and a half keep-alive periods). */
  frameTimeoutMs: number;
  /** A sent message without server ack for this long means deaf (default 45 s). */
  ackTimeoutMs: number;
  /** How often the watchdog looks (default 5 s). */
  checkIntervalMs: number;
}

/** Default thresholds. */
export const DEFAULT_ZOMBIE: Readonly<ZombieOptions> = Object.freeze({ frameTimeoutMs: 75_000, ackTimeoutMs: 45_000, checkIntervalMs: 5_000 });

/** Liveness state of one connection. */
export interface Liveness {
  /** When the last frame arrived (epoch ms). */
  lastFrameAt: number;
  /** Sent message ids waiting for their server ack → when they were sent. */
  pendingAcks: Map<string, number>;
  /** Recently acked ids (an ack can arrive before the send call returns). */
  recentAcks: Set<string>;
}

const RECENT_ACKS_KEPT = 512;

/** Fresh liveness state. */
export function createLiveness(now: number): Liveness {
  return { lastFrameAt: now, pendingAcks: new Map(), recentAcks: new Set() };
}

/** Records a server ack. */
export function noteAck(liveness: Liveness, messageId: string): void {
  if (liveness.pendingAcks.delete(messageId)) return;
  liveness.recentAcks.add(messageId);
  if (liveness.recentAcks.size > RECENT_ACKS_KEPT) {
    const oldest = liveness.recentAcks.values().next().value;
    if (oldest !== undefined) liveness.recentAcks.delete(oldest);
  }
}

/** Records a sent message that should be acked. */
export function noteSent(liveness: Liveness, messageId: string, now: number): void {
  if (liveness.recentAcks.delete(messageId)) return;
  liveness.pendingAcks.set(messageId, now);
}

/** Why the connection looks deaf, or `undefined` when it looks alive. */
export function deafReason(liveness: Liveness, now: number, options: ZombieOptions): string | undefined {
  const silentMs = now - liveness.lastFrameAt;
  if (silentMs > options.frameTimeoutMs) return `no frame from WhatsApp for ${Math.round(silentMs / 1000)} s`;
  for (const [id, sentAt] of liveness.pendingAcks) {
    if (now - sentAt > options.ackTimeoutMs) return `sent message ${id} got no server ack within ${Math.round(options.ackTimeoutMs / 1000)} s`;
  }
  return undefined;
}
