import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/index.js';

describe('the README commands table', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const rows = readme.split('\n').filter((line) => line.startsWith('| `!'));

  it('has one row per registered command, with every alias and an example', () => {
    expect(rows).toHaveLength(COMMANDS.length);
    for (const command of COMMANDS) {
      const row = rows.find((line) => line.startsWith(`| \`!${command.name}`));
      expect(row, command.name).toBeDefined();
      for (const alias of command.aliases ?? []) expect(row, `${command.name} alias ${alias}`).toContain(`\`!${alias}\``);
      expect(row?.split(/(?<!\\)\|/).at(-2)?.trim(), `${command.name} example`).toMatch(/`!/);
    }
  });
});
