/**
 * Thrown by the daemon's and the worker's `loadConfig` when the environment is invalid
 * (CONVENTIONS §9: every problem reported at once). `problems` has one line per bad
 * variable, each naming it; the message lists them all, ready for stderr.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}
