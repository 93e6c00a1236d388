import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { proto } from '@whiskeysockets/baileys';
import { z } from 'zod';
import type { ReceivedMessage } from '../e2e/mailbox.js';
import { SimProtocolError } from '../errors.js';
import {
  createGroupBody,
  editBody,
  participantsBody,
  subjectBody,
  faultsBody,
  kickBody,
  pairingCodeBody,
  phoneParam,
  provisionBody,
  reactBody,
  readBody,
  receiptsQuery,
  revokeBody,
  scanQrBody,
  sendMediaBody,
  sendTextBody,
  unlinkBody,
} from './admin-schemas.js';
import type { QuoteRef } from './phone.js';
import type { Sim } from './sim.js';

const MAX_BODY_BYTES = 80 * 1024 * 1024;

/** The loopback admin API of an emulator, for daemons and harnesses in other processes. */
export interface AdminServer extends AsyncDisposable {
  /** `http://127.0.0.1:P` */
  readonly url: string;
  close(): Promise<void>;
}

type Route = (input: { body: unknown; pn: string; jid: string; query: URLSearchParams }) => unknown;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const readJson = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
};

const parse = <T extends z.ZodType>(schema: T, value: unknown): z.infer<T> => {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, z.prettifyError(result.error));
  return result.data;
};

const messageJson = (message: proto.IMessage): unknown =>
  proto.Message.toObject(proto.Message.fromObject(message), { longs: Number, bytes: String });

/**
 * Serves the in-process control API over HTTP on 127.0.0.1, JSON in and out. Messages and
 * quotes are kept per phone so a remote caller can quote by id. Media of received messages
 * is returned decrypted (base64) after the HMAC and hash checks.
 */
