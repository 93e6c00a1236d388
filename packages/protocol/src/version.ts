import { wireError, type WireError } from './errors.js';

/**
 * The bridge protocol version, exchanged in every handshake. Bump it on any change that
 * an older peer would misread (a removed or renamed field, event or command, a changed
 * meaning); purely additive optional fields do not need a bump.
 */
export const PROTOCOL_VERSION = 3;
// 2: `event:journaled` (one entry per packet) became `events:journaled` (an array of entries).
// 3: the `group:updated` event (an older worker would skip it as invalid); `includesSelf`
//    on `group:participants-changed`, `senderLid` on messages, `lid` on group participants,
//    `quotedBy` on `media:download`.

/**
 * Decides whether a peer announcing `peerVersion` may talk to this build. The daemon runs
 * it on every handshake and refuses with the returned error; versions must be equal, and
 * the message says which side to update.
 */
export function checkProtocolVersion(peerVersion: unknown): { ok: true } | { ok: false; error: WireError } {
  if (peerVersion === PROTOCOL_VERSION) return { ok: true };
  if (typeof peerVersion !== 'number' || !Number.isInteger(peerVersion)) {
    return {
      ok: false,
      error: wireError('PROTOCOL_MISMATCH', `The peer announced no protocol version; expected ${PROTOCOL_VERSION}`),
    };
  }
  const advice = peerVersion < PROTOCOL_VERSION ? 'the peer is older: update it' : 'the peer is newer: update this side';
  return {
    ok: false,
    error: wireError('PROTOCOL_MISMATCH', `Protocol version ${peerVersion} does not match ${PROTOCOL_VERSION}; ${advice}`),
  };
}
