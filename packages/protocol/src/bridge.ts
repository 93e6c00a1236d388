import { z } from 'zod';
import { WORKER_COMMANDS, type WorkerCommandArgs, type WorkerCommandName, type WorkerCommandResult } from './commands.js';
import {
  DASHBOARD_COMMANDS,
  type DashboardCommandArgs,
  type DashboardCommandName,
  type DashboardCommandResult,
  type JournalStatus,
  type MessageSummary,
  type SessionErrorPayload,
  type SessionListed,
  type SessionQr,
} from './dashboard.js';
import { describeZodError, StickerbotError } from './errors.js';
import type { JournalEntry } from './events.js';
import { groupNameSchema, positionSchema } from './primitives.js';
import type { Result } from './result.js';
import type { Session } from './session.js';

/** Socket.IO namespace of workers. */
export const WORKER_NAMESPACE = '/worker';
/** Socket.IO namespace of dashboards. */
export const DASHBOARD_NAMESPACE = '/dashboard';
/** The consumer group a worker joins when it names none. */
export const DEFAULT_GROUP = 'bot';

/** The `auth` object a worker presents in the Socket.IO handshake. */
export const workerAuthSchema = z.object({
  /** The bridge token (`STICKERBOT_TOKEN` or the one generated into the data folder). */
  token: z.string().min(1).max(4096),
  /** The worker's {@link PROTOCOL_VERSION}. */
  protocol: z.number().int(),
  /** The consumer group; `bot` ({@link DEFAULT_GROUP}) when absent. */
  group: groupNameSchema.optional(),
  /**
   * The last position this worker acknowledged; the daemon replays everything after it.
   * When absent, the daemon uses the group's stored position.
   */
  position: positionSchema.optional(),
});
/** The `auth` object a worker presents in the Socket.IO handshake. */
export type WorkerAuth = z.infer<typeof workerAuthSchema>;

/** The `auth` object a dashboard presents: the admin token or a dashboard JWT. */
export const dashboardAuthSchema = z.object({
  token: z.string().min(1).max(8192),
  /** The page's {@link PROTOCOL_VERSION}; checked when present. */
  protocol: z.number().int().optional(),
});
/** The `auth` object a dashboard presents. */
export type DashboardAuth = z.infer<typeof dashboardAuthSchema>;

/**
 * `event:ack`: the worker has handled every entry up to and including `position`
 * (cumulative). In cluster mode: every entry received on this connection with
 * `seq <= position` (it may go back after a partition takeover).
 */
export const eventAckSchema = z.object({ position: positionSchema });
/** `event:ack` payload. */
export type EventAck = z.infer<typeof eventAckSchema>;

/** The Socket.IO acknowledgement callback of a command: called once with its {@link Result}. */
export type Ack<T> = (result: Result<T>) => void;

/**
 * Server → worker events on `/worker`. A refused handshake arrives as a `connect_error`
 * whose `data` is a {@link WireError} (`UNAUTHORIZED`, `PROTOCOL_MISMATCH`, `INVALID_ARGS`).
 */
export interface WorkerServerToClientEvents {
  /**
   * Journal entries, replayed after the worker's position, then live: one packet holds 1 to
   * `MAX_DELIVERY_BATCH` entries with consecutive `seq`s, and packets follow each
   * other in `seq` order (in cluster mode a connection receives its partitions only: `seq`s
   * rise but are not consecutive, and go back after a partition takeover; README, "Cluster
   * mode"). Live entries travel alone unless they queued up behind a busy connection; a
   * replay sends its batches whole (one packet costs about what one entry does, so
   * batching is most of the bridge's throughput).
   */
  'events:journaled': (entries: readonly JournalEntry[]) => void;
}

/** Worker → server events on `/worker`: every worker command with its ack callback, and `event:ack`. */
export type WorkerClientToServerEvents = {
  [N in WorkerCommandName]: (args: WorkerCommandArgs<N>, ack: Ack<WorkerCommandResult<N>>) => void;
} & {
  /** Cumulative acknowledgement of handled entries. */
  'event:ack': (ack: EventAck) => void;
};

/** Server → dashboard events on `/dashboard`. */
export interface DashboardServerToClientEvents {
  /** The sessions this user may see; sent once after connecting and after any create. */
  'session:listed': (payload: SessionListed) => void;
  /** A subscribed session changed state. */
  'session:changed': (session: Session) => void;
  /** A subscribed session shows a (new) QR. */
  'session:qr': (payload: SessionQr) => void;
  /** A subscribed session failed. */
  'session:error': (payload: SessionErrorPayload) => void;
  /** A subscribed session received a message (summary only). */
  'message:received': (summary: MessageSummary) => void;
  /** The journal's consumer groups (position, lag, connected workers); on connect and on change. */
  'journal:status': (status: JournalStatus) => void;
}

/** Dashboard → server events on `/dashboard`: every dashboard command with its ack callback. */
export type DashboardClientToServerEvents = {
  [N in DashboardCommandName]: (args: DashboardCommandArgs<N>, ack: Ack<DashboardCommandResult<N>>) => void;
};

/**
 * Parses an inbound payload with its schema, throwing `INVALID_ARGS` naming the failing
 * fields. Use at every edge before any logic touches the payload.
 */
export function parsePayload<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new StickerbotError('INVALID_ARGS', `${what}: ${describeZodError(parsed.error)}`, { cause: parsed.error });
}

/** Parses the arguments of worker command `name` (throws `INVALID_ARGS`). */
export function parseWorkerCommandArgs<N extends WorkerCommandName>(name: N, raw: unknown): WorkerCommandArgs<N> {
  return parsePayload(WORKER_COMMANDS[name].args, raw, name) as WorkerCommandArgs<N>;
}

/** Parses the arguments of dashboard command `name` (throws `INVALID_ARGS`). */
export function parseDashboardCommandArgs<N extends DashboardCommandName>(name: N, raw: unknown): DashboardCommandArgs<N> {
  return parsePayload(DASHBOARD_COMMANDS[name].args, raw, name) as DashboardCommandArgs<N>;
}
