// Red-team tests of the leaderboard preview server (leaderboard/src/static-server.ts): a web page
// in the browser (DNS rebinding, cross-origin reads) or a crafted URL must not read anything but
// the built site, and the server answers on loopback only.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDir } from '../../leaderboard/src/static-server.js';

type Got = { status: number; body: string; headers: Record<string, string | string[] | undefined> };
const get = (url: string, path: string, headers: Record<string, string> = {}, host?: string) =>
  new Promise<Got>((ok, fail) => {
    const u = new URL(url);
    const req = request({ host: host ?? u.hostname, port: u.port, path, method: 'GET', headers, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end();
  });

let dir = '';
let server: Awaited<ReturnType<typeof serveDir>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rt-preview-'));
  mkdirSync(join(dir, 'site', 'api'), { recursive: true });
  writeFileSync(join(dir, 'site', 'index.html'), '<html>leaderboard</html>');
  writeFileSync(join(dir, 'site', 'api', 'index.json'), '{"ok":true}');
  writeFileSync(join(dir, 'secret.txt'), 'SECRET outside the site');
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'index.html'), 'SECRET folder outside the site');
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'site', 'leak.txt'));
  symlinkSync(join(dir, 'outside'), join(dir, 'site', 'leakdir'));
  server = await serveDir(join(dir, 'site'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('red team: the leaderboard preview server', () => {
  it('listens on loopback only', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const port = new URL(server.url).port;
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const ip of external) await expect(get(`http://${ip}:${port}/`, '/')).rejects.toThrow();
  });

  it('refuses a path out of the site, however it is spelled (.., %2e%2e, backslash, NUL)', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/api/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/..\\secret.txt', '/index.html%00.json', '/%00', '/api/%2e%2e/%2e%2e/outside/']) {
      const r = await get(server.url, p);
      expect(r.body).not.toContain('SECRET');
      expect([400, 403, 404]).toContain(r.status);
    }
  });

  it('does not follow a symbolic link inside the site to a file or folder outside it', async () => {
    for (const p of ['/leak.txt', '/leakdir/', '/leakdir/index.html']) {
      const r = await get(server.url, p);
      expect(r.body).not.toContain('SECRET');
      expect([403, 404]).toContain(r.status);
    }
  });

  it('refuses a request for another host name (DNS rebinding), and lets no other origin read it', async () => {
    const rebound = await get(server.url, '/api/index.json', { host: `evil.example:${new URL(server.url).port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain('"ok"');
    const ok = await get(server.url, '/api/index.json', { origin: 'https://evil.example' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBeUndefined();
    expect((await get(server.url, '/', { host: `localhost:${new URL(server.url).port}` })).status).toBe(200);
  });

  it('tells the browser not to sniff a served file into another type', async () => {
    const r = await get(server.url, '/api/index.json');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });
});
