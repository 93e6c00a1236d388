/**
 * Every message of the bridge, once, with what a peer needs beyond its schema: what it
 * is for, when a command's ack fires, whether a repeated id is answered from the record,
 * and the error codes it answers with. The AsyncAPI document, the JSON Schema files and
 * the README's reference are all rendered from this table; the command lists come from
 * the protocol's own command tables, so a new command without its entry here does not
 * compile.
 */
import { z } from 'zod';
import {
  DASHBOARD_NAMESPACE,
  WORKER_NAMESPACE,
  dashboardAuthSchema,
  eventAckSchema,
  workerAuthSchema,
  type DashboardServerToClientEvents,
  type WorkerServerToClientEvents,
} from '../bridge.js';
import { WORKER_COMMANDS, type WorkerCommandName } from '../commands.js';
import {
  DASHBOARD_COMMANDS,
  journalStatusSchema,
  messageSummarySchema,
  sessionErrorSchema,
  sessionListedSchema,
  sessionQrSchema,
  type DashboardCommandName,
} from '../dashboard.js';
import type { ErrorCode } from '../errors.js';
import { journalEntrySchema } from '../events.js';
import { MAX_DELIVERY_BATCH } from '../limits.js';
import { resultSchema } from '../result.js';
import { sessionSchema } from '../session.js';
import {
  exampleDashboardAuth,
  exampleDashboardCommands,
  exampleDashboardEvents,
  exampleEntries,
  exampleEventAck,
  exampleWorkerAuth,
  exampleWorkerCommands,
} from './examples.js';

/** A one-way event. */
export interface EventDoc {
  /** The Socket.IO event name. */
  name: string;
  /** `send`: the daemon emits it; `receive`: the client emits it to the daemon. */
  action: 'send' | 'receive';
  summary: string;
  payload: z.ZodType;
  example: unknown;
}

/** How a repeated command id is answered. */
export type Idempotency = 'recorded' | 'repeated' | 'no-id';

/** A command: the client emits it with its arguments and a Socket.IO ack callback. */
export interface CommandDoc {
  name: string;
  summary: string;
  /** When the daemon calls the ack callback. */
  ackWhen: string;
  idempotency: Idempotency;
  /** Codes this command answers with besides the ones every command can get (`INVALID_ARGS`, `SHUTTING_DOWN`, `INTERNAL`). */
  errors: readonly ErrorCode[];
  args: z.ZodType;
  /** The ack's payload: `{ ok: true, result }` or `{ ok: false, error }`. */
  ack: z.ZodType;
  example: { request: unknown; result: unknown };
}

/** One Socket.IO namespace. */
export interface NamespaceDoc {
  /** Key in the AsyncAPI document and folder of its JSON Schemas. */
  key: 'worker' | 'dashboard';
  address: string;
  summary: string;
  auth: z.ZodType;
  authExample: unknown;
  events: EventDoc[];
  commands: CommandDoc[];
}

/** Codes any command can answer with. */
export const COMMON_ERRORS: readonly ErrorCode[] = ['INVALID_ARGS', 'SHUTTING_DOWN', 'INTERNAL'];

const SESSION_ERRORS: readonly ErrorCode[] = ['SESSION_NOT_FOUND', 'SESSION_NOT_CONNECTED', 'TIMEOUT', 'CIRCUIT_OPEN'];

interface WorkerCommandNotes {
  summary: string;
  ackWhen: string;
  errors: readonly ErrorCode[];
}

