import { z } from 'zod';
import { wireErrorSchema } from './errors.js';
import { MAX_NAME_LENGTH } from './limits.js';
import { messageKindSchema } from './message.js';
import { groupNameSchema, jidSchema, messageIdSchema, phoneSchema, positionSchema, sessionIdSchema, timestampSchema } from './primitives.js';
import { sessionSchema } from './session.js';

/** Longest message preview sent to dashboards, in characters. */
export const MAX_PREVIEW_LENGTH = 120;

/** Arguments of the dashboard commands that name one session. */
const sessionArgs = z.object({ sessionId: sessionIdSchema });
/** Result of the dashboard commands that return one session. */
const sessionResult = z.object({ session: sessionSchema });

/** `session:qr`: a QR to scan, pushed again each time WhatsApp rotates it. */
export const sessionQrSchema = z.object({
  sessionId: sessionIdSchema,
  /** The QR string (what the phone's camera reads). */
  qr: z.string().min(1).max(4096),
  /** The QR rendered as a PNG `data:` URL. */
  dataUrl: z.string().startsWith('data:image/png;base64,'),
  /** When WhatsApp will replace it (epoch ms). */
  expiresAt: timestampSchema,
});
/** `session:qr` payload. */
export type SessionQr = z.infer<typeof sessionQrSchema>;

/** `message:received` on `/dashboard`: a one-line summary, never the content or media. */
export const messageSummarySchema = z.object({
  sessionId: sessionIdSchema,
  id: messageIdSchema,
  chat: jidSchema,
  sender: jidSchema,
  fromMe: z.boolean(),
  pushName: z.string().max(MAX_NAME_LENGTH).optional(),
  kind: messageKindSchema,
  /** The text or caption, cut to {@link MAX_PREVIEW_LENGTH} characters. */
  preview: z.string().max(MAX_PREVIEW_LENGTH),
  /** When it was sent (epoch ms). */
  timestamp: timestampSchema,
});
/** `message:received` payload on `/dashboard`. */
export type MessageSummary = z.infer<typeof messageSummarySchema>;

/** How many recent message summaries a `session:subscribe` answer carries at most. */
export const MAX_RECENT_MESSAGES = 20;

/**
 * Every command a dashboard can send on `/dashboard`, with its argument and result
 * schemas. The daemon checks the caller's role and sessions claim on every one.
 */
export const DASHBOARD_COMMANDS = {
  /** Starts receiving one session's `session:changed`, `session:qr`, `session:error` and `message:received`. */
  'session:subscribe': {
    args: sessionArgs,
    result: sessionResult.extend({
      /** The QR the session shows right now, if it waits for one (so the page need not wait for the next rotation). */
      qr: sessionQrSchema.optional(),
      /** The session's last few message summaries, oldest first (at most {@link MAX_RECENT_MESSAGES}). */
      messages: z.array(messageSummarySchema).max(MAX_RECENT_MESSAGES).optional(),
    }),
  },
  /** Stops receiving one session's events. */
  'session:unsubscribe': { args: sessionArgs, result: z.object({}) },
  /** Registers a new session (admins only); it is persisted and started. */
  'session:create': { args: sessionArgs, result: sessionResult },
  /** Starts (connects) a stopped session. */
  'session:start': { args: sessionArgs, result: sessionResult },
  /** Stops a session without logging out (it keeps its credentials). */
  'session:stop': { args: sessionArgs, result: sessionResult },
  /** Logs a session out of WhatsApp and wipes its credentials. */
  'session:logout': { args: sessionArgs, result: sessionResult },
  /** Asks for a pairing code to link by phone number instead of QR. */
  'session:pair': {
    args: z.object({
      sessionId: sessionIdSchema,
      /** The account's phone number, digits only, country code first. */
      phone: phoneSchema,
    }),
    result: z.object({
      /** The 8-character code to type on the phone. */
      code: z.string().length(8),
    }),
  },
} as const satisfies Record<string, { args: z.ZodObject; result: z.ZodType }>;

/** The name of a dashboard command. */
export type DashboardCommandName = keyof typeof DASHBOARD_COMMANDS;
/** The arguments of dashboard command `N`. */
export type DashboardCommandArgs<N extends DashboardCommandName> = z.infer<(typeof DASHBOARD_COMMANDS)[N]['args']>;
/** The success value of dashboard command `N`. */
export type DashboardCommandResult<N extends DashboardCommandName> = z.infer<(typeof DASHBOARD_COMMANDS)[N]['result']>;

/** All dashboard command names. */
export const DASHBOARD_COMMAND_NAMES = Object.keys(DASHBOARD_COMMANDS) as DashboardCommandName[];

/** Whether `name` is a dashboard command. */
export function isDashboardCommandName(name: string): name is DashboardCommandName {
  return Object.hasOwn(DASHBOARD_COMMANDS, name);
}

/** `session:listed`: the sessions this dashboard user may see, sent on connect. */
export const sessionListedSchema = z.object({ sessions: z.array(sessionSchema) });
/** `session:listed` payload. */
export type SessionListed = z.infer<typeof sessionListedSchema>;

/** `session:error`: a session failed (connection error, conflict, refused version, zombie recycle). */
export const sessionErrorSchema = z.object({
  sessionId: sessionIdSchema,
  error: wireErrorSchema,
});
/** `session:error` payload. */
export type SessionErrorPayload = z.infer<typeof sessionErrorSchema>;

/** One consumer group of the journal, as the dashboard shows it. */
export const journalGroupStatusSchema = z.object({
  group: groupNameSchema,
  /** `seq` of the last entry the group acknowledged. */
  position: positionSchema,
  /** Entries journaled after `position` (how far the group is behind). */
  lag: z.number().int().nonnegative(),
  /** Workers of this group connected right now. */
  workers: z.number().int().nonnegative(),
});
/** One consumer group's position, lag and connected workers. */
export type JournalGroupStatus = z.infer<typeof journalGroupStatusSchema>;

/** `journal:status`: the journal's end and every consumer group; sent on connect and whenever it changes. */
export const journalStatusSchema = z.object({
  /** Highest `seq` journaled. */
  lastSeq: positionSchema,
  groups: z.array(journalGroupStatusSchema),
});
/** `journal:status` payload. */
export type JournalStatus = z.infer<typeof journalStatusSchema>;
