/**
 * What `pnpm dev` prints: every line of its children's output prefixed by the process
 * (`daemon │`, `worker │`, `wa-sim │`), every pino record one line (`formatLogRecord`: time,
 * level, module and session, message, fields). Lines that are not records (a crash's stack,
 * tsx watch's restart notes) pass as they are; the processes route their libraries'
 * `console.*` into their loggers, so nothing else lands here.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { formatLogRecord } from '@stickerbot/runtime';

/** How the relayed lines look and where they go. */
export interface DevOutput {
  /** ANSI colours (a terminal that shows them). */
  readonly colour: boolean;
  /** Writes text (whole lines) to the terminal. */
  write(text: string): void;
  /** Width of the name column (default 6; `pnpm dev --cluster` names `daemon1`…). */
  readonly nameWidth?: number;
}

/** The `name │ ` column in front of every line; `tint` is an ANSI colour code (`36` cyan). */
export function linePrefix(name: string, tint: string, colour: boolean, width = 6): string {
  const padded = name.padEnd(width);
  return colour ? `\x1b[${tint}m${padded}\x1b[0m │ ` : `${padded} │ `;
}

/** Relays each line of `streams` to `output`, prefixed; a pino record formatted as one line. */
export function relayLines(name: string, tint: string, streams: ReadonlyArray<Readable | null>, output: DevOutput): void {
  const prefix = linePrefix(name, tint, output.colour, output.nameWidth);
  for (const stream of streams) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      output.write(`${prefix}${formatLogRecord(line, { colour: output.colour }) ?? line}\n`);
    });
  }
}
