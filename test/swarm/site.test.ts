// The swarm's leaderboard server (swarm/site.ts): serves the built site on 127.0.0.1 and
// nothing outside it, however the path is spelled.
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGitHub } from '../../sim/github/fake.js';
import { localGitHub } from '../../swarm/github-pages.js';
import { serveSite } from '../../swarm/site.js';

const get = (url: string, path: string) =>
  new Promise<{ status: number; body: string }>((ok, fail) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });

describe('the swarm leaderboard server', () => {
  it('rewrites github.com links of the pages and the JSON API to its local GitHub pages and serves those', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarm-site-'));
    writeFileSync(join(dir, 'index.html'), '<a href="https://github.com/Codertocat/Hello-World/pull/3/files">PR</a> <a href="https://github.com/owner-1">o</a> <a href="https://github.com/someone">s</a>');
    mkdirSync(join(dir, 'api'));
    writeFileSync(join(dir, 'api', 'page-1.json'), '{"pr_url":"https://github.com/Codertocat/Hello-World/pull/3/files","run_url":"https://github.com/Codertocat/Hello-World/actions/runs/9"}');
    const fake = new FakeGitHub();
    const github = localGitHub(fake, { logins: () => ['owner-1'], ownerOf: () => undefined });
    const { server, url } = await serveSite(dir, 0, { rewrite: github.rewrite, page: (p: string) => (p === 'pull/3/files' ? { type: 'text/plain', body: 'the diff' } : null) });
    try {
      // a login of the swarm leads to its local page; anyone else's profile is left alone
      expect((await get(url, '/')).body).toBe('<a href="/github/pull/3/files">PR</a> <a href="/github/users/owner-1">o</a> <a href="https://github.com/someone">s</a>');
      // the API's links are absolute, as everywhere in the API: to this server
      expect(JSON.parse((await get(url, '/api/page-1.json')).body)).toEqual({ pr_url: `${url}github/pull/3/files`, run_url: `${url}github/actions/runs/9` });
      expect(await get(url, '/github/pull/3/files')).toEqual({ status: 200, body: 'the diff' });
      expect((await get(url, '/github/pull/4/files')).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the site and refuses every path that leads out of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarm-site-'));
    mkdirSync(join(dir, 'site', 'api'), { recursive: true });
    writeFileSync(join(dir, 'site', 'index.html'), '<html>leaderboard</html>');
    writeFileSync(join(dir, 'site', 'api', 'index.json'), '{"ok":true}');
    writeFileSync(join(dir, 'secret.txt'), 'the state folder, not the site');
    const { server, url } = await serveSite(join(dir, 'site'), 0);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(await get(url, '/')).toEqual({ status: 200, body: '<html>leaderboard</html>' });
      expect((await get(url, '/api/index.json')).body).toBe('{"ok":true}');
      for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/api/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/..%2f..%2f..%2fetc%2fpasswd']) {
        const r = await get(url, p);
        expect(r.body).not.toContain('not the site');
        expect(r.body).not.toContain('root:');
        expect([403, 404]).toContain(r.status);
      }
      expect((await get(url, '/%zz')).status).toBe(400);
      expect(await get(url, '/favicon.ico')).toEqual({ status: 204, body: '' });
      expect((await get(url, '/missing.html')).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
