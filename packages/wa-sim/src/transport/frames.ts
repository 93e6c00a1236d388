import { SimProtocolError } from '../errors.js';

const WA_HEADER = Buffer.from([0x57, 0x41, 6, 3]);
const ED_MARKER = Buffer.from('ED', 'utf8');

/** What the client's first bytes said before its first frame. */
export interface IntroHeader {
  /** The `ED` edge-routing blob the client echoes back, if it had one saved. */
  readonly routingInfo: Buffer | undefined;
}

/**
 * Splits the client byte stream into frames: an optional `ED` routing prefix and the `WA 06 03`
 * header on the first message, then 3-byte big-endian length-prefixed frames.
 */
export function createFrameReader(onIntro: (intro: IntroHeader) => void, onFrame: (frame: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0);
  let sawIntro = false;

  const readIntro = (): boolean => {
    let offset = 0;
    let routingInfo: Buffer | undefined;
    if (pending.subarray(0, 2).equals(ED_MARKER)) {
      if (pending.length < 7) return false;
      const length = (pending[4]! << 16) | pending.readUInt16BE(5);
      if (pending.length < 7 + length) return false;
      routingInfo = Buffer.from(pending.subarray(7, 7 + length));
      offset = 7 + length;
    }
    if (pending.length < offset + WA_HEADER.length) return false;
    if (!pending.subarray(offset, offset + WA_HEADER.length).equals(WA_HEADER)) {
      throw new SimProtocolError('bad-intro', `unexpected intro header ${pending.subarray(0, 8).toString('hex')}`);
    }
    pending = pending.subarray(offset + WA_HEADER.length);
    sawIntro = true;
    onIntro({ routingInfo });
    return true;
  };

  return {
    push(chunk: Buffer): void {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (!sawIntro && !readIntro()) return;
      while (pending.length >= 3) {
        const size = (pending[0]! << 16) | pending.readUInt16BE(1);
        if (pending.length < size + 3) return;
        const frame = Buffer.from(pending.subarray(3, size + 3));
        pending = pending.subarray(size + 3);
        onFrame(frame);
      }
    },
  };
}

/** Prefixes a payload with its 3-byte length; server frames carry no intro header. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const header = Buffer.from([(payload.length >>> 16) & 0xff, (payload.length >>> 8) & 0xff, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}
