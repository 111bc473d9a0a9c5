// The leaderboard of the one-machine swarm: built from the ledger branch's files (as the Pages
// workflow builds it from a checkout of that branch) and served from the output folder by a
// plain static server on 127.0.0.1.
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { buildSite } from '../leaderboard/src/build.js';
import { loopbackHost, NOSNIFF, siteFile } from '../leaderboard/src/static-server.js';
import type { LocalGitHub } from './github-pages.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
};

/** Writes the ledger branch's files into `ledgerDir` (replacing what was there). */
export function writeLedgerCheckout(files: Map<string, string>, ledgerDir: string): void {
  const root = resolve(ledgerDir);
  for (const path of files.keys()) {
    if (!resolve(root, path).startsWith(root + sep)) throw new Error(`the ledger branch holds a file named ${JSON.stringify(path)}, which leads out of ${root}; nothing was written.`);
  }
  rmSync(ledgerDir, { recursive: true, force: true });
  for (const [path, text] of files) {
    const f = resolve(root, path);
    mkdirSync(resolve(f, '..'), { recursive: true });
    writeFileSync(f, text);
  }
}

/** `npm run leaderboard -- build <ledgerDir> <siteDir> --cache <cacheDir>`, in process. */
export async function rebuildSite(ledgerDir: string, siteDir: string, cacheDir: string) {
  return buildSite(ledgerDir, siteDir, { cacheDir });
}

/** Serves `root` on 127.0.0.1:`port` (0: any free port); resolves with the server and its URL.
 * With `github`, the github.com links of the pages and of the JSON API lead to its pages under
 * /github/ (swarm/github-pages.ts): the API's as absolute addresses on this server. */
export function serveSite(root: string, port: number, github?: LocalGitHub): Promise<{ server: Server; url: string }> {
  const base = resolve(root);
  let origin = '';
  let port_ = port;
  const server = createServer((req, res) => {
    // a web page whose DNS name was rebound to 127.0.0.1 sends its own host name: refused
    if (!loopbackHost(req, port_)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', ...NOSNIFF }).end('this server answers only to 127.0.0.1 and localhost');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400, NOSNIFF).end('bad path');
      return;
    }
    if (github && path.startsWith('/github/')) {
      let page: ReturnType<LocalGitHub['page']> = null;
      try {
        page = github.page(path.slice('/github/'.length));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', ...NOSNIFF }).end(`the local GitHub page failed: ${(e as Error).message}`);
        return;
      }
      if (page) res.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store', ...NOSNIFF }).end(page.body);
      else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...NOSNIFF }).end(`the local swarm's GitHub has no page ${path}`);
      return;
    }
    // symbolic links resolved: one inside the site that leads out of it is refused like `..`
    const file = siteFile(base, path);
    if (file === 'outside') {
      res.writeHead(403, NOSNIFF).end('outside the site');
      return;
    }
    if (file === null) {
      // the site has no icon: an empty answer keeps the browser's console free of a 404 on every page
      if (path === '/favicon.ico') {
        res.writeHead(204, { 'cache-control': 'max-age=86400', ...NOSNIFF }).end();
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...NOSNIFF }).end(existsSync(join(base, 'index.html')) ? 'not found' : 'the leaderboard is built after the first result; reload in a minute');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...NOSNIFF });
    if (github && extname(file) === '.html') res.end(github.rewrite(readFileSync(file, 'utf8')));
    else if (github && extname(file) === '.json') res.end(github.rewrite(readFileSync(file, 'utf8'), `${origin}github/`));
    else
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'EADDRINUSE' ? new Error(`port ${port} on 127.0.0.1 is in use; pass --port <another> (or 0 for any free port)`) : e));
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      port_ = typeof a === 'object' && a ? a.port : port;
      origin = `http://127.0.0.1:${port_}/`;
      ok({ server, url: origin });
    });
  });
}
