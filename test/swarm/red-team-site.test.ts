// Red-team tests of the swarm's leaderboard server (swarm/site.ts), which serves the site built
// from the ledger and the local GitHub's pages on 127.0.0.1:8377 while the swarm runs: a web page
// in the browser (DNS rebinding) or a crafted URL must read nothing else, and the ledger
// checkout writes nothing outside its folder.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plantSite, rawGet } from '../helpers/hostile-site.js';
import { serveSite, writeLedgerCheckout } from '../../swarm/site.js';

let dir = '';
let server: Server;
let url = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rt-swarm-site-'));
  plantSite(dir, 'state', { file: 'SECRET the state folder', page: 'SECRET state page' });
  // a stand-in for the local GitHub's pages (swarm/github-pages.ts): what a rebound page would like to read
  const github = { rewrite: (t: string) => t, page: (p: string) => (p === 'pull/1' ? { type: 'text/plain', body: 'SECRET local GitHub page' } : null) };
  ({ server, url } = await serveSite(join(dir, 'site'), 0, github));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('red team: the swarm leaderboard server', () => {
  it('refuses NUL bytes and backslashes in the path', async () => {
    for (const p of ['/index.html%00.json', '/%00', '/..\\secret.txt', '/api/%2e%2e%5c%2e%2e%5csecret.txt']) {
      const r = await rawGet(url, p);
      expect(r.body).not.toContain('SECRET');
      expect([400, 403, 404]).toContain(r.status);
    }
  });

  it('does not follow a symbolic link inside the site to a file or folder outside it', async () => {
    for (const p of ['/leak.txt', '/leakdir/', '/leakdir/index.html']) {
      const r = await rawGet(url, p);
      expect(r.body).not.toContain('SECRET');
      expect([403, 404]).toContain(r.status);
    }
  });

  it('refuses a request for another host name (DNS rebinding), site and local GitHub pages alike', async () => {
    const port = new URL(url).port;
    for (const p of ['/api/index.json', '/', '/github/pull/1']) {
      const r = await rawGet(url, p, { host: `evil.example:${port}` });
      expect(r.status).toBe(403);
      expect(r.body).not.toContain('"ok"');
      expect(r.body).not.toContain('leaderboard');
      expect(r.body).not.toContain('SECRET');
    }
    expect((await rawGet(url, '/api/index.json', { host: `127.0.0.1:${port}` })).status).toBe(200);
    expect((await rawGet(url, '/api/index.json', { host: `localhost:${port}` })).status).toBe(200);
    expect((await rawGet(url, '/github/pull/1', { host: `127.0.0.1:${port}` })).status).toBe(200);
    const cross = await rawGet(url, '/api/index.json', { origin: 'https://evil.example' });
    expect(cross.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('tells the browser not to sniff a served file into another type', async () => {
    expect((await rawGet(url, '/api/index.json')).headers['x-content-type-options']).toBe('nosniff');
  });

  it('writes no ledger file outside the ledger folder, whatever its name', () => {
    const ledger = join(dir, 'ledger');
    for (const name of ['../escaped.txt', 'a/../../escaped2.txt', '/tmp/../' + join(dir, 'escaped3.txt').slice(1)]) {
      try {
        writeLedgerCheckout(new Map([['ledger.jsonl', '{}\n'], [name, 'planted']]), ledger);
      } catch {
        // refusing the checkout is fine too
      }
    }
    expect(existsSync(join(dir, 'escaped.txt'))).toBe(false);
    expect(existsSync(join(dir, 'escaped2.txt'))).toBe(false);
  });
});
