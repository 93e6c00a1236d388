/**
 * Builds the `/readyz` report: ready when the store is open, the daemon is running and
 * the journal is not full. Sessions' states are reported but do not make the daemon
 * unready: a session waiting for its QR is a normal, serviceable state.
 */
import type { ReadinessReport } from './health-routes.js';
import type { SessionRegistry } from '../session-registry.js';
import type { Journal } from '../storage/index.js';

/** Collaborators of {@link createReadiness}. */
export interface ReadinessDeps {
  isStoreOpen: () => boolean;
  isRunning: () => boolean;
  journal: Journal;
  registry: SessionRegistry;
  /** The last retention pass: `full` when unacknowledged entries passed the bound, `ok: false` also when it failed. */
  retention: () => { ok: boolean; full: boolean; lastError?: string };
}

/** Returns the function `/readyz` calls. */
export function createReadiness(deps: ReadinessDeps): () => ReadinessReport {
  return () => {
    const problems: string[] = [];
    const store = deps.isStoreOpen();
    const running = deps.isRunning();
    if (!store) problems.push('the SQLite store is closed');
    if (!running) problems.push('the daemon is starting or shutting down');
    let journal: ReadinessReport['checks']['journal'] = null;
    if (store) {
      const lastSeq = deps.journal.lastSeq();
      const retention = deps.retention();
      const full = retention.full;
      if (full) problems.push('the journal is full: a consumer group is not acknowledging (see the logs)');
      else if (!retention.ok) problems.push(`journal retention failed: ${retention.lastError ?? 'see the logs'}`);
      journal = {
        lastSeq,
        entries: deps.journal.count(),
        full,
        groups: deps.journal.positions().map(({ group, position }) => ({ group, position, lag: lastSeq - position })),
      };
    }
    const sessions = deps.registry
      .list()
      .map(({ id, status, lastDisconnect, lastError, reconnectAttempts, nextRetryAt, queuedAt }) => ({ id, status, lastDisconnect, lastError, reconnectAttempts, nextRetryAt, queuedAt }));
    return { ready: problems.length === 0, problems, checks: { store, running, journal }, sessions };
  };
}
