import { z } from 'zod';

/**
 * Every error that crosses the bridge, once. `retryable` says whether the same command
 * (with the same id) may succeed if sent again later; `doc` is the operator-facing
 * explanation and is what the README's error table shows.
 */
export const ERROR_CODES = {
  UNAUTHORIZED: {
    message: 'The token is missing, wrong or expired',
    retryable: false,
    doc: 'Handshake or command refused: present the bridge token (or a valid dashboard JWT).',
  },
  FORBIDDEN: {
    message: 'This token may not do that',
    retryable: false,
    doc: "The token is valid but its role or its sessions claim does not cover this action or session.",
  },
  PROTOCOL_MISMATCH: {
    message: 'The peer speaks another protocol version',
    retryable: false,
    doc: 'Daemon and worker were built from different protocol versions: update the older one.',
  },
  INVALID_ARGS: {
    message: 'The payload does not match the schema',
    retryable: false,
    doc: 'A command or event payload failed validation; the message names the offending fields.',
  },
  SESSION_NOT_FOUND: {
    message: 'No session with that id',
    retryable: false,
    doc: 'The command names a session the daemon does not know (create it first).',
  },
  SESSION_EXISTS: {
    message: 'A session with that id already exists',
    retryable: false,
    doc: '`session:create` was asked for an id that is already registered.',
  },
  SESSION_NOT_CONNECTED: {
    message: 'The session is not connected to WhatsApp',
    retryable: true,
    doc: 'The session exists but is not CONNECTED (logging in, reconnecting or stopped); try again later.',
  },
  MESSAGE_NOT_FOUND: {
    message: 'No journaled message with that id',
    retryable: false,
    doc: 'The command refers to a message id the journal does not hold (never seen, or pruned).',
  },
  IDEMPOTENCY_CONFLICT: {
    message: 'That command id was already used with other arguments',
    retryable: false,
    doc: 'A command id was sent again with different arguments (or for another command) inside the idempotency window; nothing was done: use a new id for a new command.',
  },
  TIMEOUT: {
    message: 'WhatsApp did not answer in time',
    retryable: true,
    doc: 'The operation passed its deadline (send 30 s, lookup 12 s, media download 60 s).',
  },
  CIRCUIT_OPEN: {
    message: 'Too many consecutive failures; failing fast for a while',
    retryable: true,
    doc: "The session's circuit breaker is open after 5 consecutive failures; it half-opens after 60 s.",
  },
  RATE_LIMITED: {
    message: 'Too many requests',
    retryable: true,
    doc: 'A rate limit or the outbound queue bound was hit; slow down and retry.',
  },
  MEDIA_TOO_LARGE: {
    message: 'The media is larger than the configured cap',
    retryable: false,
    doc: 'Media over `STICKERBOT_MAX_MEDIA_MB` is neither downloaded nor accepted for sending.',
  },
  SHUTTING_DOWN: {
    message: 'The daemon is shutting down',
    retryable: true,
    doc: 'The daemon received SIGTERM/SIGINT and takes no new commands; retry after it is back.',
  },
  INTERNAL: {
    message: 'Internal error',
    retryable: false,
    doc: 'An unexpected failure; the daemon logs the details with the command id.',
  },
} as const satisfies Record<string, { message: string; retryable: boolean; doc: string }>;

/** One of the stable error codes of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** All error codes, in table order. */
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** Zod schema of an error code. */
export const errorCodeSchema = z.enum(ERROR_CODE_LIST);

/** An error as it crosses the bridge: a plain object, never an `Error` instance. */
export const wireErrorSchema = z.object({
  /** Stable machine-readable code. */
  code: errorCodeSchema,
  /** Human-readable explanation, safe to show to an operator. */
  message: z.string().max(4096),
  /** Whether the same command (same id) may succeed if sent again later. */
  retryable: z.boolean(),
});

/** An error as it crosses the bridge. */
export type WireError = z.infer<typeof wireErrorSchema>;

/** Options of a {@link StickerbotError}. */
export interface StickerbotErrorOptions {
  /** What caused it (kept for logs, never sent over the wire). */
  cause?: unknown;
  /** Overrides the code's default `retryable`. */
  retryable?: boolean;
}

/** The typed error used inside every stickerbot process. */
export class StickerbotError extends Error {
  override readonly name = 'StickerbotError';
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message?: string, options: StickerbotErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
  }

  /** The wire shape of this error. */
  toWire(): WireError {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** Builds a wire error for a code, with the table's message unless one is given. */
export function wireError(code: ErrorCode, message?: string): WireError {
  return { code, message: message ?? ERROR_CODES[code].message, retryable: ERROR_CODES[code].retryable };
}

/** Whether a value already has the wire shape (for example an error received from the bridge). */
export function isWireError(value: unknown): value is WireError {
  return wireErrorSchema.safeParse(value).success;
}

/**
 * Turns anything thrown into the wire shape: a {@link StickerbotError} keeps its code, a
 * zod validation error becomes `INVALID_ARGS` naming the fields, a value already in wire
 * shape passes through, and everything else is `INTERNAL`.
 */
export function toWireError(thrown: unknown): WireError {
  if (thrown instanceof StickerbotError) return thrown.toWire();
  if (thrown instanceof z.ZodError) return wireError('INVALID_ARGS', describeZodError(thrown));
  if (isWireError(thrown)) return { code: thrown.code, message: thrown.message, retryable: thrown.retryable };
  if (thrown instanceof Error) return wireError('INTERNAL', thrown.message || ERROR_CODES.INTERNAL.message);
  if (typeof thrown === 'string' && thrown.length > 0) return wireError('INTERNAL', thrown);
  return wireError('INTERNAL');
}

/** Turns an error received from the bridge back into a throwable {@link StickerbotError}. */
export function fromWireError(error: WireError): StickerbotError {
  return new StickerbotError(error.code, error.message, { retryable: error.retryable });
}

/** One line naming each failing field, e.g. `chat: Invalid string; content.type: Invalid input`. */
export function describeZodError(error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  if (error.issues.length > 5) parts.push(`and ${error.issues.length - 5} more`);
  return parts.join('; ');
}
