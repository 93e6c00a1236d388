/**
 * Rendering a login QR: as plain text lines for a terminal or a log file (`pm2 logs`), and
 * as a PNG `data:` URL for dashboards.
 */
import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import type QRCodeModule from 'qrcode';
import type { LoginHelp } from './login-help.js';

const load = createRequire(import.meta.url);
/** The QR encoder, loaded when the first QR is drawn: a daemon whose sessions are linked never needs it. */
const qrcode = (): typeof QRCodeModule => load('qrcode') as typeof QRCodeModule;

/** Prints a QR for an operator; receives the session id and the QR string. */
export type QrPrinter = (sessionId: string, qr: string, expiresAt: number) => void;

/**
 * `STICKERBOT_QR_TERMINAL`: `auto` prints the text QR on stderr unless stderr is the very
 * file or pipe stdout's JSON log lines go to (and not a terminal); `always` and `never` decide alone.
 */
export const QR_TERMINAL_MODES = ['auto', 'always', 'never'] as const;
/** One of {@link QR_TERMINAL_MODES}. */
export type QrTerminalMode = (typeof QR_TERMINAL_MODES)[number];

/**
 * Modules of light margin around the code. The standard asks for four; two keep the block
 * four columns narrower, which counts in a terminal behind pm2's `0|stickerbot-daemon | `
 * line prefix, and phone scanners read it.
 */
const QUIET_ZONE = 2;

/**
 * The QR's content as one byte-mode segment. Given the plain string, `qrcode` searches the
 * cheapest mix of numeric, alphanumeric and byte segments (a shortest path over a graph of
 * every split), which for a WhatsApp login QR allocated about 5 MB per rendering: with a
 * hundred sessions linking and each QR drawn twice (text, PNG), the largest garbage of a
 * login after Baileys' own (issue #16).
 */
const byteSegments = (qr: string): QRCodeModule.QRCodeSegment[] => [{ data: Buffer.from(qr, 'utf8'), mode: 'byte' }];

// Two modules a character (upper, lower), light modules drawn in the terminal's foreground:
// on a dark background (what terminals and `pm2 logs` mostly have) this is dark-on-light,
// the polarity scanners expect. Byte mode, error correction L, as WhatsApp Web's own QR.
const HALF_BLOCKS = { lightLight: '█', lightDark: '▀', darkLight: '▄', darkDark: ' ' } as const;

/**
 * The QR as lines of Unicode half blocks inside a light quiet zone, without colour codes
 * (which a log file would keep as noise), so it scans from a terminal, `pm2 logs` or `less` alike.
 */
export function renderQrText(qr: string): string {
  const { modules } = qrcode().create(byteSegments(qr), { errorCorrectionLevel: 'L' });
  const size = modules.size;
  const total = size + 2 * QUIET_ZONE;
  const dark = (row: number, col: number): boolean => {
    const r = row - QUIET_ZONE;
    const c = col - QUIET_ZONE;
    return r >= 0 && r < size && c >= 0 && c < size && modules.get(r, c) !== 0;
  };
  const lines: string[] = [];
  // An odd count leaves one extra light row at the bottom: more quiet zone, never less.
  for (let row = 0; row < total; row += 2) {
    let line = '';
    for (let col = 0; col < total; col += 1) {
      const top = dark(row, col);
      const bottom = dark(row + 1, col);
      line += top ? (bottom ? HALF_BLOCKS.darkDark : HALF_BLOCKS.darkLight) : bottom ? HALF_BLOCKS.lightDark : HALF_BLOCKS.lightLight;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/**
 * A printer of the QR as text on `stream` (default stderr: stdout carries the JSON logs),
 * with the session id, the expiry and, once known, where else to link: the dashboard, the
 * admin token, `pnpm link:session`. Each QR is one write, so nothing else lands inside it.
 */
export function terminalQrPrinter(stream: NodeJS.WritableStream = process.stderr, help?: () => LoginHelp | undefined): QrPrinter {
  return (sessionId, qr, expiresAt) => {
    const until = new Date(expiresAt).toISOString().slice(11, 19);
    const where = help?.();
    const also = where
      ? [
          `Or open ${where.dashboard} (admin token: ${where.tokenLocation}),`,
          `or run \`pnpm link:session ${sessionId} --phone <number>\` for a pairing code.`,
        ]
      : [];
    const text = [
      '',
      `WhatsApp login for session "${sessionId}": scan with WhatsApp > Linked devices (valid until ${until} UTC)`,
      renderQrText(qr),
      ...also,
      '',
    ].join('\n');
    stream.write(text);
  };
}

/** A printer that prints nothing (tests, headless daemons that use the dashboard). */
export const silentQrPrinter: QrPrinter = () => undefined;

/** What {@link shouldPrintQr} looks at: stderr, and the stdout it may share a file with. */
export interface QrStreams {
  readonly stderrIsTty: boolean;
  /** Whether stderr is the same file, pipe or socket as stdout (`2>&1`, systemd's journal stream). */
  readonly stderrIsStdout: boolean;
}

/** Where a daemon prints the text QR, and what that stream is. */
export interface QrOutput {
  readonly stream: NodeJS.WritableStream;
  readonly streams: QrStreams;
}

/** This process's stderr, for a process entry (`main.ts`) to hand to `createDaemon`. */
export function processQrOutput(): QrOutput {
  return { stream: process.stderr, streams: processQrStreams() };
}

/** The streams of this process (file descriptors 1 and 2). */
function processQrStreams(): QrStreams {
  let stderrIsStdout = false;
  try {
    const out = fstatSync(1);
    const err = fstatSync(2);
    stderrIsStdout = out.dev === err.dev && out.ino === err.ino;
  } catch {
    // A closed descriptor: nobody reads it anyway.
  }
  return { stderrIsTty: process.stderr.isTTY === true, stderrIsStdout };
}

/**
 * Whether to print the text QR. `auto` prints on a terminal, and off a terminal whenever
 * stderr is its own file (pm2's `daemon.err.log`, docker's stderr): there nobody parses
 * JSON lines, while in a file shared with stdout the QR text would break JSON-lines readers.
 */
export function shouldPrintQr(mode: QrTerminalMode, streams: QrStreams): boolean {
  if (mode !== 'auto') return mode === 'always';
  return streams.stderrIsTty || !streams.stderrIsStdout;
}

/** The QR as a PNG `data:` URL. */
export function qrDataUrl(qr: string): Promise<string> {
  return qrcode().toDataURL(byteSegments(qr), { errorCorrectionLevel: 'L', margin: 2, scale: 6 });
}
