/**
 * The emulator side of `pnpm dev --sim`: starts the loopback WhatsApp emulator
 * (packages/wa-sim) as its own process, links the daemon's session by having a fake primary
 * phone scan the QR the daemon pushes to its dashboard namespace, and gives the terminal a
 * fake contact: every line typed is sent to the bot, every answer is printed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { io, type Socket } from 'socket.io-client';

/** The emulator process and its endpoints. */
export interface Emulator {
  child: ChildProcess;
  wsUrl: string;
  adminUrl: string;
  caFile: string;
}

/**
 * Forks packages/wa-sim/src/main.ts; resolves once it listens. Its log (pino JSON, the
 * libraries' console output routed into it) comes on stderr; its stdout carries only the
 * ready line, which comes over IPC too, so it is not read.
 */
export function startEmulator(root: string, dataDir: string, env: NodeJS.ProcessEnv): Promise<Emulator> {
  const caFile = join(dataDir, 'wa-sim-ca.pem');
  const child = fork(join(root, 'packages/wa-sim/src/main.ts'), [], {
    cwd: root,
    env: { ...env, WA_SIM_CA_FILE: caFile, WA_SIM_LOG: env.WA_SIM_LOG ?? 'warn' },
    execArgv: ['--import', 'tsx', '--conditions=@stickerbot/source'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    detached: true,
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the emulator exited before it was ready (code ${code ?? 'signal'})`)));
    child.on('message', (message) => {
      const ready = message as { type?: string; wsUrl?: string; adminUrl?: string };
      if (ready.type === 'ready' && ready.wsUrl && ready.adminUrl) resolve({ child, wsUrl: ready.wsUrl, adminUrl: ready.adminUrl, caFile });
    });
  });
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json: unknown = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Watches the daemon's sessions on `/dashboard` with the admin token and lets the
 * emulator's fake primary phone scan every QR they show. Returns the dashboard socket.
 * Several watchers (one per daemon of `--cluster`) share `scanned` so a QR is scanned once.
 */
export function scanQrCodes(options: {
  bridgeUrl: string;
  token: string;
  adminUrl: string;
  /** The sessions to watch, each with the emulator phone that scans its QR. */
  phones: Readonly<Record<string, string>>;
  say: (line: string) => void;
  scanned?: Set<string>;
}): Socket {
  const socket = io(`${options.bridgeUrl}/dashboard`, { auth: { token: options.token }, transports: ['websocket'] });
  socket.on('connect', () => {
    for (const sessionId of Object.keys(options.phones)) socket.emit('session:subscribe', { sessionId }, () => undefined);
  });
  socket.on('connect_error', (err: Error) => options.say(`dashboard: ${err.message}`));
  socket.on('session:qr', (payload: { sessionId: string; qr: string }) => {
    const phone = options.phones[payload.sessionId];
    if (phone === undefined || options.scanned?.has(payload.qr)) return;
    options.scanned?.add(payload.qr);
    options.say(`session ${payload.sessionId} shows a QR: the emulator's phone +${phone} scans it`);
    post(`${options.adminUrl}/scan-qr`, { qr: payload.qr, phone }).then(
      () => options.say(`session ${payload.sessionId} linked (WhatsApp then asks for one reconnect: Baileys logs a 515 "stream errored out", which is normal)`),
      (err: unknown) => options.say(`scan failed: ${String(err)}`),
    );
  });
  return socket;
}

/**
 * A fake contact in the terminal: each line typed on stdin is a WhatsApp message to the
 * bot; the bot's answers are printed. Returns a function that stops it.
 */
export function chatFromTerminal(options: { adminUrl: string; phone: string; name: string; botPhone: string; say: (line: string) => void }): () => void {
  let stopped = false;
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (text) => {
    if (text.trim() === '') return;
    post(`${options.adminUrl}/phones/${options.phone}/text`, { text, name: options.name, to: options.botPhone }).catch((err: unknown) =>
      options.say(`could not send: ${String(err)}`),
    );
  });
  void (async () => {
    while (!stopped) {
      try {
        const response = await fetch(`${options.adminUrl}/phones/${options.phone}/next-message?timeoutMs=15000`);
        if (!response.ok) continue;
        const message = (await response.json()) as { text?: string | null; mediaType?: string | null };
        const body = message.text ?? (message.mediaType ? `[${message.mediaType}]` : '[message]');
        options.say(`bot → ${options.name}: ${body.replace(/\n/g, '\n    ')}`);
      } catch {
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  })();
  return () => {
    stopped = true;
    lines.close();
  };
}
