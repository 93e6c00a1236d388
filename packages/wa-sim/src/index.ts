export { startSim, type ConnectionReport, type Faults, type KickMode, type LoginRecord, type Sim, type SimOptions } from './control/sim.js';
export type { Account, CompanionDevice } from './directory/accounts.js';
export type { ContactPhone, MediaSendOptions, PhoneMediaKind, QuoteRef, SendOptions, SentMessage } from './control/phone.js';
export { decryptMedia, encryptMedia, type EncryptedMedia, type SimMediaType } from './media/media-crypto.js';
export type { ReceivedMessage } from './e2e/mailbox.js';
export { SimProtocolError, type SimErrorCode } from './errors.js';
export type { PairingResult } from './pairing/qr-pairing.js';
export type { UnhandledNode } from './server/world.js';
export type { DeviceConnectionCounters } from './server/connection-counters.js';
export {
  assertSafeWaUrl,
  isEmulatorRootTrusted,
  restoreWhatsAppNoiseRoot,
  trustEmulatorNoiseRoot,
  type TrustOptions,
} from './trust/trust.js';
export { useStrictSignatureVerification } from './trust/strict-verify.js';
export { startAdminServer, type AdminServer } from './control/admin-http.js';
export { createMediaTrust, type MediaTrust } from './media/media-trust.js';
export type { PrimaryPhone } from './control/primary-phone.js';
export type { CreateGroupOptions, SimGroup, SimGroups } from './control/groups.js';
export type { AddressingMode, GroupRole } from './directory/groups.js';
export type { RealisticAccount, RealisticAccountOptions } from './control/realistic-account.js';
