/**
 * A daemon process for the cross-process tests and `pnpm bench:reload`: the real
 * `createDaemon` (journal, bridge, outbox, auth store in SQLite) in its own process, with
 * the test kit's fake WhatsApp in place of Baileys, driven by its parent over IPC.
 *
 * Whether a session is linked comes from the daemon's own auth store: a session whose
 * stored creds name an account opens by itself (no QR), as a real Baileys login does; an
 * unlinked one shows a QR until the parent "scans" it. So a restarted daemon that comes
 * back without a QR proves the creds survived in SQLite.
 *
 * Parent → child: {@link DaemonRequest}. Child → parent: {@link DaemonReport}.
 * Environment: the daemon's own variables (STICKERBOT_DATA_DIR, STICKERBOT_PORT, ...).
 */
import { readFileSync } from 'node:fs';
import { createDaemon, loadConfig } from '@stickerbot/daemon';
import { createLogger } from '@stickerbot/runtime';
import { createFakeWa, type FakeWaSession } from '@stickerbot/daemon/test-kit';

/** A video a contact sends (the text is its caption): an MP4 file, downloaded `delayMs` slowly. */
export interface InboundVideo {
  file: string;
  delayMs: number;
}

/** A message a contact sends. */
export interface InboundMessage {
  id: string;
  from: string;
  text: string;
  video?: InboundVideo;
}

/** What the parent asks. */
export type DaemonRequest =
  | { t: 'receive'; sessionId: string; messages: InboundMessage[] }
  | { t: 'scan'; sessionId: string }
  | { t: 'status' };

/** A message the bot sent, as a contact receives it. */
export interface SentReport {
  sessionId: string;
  jid: string;
  messageId: string;
  text: string | undefined;
  quotedId: string | undefined;
}

/** What the child reports. */
export type DaemonReport =
  | { t: 'ready'; port: number; token: string }
  | { t: 'qr'; sessionId: string }
  | { t: 'open'; sessionId: string; viaQr: boolean }
  | { t: 'delivered'; ids: string[] }
  | { t: 'sent'; items: SentReport[] }
  | { t: 'status'; sessions: Array<{ sessionId: string; sockets: number; state: string; closes: number }> };

function send(report: DaemonReport): void {
  process.send?.(report);
}

const config = loadConfig(process.env);
const wa = createFakeWa({ frameIntervalMs: 2_000 });
const logger = createLogger({ service: 'stickerbot-daemon', level: config.logLevel, pretty: false });
const BOT_NUMBER = '15550000001';
const scanned = new Set<string>();
const closes = new Map<string, number>();

const daemon = createDaemon(
  {
    logger,
    processMetrics: false,
    socketFactory: (options) => {
      const session = wa.session(options.sessionId);
      const creds = options.auth.creds as { me?: { id: string }; registered?: boolean };
      // Stored creds (written by a previous process through creds.update) mean "linked".
      if (creds.me) session.link({ jid: creds.me.id.split(':')[0] ?? BOT_NUMBER, name: 'stickerbot' });
      const socket = wa.factory(options);
      const sendMessage = socket.sendMessage.bind(socket);
      socket.sendMessage = async (...args) => {
        const sent = await sendMessage(...args);
        flushSent(options.sessionId);
        return sent;
      };
      socket.ev.on('connection.update', (update) => {
        if (update.qr) send({ t: 'qr', sessionId: options.sessionId });
        if (update.connection === 'open') send({ t: 'open', sessionId: options.sessionId, viaQr: scanned.has(options.sessionId) });
        if (update.connection === 'close') closes.set(options.sessionId, (closes.get(options.sessionId) ?? 0) + 1);
      });
      return socket;
    },
  },
  config,
);

/** Links a session as a scanned QR would, once the daemon has started its connection (a staggered start may hold it back a while). */
async function scan(session: FakeWaSession): Promise<void> {
  const socket = await session.waitForSocket();
  const creds = socket.options.auth.creds as { me?: { id: string; name?: string }; registered?: boolean };
  creds.me = { id: `${BOT_NUMBER}:1@s.whatsapp.net`, name: 'stickerbot' };
  creds.registered = true;
  scanned.add(session.id);
  socket.emit('creds.update', { me: creds.me, registered: true });
  session.open({ jid: BOT_NUMBER, name: 'stickerbot' });
}

// Forward what the bot sends, as the contacts see it, as soon as each send returns (a
// SIGKILL right after a send must not hide it from the parent); the timer is a safety net.
const forwarded = new Map<string, number>();
function flushSent(sessionId: string): void {
  const session = wa.session(sessionId);
  const from = forwarded.get(sessionId) ?? 0;
  if (session.sent.length === from) return;
  const items = session.sent.slice(from).map((sent) => {
    const content = sent.content as { text?: string };
    const quoted = (sent.options as { quoted?: { key?: { id?: string } } } | undefined)?.quoted;
    return { sessionId, jid: sent.jid, messageId: sent.message.key.id ?? '', text: content.text, quotedId: quoted?.key?.id };
  });
  forwarded.set(sessionId, session.sent.length);
  send({ t: 'sent', items });
}
setInterval(() => config.sessions.forEach(flushSent), 50).unref();

process.on('message', (raw) => {
  const request = raw as DaemonRequest;
  if (request.t === 'receive') {
    const session = wa.session(request.sessionId);
    for (const message of request.messages) {
      const { id, from, text, video } = message;
      if (!video) {
        session.receiveText({ id, from, text });
        continue;
      }
      const data = readFileSync(video.file);
      session.receiveVideo({ id, from, caption: text, data, mimetype: 'video/mp4' });
      session.media.set(id, { data, delayMs: video.delayMs });
    }
    // Reported only after each upsert's handler returned: Baileys has acked these to WhatsApp by now.
    send({ t: 'delivered', ids: request.messages.map((message) => message.id) });
  } else if (request.t === 'scan') {
    void scan(wa.session(request.sessionId));
  } else {
    send({
      t: 'status',
      sessions: config.sessions.map((id) => {
        const session = wa.session(id);
        return { sessionId: id, sockets: session.connects, state: session.socket?.state ?? 'none', closes: closes.get(id) ?? 0 };
      }),
    });
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void daemon.stop().then(() => process.exit(0));
  });
}

const address = await daemon.start();
send({ t: 'ready', port: address.port, token: daemon.token ?? '' });
