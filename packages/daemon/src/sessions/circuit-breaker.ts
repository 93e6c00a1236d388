/**
 * A per-session circuit breaker (DESIGN §3): after 5 consecutive failures it opens and
 * fails fast with `CIRCUIT_OPEN`; after 60 s it half-opens and lets one trial call
 * through, whose outcome closes or re-opens it. Caller errors (bad arguments, unknown
 * message, media too large) and definite refusals are not WhatsApp failures and do not count.
 */
import { StickerbotError, type ErrorCode } from '@stickerbot/protocol';

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before half-opening (ms, default 60 s). */
  openMs?: number;
  /** Clock (epoch ms). */
  now?: () => number;
  /** Called when the state changes. */
  onStateChange?: (state: CircuitState) => void;
}

/** Default breaker: open after 5 failures, half-open after 60 s. */
export const DEFAULT_CIRCUIT = { failureThreshold: 5, openMs: 60_000 } as const;

/** `closed` (normal), `open` (failing fast), `half-open` (one trial allowed). */
export type CircuitState = 'closed' | 'open' | 'half-open';

const CALLER_ERRORS = new Set<ErrorCode>(['INVALID_ARGS', 'MESSAGE_NOT_FOUND', 'MEDIA_TOO_LARGE', 'SESSION_NOT_FOUND', 'SESSION_NOT_CONNECTED', 'CIRCUIT_OPEN', 'SHUTTING_DOWN']);

/**
 * Whether an error says something about WhatsApp's health (and counts towards opening):
 * timeouts and transient failures do; caller errors and definite refusals (a retry would
 * get the same answer, e.g. expired media) do not.
 */
export function countsAsFailure(error: unknown): boolean {
  if (!(error instanceof StickerbotError)) return true;
  return error.retryable && !CALLER_ERRORS.has(error.code);
}

/** A circuit breaker around async operations. */
export interface CircuitBreaker {
  readonly state: CircuitState;
  /** Consecutive failures counted so far. */
  readonly failures: number;
  /** Runs `operation` unless the circuit is open (then throws `CIRCUIT_OPEN`). */
  run<T>(operation: () => Promise<T>): Promise<T>;
  /** Closes the circuit (e.g. after a fresh connection). */
  reset(): void;
}

/** Creates a circuit breaker. */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const threshold = options.failureThreshold ?? DEFAULT_CIRCUIT.failureThreshold;
  const openMs = options.openMs ?? DEFAULT_CIRCUIT.openMs;
  const now = options.now ?? Date.now;
  let state: CircuitState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let trialInFlight = false;

  const setState = (next: CircuitState) => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };

  const admit = () => {
    if (state === 'open' && now() - openedAt >= openMs) setState('half-open');
    if (state === 'open' || (state === 'half-open' && trialInFlight)) {
      const retryInS = Math.max(0, Math.ceil((openedAt + openMs - now()) / 1000));
      throw new StickerbotError('CIRCUIT_OPEN', `${failures} consecutive WhatsApp failures; failing fast (retry in ~${retryInS} s)`);
    }
    if (state === 'half-open') trialInFlight = true;
  };

  return {
    get state() {
      if (state === 'open' && now() - openedAt >= openMs) return 'half-open';
      return state;
    },
    get failures() {
      return failures;
    },
    async run<T>(operation: () => Promise<T>): Promise<T> {
      admit();
      try {
        const result = await operation();
        failures = 0;
        trialInFlight = false;
        setState('closed');
        return result;
      } catch (error) {
        trialInFlight = false;
        if (countsAsFailure(error)) {
          failures += 1;
          if (state === 'half-open' || failures >= threshold) {
            openedAt = now();
            setState('open');
          }
        } else if (state === 'half-open') {
          setState('closed');
        }
        throw error;
      }
    },
    reset() {
      failures = 0;
      trialInFlight = false;
      setState('closed');
    },
  };
}
