import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { sha256 } from '../crypto/primitives.js';
import type { TestTls } from './test-tls.js';

const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

/** Where a stored blob can be fetched. */
export interface StoredMedia {
  /** Path and query, as messages carry it in `directPath`. */
  readonly directPath: string;
  /** `https://127.0.0.1:P<directPath>&mms3=true` */
  readonly url: string;
}

/** A loopback HTTPS host for encrypted media: uploads from clients, downloads by direct path. */
export interface MediaHost {
  /** `127.0.0.1:P`, as `media_conn` advertises it. */
  readonly hostname: string;
  /** The token uploads must carry as `auth`. */
  readonly auth: string;
  put(blob: Buffer): StoredMedia;
  /** The blob behind a direct path or url, if stored. */
  get(pathOrUrl: string): Buffer | undefined;
  close(): Promise<void>;
}

const pathOf = (pathOrUrl: string): string => new URL(pathOrUrl, 'https://127.0.0.1').pathname;

const readBody = async (req: IncomingMessage): Promise<Buffer | undefined> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_UPLOAD_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

export async function startMediaHost(tls: TestTls, log: Logger): Promise<MediaHost> {
  const blobs = new Map<string, Buffer>();
  const auth = randomBytes(24).toString('base64url');
  let hostname = '';

  const put = (blob: Buffer): StoredMedia => {
    const directPath = `/v/t62.7118-24/${randomBytes(12).toString('hex')}.enc?ccb=11-4&oh=sim&oe=sim`;
    blobs.set(pathOf(directPath), blob);
    return { directPath, url: `https://${hostname}${directPath}&mms3=true` };
  };

  const upload = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (url.searchParams.get('auth') !== auth) {
      res.writeHead(401).end();
      return;
    }
    const body = await readBody(req);
    if (!body) {
      res.writeHead(413).end();
      return;
    }
    if (url.searchParams.get('token') !== sha256(body).toString('base64url')) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'token mismatch' }));
      return;
    }
    const stored = put(body);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ url: stored.url, direct_path: stored.directPath }));
  };

  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', `https://${hostname}`);
    if (req.method === 'POST' && url.pathname.startsWith('/mms/')) {
      upload(req, res, url).catch((err: unknown) => {
        log.warn({ err }, 'media upload failed');
        res.writeHead(500).end();
      });
      return;
    }
    const blob = req.method === 'GET' ? blobs.get(url.pathname) : undefined;
    if (!blob) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length }).end(blob);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  hostname = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    get hostname() {
      return hostname;
    },
    auth,
    put,
    get: (pathOrUrl) => blobs.get(pathOf(pathOrUrl)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