const WORKER_NOTES: { [N in WorkerCommandName]: WorkerCommandNotes } = {
  'message:send': {
    summary: 'Sends a text, image, video, sticker or reaction to a chat, optionally quoting a journaled message.',
    ackWhen:
      "After the paced send, not at enqueue: the send is persisted in the session's outbound queue, waits its turn (sends of the session go one at a time, with a gap per session and per chat; a send that quotes or reacts to a user's message of the last 2 minutes in that chat skips the gaps within a small burst budget, decided by the daemon from its journal: see the daemon README, \"Pacing\"), and the ack fires once WhatsApp took the message, with its message id. A retryable WhatsApp failure is retried inside the daemon (up to 5 attempts) before the ack reports it. A caller waits at most 120 s: then the ack is `TIMEOUT` (retryable) while the send stays queued, and the same id later returns its outcome.",
    errors: ['IDEMPOTENCY_CONFLICT', ...SESSION_ERRORS, 'MESSAGE_NOT_FOUND', 'MEDIA_TOO_LARGE', 'RATE_LIMITED'],
  },
  'media:download': {
    summary: "Downloads and decrypts the media of a journaled message, or of one a journaled message quotes (`quotedBy`: for a message the bot never journaled, its media comes from the quote's embedded copy); the result carries the bytes.",
    ackWhen: 'When the media is downloaded and decrypted (deadline 60 s).',
    errors: [...SESSION_ERRORS, 'MESSAGE_NOT_FOUND', 'MEDIA_TOO_LARGE'],
  },
  'message:read': {
    summary: 'Marks messages of one chat as read (blue ticks).',
    ackWhen: 'When the read receipts left for WhatsApp (deadline 30 s).',
    errors: ['IDEMPOTENCY_CONFLICT', ...SESSION_ERRORS],
  },
  'presence:send': {
    summary: 'Sends a presence: `available`/`unavailable`, or `composing`/`recording`/`paused` in a chat (which then needs `chat`).',
    ackWhen: 'When the presence update left for WhatsApp (deadline 30 s).',
    errors: ['IDEMPOTENCY_CONFLICT', ...SESSION_ERRORS],
  },
  'contact:lookup': {
    summary: 'Asks WhatsApp which phone numbers have an account (at most 50 a call).',
    ackWhen: 'When WhatsApp answered (deadline 12 s).',
    errors: SESSION_ERRORS,
  },
  'group:metadata': {
    summary: "A group's subject, description, owner, settings and participants with their admin rights, from the daemon's per-session cache (kept current by participant and settings notifications; dropped when the bot leaves the group).",
    ackWhen: "At once from the daemon's cache; the first time a group is asked for, when WhatsApp answered (deadline 12 s).",
    errors: SESSION_ERRORS,
  },
  'session:list': {
    summary: "Lists the daemon's sessions and their states.",
    ackWhen: "At once, from the daemon's memory.",
    errors: [],
  },
  'daemon:status': {
    summary: "The daemon's protocol version, start time and clock (the worker's `!ping` uses it).",
    ackWhen: 'At once.',
    errors: [],
  },
};

/** The worker commands whose outcome the daemon records under their id (they act on WhatsApp). */
const RECORDED_WORKER_COMMANDS: ReadonlySet<WorkerCommandName> = new Set(['message:send', 'message:read', 'presence:send']);

const DASHBOARD_NOTES: { [N in DashboardCommandName]: WorkerCommandNotes } = {
  'session:subscribe': {
    summary: "Starts receiving one session's `session:changed`, `session:qr`, `session:error` and `message:received`; answers its state, the QR on screen and its last messages.",
    ackWhen: 'At once, after joining the session.',
    errors: ['FORBIDDEN', 'SESSION_NOT_FOUND'],
  },
  'session:unsubscribe': {
    summary: "Stops receiving one session's events.",
    ackWhen: 'At once.',
    errors: ['FORBIDDEN'],
  },
  'session:create': {
    summary: 'Registers a new session (admins only); it is persisted and started.',
    ackWhen: 'At once, with the session registered and `CONNECTING`; its next states arrive as `session:changed` to subscribers.',
    errors: ['FORBIDDEN', 'SESSION_EXISTS'],
  },
  'session:start': {
    summary: 'Connects a stopped session.',
    ackWhen: 'At once, with the session `CONNECTING` (or its state, if it was running); its next states arrive as `session:changed`.',
    errors: ['FORBIDDEN', 'SESSION_NOT_FOUND'],
  },
  'session:stop': {
    summary: 'Stops a session without logging out (it keeps its credentials).',
    ackWhen: 'Once its WhatsApp socket is closed, with the session `STOPPED`.',
    errors: ['FORBIDDEN', 'SESSION_NOT_FOUND'],
  },
  'session:logout': {
    summary: 'Logs a session out of WhatsApp and wipes its credentials.',
    ackWhen: 'Once WhatsApp confirmed the logout (or 30 s passed: the credentials are wiped anyway) and the credentials are wiped, with the session `LOGGED_OUT`.',
    errors: ['FORBIDDEN', 'SESSION_NOT_FOUND'],
  },
  'session:pair': {
    summary: 'Asks for a pairing code, to link by phone number instead of QR.',
    ackWhen: 'When WhatsApp issued the 8-character code.',
    errors: ['FORBIDDEN', 'SESSION_NOT_FOUND', 'TIMEOUT'],
  },
};

