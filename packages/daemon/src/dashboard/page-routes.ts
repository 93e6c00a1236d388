/**
 * Serves the dashboard page (plain HTML, CSS and ES modules in `page/`) on the
 * bridge port under `/dashboard/`; `/` redirects there. The page loads the Socket.IO client
 * that Socket.IO itself serves at `/socket.io/socket.io.min.js`, so nothing comes from the
 * internet. Every other path goes to `fallback` (health and metrics routes).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the page is served. */
export const DASHBOARD_PATH = '/dashboard/';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// The page runs only its own scripts and talks only to this daemon; QR codes arrive as data: URLs.
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** Reads the page's files once; a file added later needs a restart, like any code change. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type === undefined) continue;
    assets.set(name, { body: readFileSync(`${dir}/${name}`), type });
  }
  return assets;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store' });
  res.end();
}

/**
 * Wraps `fallback` with the dashboard routes. `pageDir` defaults to the `page`
 * folder next to this file (`src/` when run from source, `dist/` once built).
 */
export function createDashboardHttpHandler(fallback: Handler, pageDir = fileURLToPath(new URL('./page', import.meta.url))): Handler {
  const assets = loadAssets(pageDir);
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/' || path === '/dashboard') return redirect(res, DASHBOARD_PATH);
    if (!path.startsWith(DASHBOARD_PATH)) return fallback(req, res);
    const name = path === DASHBOARD_PATH ? 'index.html' : path.slice(DASHBOARD_PATH.length);
    const asset = assets.get(name);
    if (asset === undefined) return fallback(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };
}