export async function startAdminServer(sim: Sim, port = 0): Promise<AdminServer> {
  const known = new Map<string, QuoteRef>();
  const remember = (id: string, message: proto.IMessage, participant?: string) =>
    known.set(id, { id, message, ...(participant ? { participant } : {}) });

  const receivedJson = (pn: string, received: ReceivedMessage) => {
    const phone = sim.phone(pn);
    let media: string | undefined;
    try {
      if (received.mediaType) media = phone.downloadMedia(received).toString('base64');
    } catch (err) {
      throw new HttpError(502, `media of ${received.id} failed verification: ${(err as Error).message}`);
    }
    const author = received.from.replace(/:\d+@/, '@');
    // In a group the quote names the author by its address there (its LID in `lid` groups).
    remember(received.id, received.message, received.group ? sim.groups.get(received.group).memberJid(author.split('@')[0] ?? '') : author);
    return {
      id: received.id,
      from: received.from,
      group: received.group,
      text: received.text,
      encType: received.encType,
      mediaType: received.mediaType,
      destinationJid: received.destinationJid,
      message: messageJson(received.message),
      media,
    };
  };

  /** How a phone's own message is quoted later: by its JID, or its address in the group. */
  const ownAddress = (pn: string, group: string | undefined): string => (group ? sim.groups.get(group).memberJid(pn) : sim.phone(pn).jid);

  const groupJson = (jid: string) => {
    const group = sim.groups.get(jid);
    return {
      jid: group.jid,
      subject: group.subject,
      addressingMode: group.addressingMode,
      inviteCode: group.inviteCode,
      members: group.members.map((pn) => ({ pn, jid: group.memberJid(pn), role: group.roleOf(pn) })),
    };
  };

  const quoteOf = (id: string | undefined): QuoteRef | undefined => {
    if (!id) return undefined;
    const quote = known.get(id);
    if (!quote) throw new HttpError(404, `no message ${id} to quote`);
    return quote;
  };

  const routes: Readonly<Record<string, Route>> = {
    'GET /status': () => ({
      url: sim.url,
      mediaCa: sim.media.ca,
      mediaHost: sim.world.media.hostname,
      accounts: sim.world.directory.all().map((a) => ({
        pn: a.pn,
        lid: a.lid,
        devices: [...a.companions.keys()].map((deviceId) => ({ deviceId, online: sim.isOnline(a.pn, deviceId) })),
      })),
    }),
    'GET /connections': () => sim.connections(),
    'GET /transcript': () => ({ transcript: sim.transcript() }),
    // The pairing QRs the emulator issued and waits for a scan of: each client shows
    // `ref,base64(noiseKey),base64(identityKey),advSecret,platform`, the first three fixed here.
    'GET /registrations': () => ({
      registrations: [...new Set(sim.world.registrations.values())].map((r) => ({
        refs: r.refs,
        noiseKey: r.noiseKey.toString('base64'),
        identityKey: r.identityKey.toString('base64'),
      })),
    }),
    'GET /unhandled': () => ({ unhandled: sim.unhandled.map((u) => u.key), problems: sim.problems }),
    'POST /scan-qr': async ({ body }) => {
      const { qr, phone } = parse(scanQrBody, body);
      return sim.scanQr(qr, { phone });
    },
    'POST /pairing-code': async ({ body }) => {
      const { code, phone } = parse(pairingCodeBody, body);
      return sim.enterPairingCode(code, { phone });
    },
    'POST /phones/:pn/text': async ({ body, pn }) => {
      const { text, quotedId, name, ...options } = parse(sendTextBody, body);
      const quoted = quoteOf(quotedId);
      const sent = await sim.phone(pn, name ? { name } : {}).sendText(text, { ...options, ...(quoted ? { quoted } : {}) });
      remember(sent.id, sent.message, ownAddress(pn, options.group));
      return { id: sent.id };
    },
    'POST /phones/:pn/media': async ({ body, pn }) => {
      const { kind, data, name, ...options } = parse(sendMediaBody, body);
      const sent = await sim.phone(pn, name ? { name } : {}).sendMedia(kind, Buffer.from(data, 'base64'), options);
      remember(sent.id, sent.message, ownAddress(pn, options.group));
      return { id: sent.id };
    },
    'POST /phones/:pn/provision': async ({ body, pn }) => {
      const account = await sim.provisionAccount(pn, parse(provisionBody, body ?? {}));
      return { ...account, groups: account.groups.map((group) => group.jid) };
    },
    'POST /groups': ({ body }) => {
      const group = sim.groups.create(parse(createGroupBody, body));
      return groupJson(group.jid);
    },
    'GET /groups/:jid': ({ jid }) => groupJson(jid),
    'POST /groups/:jid/participants': ({ body, jid }) => {
      const { by, action, phones } = parse(participantsBody, body);
      const group = sim.groups.get(jid);
      if (action === 'leave') group.leave(by);
      else group[action](by, phones);
      return groupJson(jid);
    },
    'POST /groups/:jid/subject': ({ body, jid }) => {
      const { by, subject } = parse(subjectBody, body);
      sim.groups.get(jid).setSubject(by, subject);
      return groupJson(jid);
    },
    'POST /phones/:pn/react': async ({ body, pn }) => {
      const { messageId, emoji, to } = parse(reactBody, body);
      const sent = await sim.phone(pn).react(messageId, emoji, to ? { to } : {});
      return { id: sent.id };
    },
    'POST /phones/:pn/edit': async ({ body, pn }) => {
      const { messageId, text, to } = parse(editBody, body);
      return { id: (await sim.phone(pn).edit(messageId, text, to ? { to } : {})).id };
    },
    'POST /phones/:pn/revoke': async ({ body, pn }) => {
      const { messageId, to } = parse(revokeBody, body);
      return { id: (await sim.phone(pn).revoke(messageId, to ? { to } : {})).id };
    },
    'POST /phones/:pn/read': ({ body, pn }) => {
      const { messageIds, to } = parse(readBody, body);
      sim.phone(pn).read(messageIds, to ? { to } : {});
      return {};
    },
    'GET /phones/:pn/next-message': async ({ pn, query }) => {
      const timeoutMs = Number(query.get('timeoutMs') ?? 20_000);
      return receivedJson(pn, await sim.phone(pn).nextMessage(Number.isFinite(timeoutMs) ? timeoutMs : 20_000));
    },
    'POST /kick': ({ body }) => {
      const { phone, deviceId, mode } = parse(kickBody, body);
      sim.kick(phone, deviceId, mode);
      return {};
    },
    'POST /unlink': ({ body }) => {
      const { phone, deviceId } = parse(unlinkBody, body);
      sim.unlink(phone, deviceId);
      return {};
    },
    'POST /faults': ({ body }) => {
      const faults = parse(faultsBody, body);
      if (faults.clear) sim.faults.clear();
      if (faults.failLogins) sim.faults.failLogins(faults.failLogins.reason, faults.failLogins.count);
      if (faults.rejectNextMessage !== undefined) sim.faults.rejectNextMessage(faults.rejectNextMessage);
      if (faults.blackhole) sim.faults.blackhole(faults.blackhole.phone, faults.blackhole.deviceId);
      if (faults.withholdHistorySync) sim.faults.withholdHistorySync();
      if (faults.withholdSenderKey) sim.faults.withholdSenderKey(faults.withholdSenderKey);
      if (faults.loseSenderKey) sim.faults.loseSenderKey(faults.loseSenderKey);
      return {};
    },
    'GET /receipts': ({ query }) => {
      const { messageId } = parse(receiptsQuery, { messageId: query.get('messageId') ?? '' });
      return { receipts: sim.receiptsFor(messageId) };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const match = /^\/phones\/([^/]+)(\/.*)$/.exec(url.pathname);
    const groupMatch = /^\/groups\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const pn = match ? parse(phoneParam, decodeURIComponent(match[1] ?? '')) : '';
    const jid = groupMatch ? decodeURIComponent(groupMatch[1] ?? '') : '';
    const path = match ? `/phones/:pn${match[2] ?? ''}` : groupMatch ? `/groups/:jid${groupMatch[2] ?? ''}` : url.pathname;
    const key = `${req.method ?? 'GET'} ${path}`;
    const route = routes[key];
    if (!route) throw new HttpError(404, `no route ${key}`);
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const result = await route({ body, pn, jid, query: url.searchParams });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result ?? {}));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof SimProtocolError ? 409 : 500;
      const code = err instanceof SimProtocolError ? err.code : undefined;
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: (err as Error).message, ...(code ? { code } : {}) }));
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close, [Symbol.asyncDispose]: close };
}