function workerCommand<N extends WorkerCommandName>(name: N): CommandDoc {
  return {
    name,
    ...WORKER_NOTES[name],
    idempotency: RECORDED_WORKER_COMMANDS.has(name) ? 'recorded' : 'repeated',
    args: WORKER_COMMANDS[name].args,
    ack: resultSchema(WORKER_COMMANDS[name].result),
    example: exampleWorkerCommands[name],
  };
}

function dashboardCommand<N extends DashboardCommandName>(name: N): CommandDoc {
  return {
    name,
    ...DASHBOARD_NOTES[name],
    idempotency: 'no-id',
    args: DASHBOARD_COMMANDS[name].args,
    ack: resultSchema(DASHBOARD_COMMANDS[name].result),
    example: exampleDashboardCommands[name],
  };
}

type EventEntry = Omit<EventDoc, 'name'>;

function eventList(table: Record<string, EventEntry>): EventDoc[] {
  return Object.entries(table).map(([name, entry]) => ({ name, ...entry }));
}

/** An `events:journaled` packet. */
export const eventsJournaledSchema = z.array(journalEntrySchema).min(1).max(MAX_DELIVERY_BATCH);

/** Every event on `/worker`: the event map's server → worker events, and `event:ack`. */
const WORKER_EVENTS: { [E in keyof WorkerServerToClientEvents | 'event:ack']: EventEntry } = {
  'events:journaled': {
    action: 'send',
    summary: `Journal entries: one packet holds 1 to ${MAX_DELIVERY_BATCH} entries with consecutive \`seq\`s; packets follow each other in \`seq\` order (first the replay after the handshake position, then live). In cluster mode a connection gets its partitions only: \`seq\`s rise but skip, and go back after a takeover once everything sent was acknowledged.`,
    payload: eventsJournaledSchema,
    example: exampleEntries,
  },
  'event:ack': {
    action: 'receive',
    summary: 'Cumulative acknowledgement: every entry up to and including `position` is handled (in cluster mode: every entry received on this connection with `seq <= position`).',
    payload: eventAckSchema,
    example: exampleEventAck,
  },
};

/** Every server → dashboard event of the event map. */
const DASHBOARD_EVENTS: { [E in keyof DashboardServerToClientEvents]: EventEntry } = {
  'session:listed': {
    action: 'send',
    summary: 'The sessions this user may see; sent once after connecting and again after any `session:create`.',
    payload: sessionListedSchema,
    example: exampleDashboardEvents['session:listed'],
  },
  'session:changed': {
    action: 'send',
    summary: 'A subscribed session changed state.',
    payload: sessionSchema,
    example: exampleDashboardEvents['session:changed'],
  },
  'session:qr': {
    action: 'send',
    summary: 'A subscribed session shows a (new) QR to scan, with its expiry.',
    payload: sessionQrSchema,
    example: exampleDashboardEvents['session:qr'],
  },
  'session:error': {
    action: 'send',
    summary: 'A subscribed session failed (connection error, conflict, refused version, deaf connection recycled).',
    payload: sessionErrorSchema,
    example: exampleDashboardEvents['session:error'],
  },
  'message:received': {
    action: 'send',
    summary: 'A subscribed session received a message: a one-line summary, never the content or media.',
    payload: messageSummarySchema,
    example: exampleDashboardEvents['message:received'],
  },
  'journal:status': {
    action: 'send',
    summary: "The journal's end and each consumer group's position, lag and connected workers; on connect and on change.",
    payload: journalStatusSchema,
    example: exampleDashboardEvents['journal:status'],
  },
};

/** Both namespaces, every event and command. */
export const PROTOCOL_NAMESPACES: readonly NamespaceDoc[] = [
  {
    key: 'worker',
    address: WORKER_NAMESPACE,
    summary: 'Bot workers: journaled events in, commands out.',
    auth: workerAuthSchema,
    authExample: exampleWorkerAuth,
    events: eventList(WORKER_EVENTS),
    commands: (Object.keys(WORKER_COMMANDS) as WorkerCommandName[]).map(workerCommand),
  },
  {
    key: 'dashboard',
    address: DASHBOARD_NAMESPACE,
    summary: 'Dashboards: session states, QR codes and message summaries in, session administration out.',
    auth: dashboardAuthSchema,
    authExample: exampleDashboardAuth,
    events: eventList(DASHBOARD_EVENTS),
    commands: (Object.keys(DASHBOARD_COMMANDS) as DashboardCommandName[]).map(dashboardCommand),
  },
];
