import type { CommandDefinition } from './define-command.js';

/** The chat commands by name and alias. */
export interface CommandRegistry {
  /** The command a word (name or alias, any case) runs. */
  find(word: string): CommandDefinition | undefined;
  /** Every command, in registration order. */
  list(): readonly CommandDefinition[];
  /** Every word that runs a command. */
  words(): readonly string[];
}

/** Builds the registry, refusing duplicate names or aliases. */
export function createCommandRegistry(commands: readonly CommandDefinition[]): CommandRegistry {
  const byWord = new Map<string, CommandDefinition>();
  for (const command of commands) {
    for (const word of [command.name, ...(command.aliases ?? [])]) {
      const key = word.toLowerCase();
      const existing = byWord.get(key);
      if (existing) throw new Error(`chat command word "${key}" is claimed by both ${existing.name} and ${command.name}`);
      byWord.set(key, command);
    }
  }
  const words = [...byWord.keys()];
  return {
    find: (word) => byWord.get(word.toLowerCase()),
    list: () => commands,
    words: () => words,
  };
}
