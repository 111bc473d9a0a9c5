// A loopback HTTP server for a built site, as GitHub Pages serves it (index.html for a folder): the
// browser tests and `npm run leaderboard -- preview` use it.
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
};

/** Sent with every answer: the browser takes each file as the type it is served with, never sniffs it into another. */
export const NOSNIFF = { 'x-content-type-options': 'nosniff' } as const;

/**
 * Whether a request names this loopback server by its own address. A web page whose DNS name was
 * rebound to 127.0.0.1 reaches the port too, but its requests carry that page's host name.
 */
export function loopbackHost(req: IncomingMessage, port: number): boolean {
  const host = (req.headers.host ?? '').toLowerCase();
  return host === `127.0.0.1:${port}` || host === `localhost:${port}` || (port === 80 && (host === '127.0.0.1' || host === 'localhost'));
}

/**
 * The file a decoded URL path names under `root` (a folder's index.html), with every symbolic
 * link resolved: 'outside' for one that leads out of `root` (by `..` or by a link), null for
 * none (missing, not a plain file, a NUL byte in the path).
 */
export function siteFile(root: string, path: string): string | 'outside' | null {
  if (path.includes('\0')) return null;
  const file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) return 'outside';
  let real: string;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(file);
    if (statSync(real).isDirectory()) real = realpathSync(join(real, 'index.html'));
    if (!statSync(real).isFile()) return null;
  } catch {
    return null;
  }
  return real.startsWith(realRoot + sep) ? real : 'outside';
}

export async function serveDir(dir: string, port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    if (!loopbackHost(req, (server.address() as AddressInfo).port)) {
      res.writeHead(403, NOSNIFF).end('this server answers only to 127.0.0.1 and localhost');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400, NOSNIFF).end('bad path');
      return;
    }
    const file = siteFile(root, path);
    if (file === 'outside') {
      res.writeHead(403, NOSNIFF).end();
      return;
    }
    if (file === null) {
      res.writeHead(404, NOSNIFF).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...NOSNIFF });
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const at = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${at}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}
