import { Curve } from '@whiskeysockets/baileys';
import { verifySignature } from '../crypto/primitives.js';

/**
 * Test-only: makes Baileys' `Curve.verify` really verify (rc14 ignores libsignal's boolean
 * result and accepts any signature). With it, a test proves every signature the emulator
 * produces is valid. Returns a function that restores the original.
 */
export function useStrictSignatureVerification(): () => void {
  const original = Curve.verify;
  Curve.verify = (pub, message, signature) => verifySignature(pub, message, signature);
  return () => {
    Curve.verify = original;
  };
}
