import { keyPairFromSeed, type KeyPair } from '../crypto/primitives.js';

/**
 * The emulator's noise root. It is derived from a fixed seed so every emulator in a process
 * shares it and one trust override covers them all. It is worthless outside tests: anyone
 * can derive the private key.
 */
export const simNoiseRoot = (): KeyPair => keyPairFromSeed('stickerbot wa-sim noise root v1');
