/** Stable codes for what the emulator refuses or cannot do. */
export type SimErrorCode =
  | 'bad-intro'
  | 'bad-handshake'
  | 'bad-signature'
  | 'unknown-qr'
  | 'unknown-account'
  | 'unknown-phone'
  | 'unknown-group'
  | 'not-a-member'
  | 'not-connected'
  | 'timeout'
  | 'trust-refused'
  | 'media'
  | 'bad-request';

/** Thrown by the emulator for protocol violations and misuse of its control API. */
export class SimProtocolError extends Error {
  override readonly name = 'SimProtocolError';
  constructor(
    readonly code: SimErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
