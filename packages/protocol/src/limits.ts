/**
 * Limits the protocol itself enforces. Values a deployment tunes (the media cap, the
 * backlog age) are configuration; these are the hard edges of the wire format.
 */

/** Session ids: lowercase letters, digits, `_` and `-`, 1 to 64 characters. */
export const SESSION_ID_PATTERN = /^[a-z0-9_-]{1,64}$/;

/** Longest session id, in characters. */
export const MAX_SESSION_ID_LENGTH = 64;

/** Longest client-chosen command id, in characters. */
export const MAX_COMMAND_ID_LENGTH = 128;

/** Longest WhatsApp message id, in characters (real ids are 16 to 32 hex characters). */
export const MAX_MESSAGE_ID_LENGTH = 128;

/** Longest WhatsApp JID (`user@server`), in characters. */
export const MAX_JID_LENGTH = 256;

/** Longest text or caption, in UTF-16 code units: WhatsApp's own limit for one message. */
export const MAX_TEXT_LENGTH = 65_536;

/** Longest consumer group name, in characters (same alphabet as session ids). */
export const MAX_GROUP_LENGTH = 64;

/** Longest reaction emoji, in UTF-16 code units (an emoji with modifiers and joiners). */
export const MAX_EMOJI_LENGTH = 32;

/** Longest push name or group subject relayed, in characters. */
export const MAX_NAME_LENGTH = 256;

/** Most message ids in one `message:read` command. */
export const MAX_READ_BATCH = 256;

/** Most journal entries in one `events:journaled` packet. */
export const MAX_DELIVERY_BATCH = 256;

/** Most phone numbers in one `contact:lookup` command. */
export const MAX_LOOKUP_BATCH = 50;

/** Default largest media the bot downloads or accepts: 16 MiB (`STICKERBOT_MAX_MEDIA_MB`). */
export const DEFAULT_MAX_MEDIA_BYTES = 16 * 1024 * 1024;

/**
 * Headroom added to the media cap when sizing Socket.IO's `maxHttpBufferSize`, so that a
 * payload exactly at the cap plus its JSON envelope still fits in one packet.
 */
export const BRIDGE_PACKET_OVERHEAD_BYTES = 64 * 1024;
