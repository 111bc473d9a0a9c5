// Red-team tests of the leaderboard preview server (leaderboard/src/static-server.ts): a web page
// in the browser (DNS rebinding, cross-origin reads) or a crafted URL must not read anything but
// the built site, and the server answers on loopback only.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { plantSite, rawGet } from '../helpers/hostile-site.js';
import { serveDir } from '../../leaderboard/src/static-server.js';

let dir = '';
let server: Awaited<ReturnType<typeof serveDir>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rt-preview-'));
  plantSite(dir, 'outside', { file: 'SECRET outside the site', page: 'SECRET folder outside the site' });
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
    for (const ip of external) await expect(rawGet(`http://${ip}:${port}/`, '/')).rejects.toThrow();
  });

  it('refuses a path out of the site, however it is spelled (.., %2e%2e, backslash, NUL)', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/api/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/..\\secret.txt', '/index.html%00.json', '/%00', '/api/%2e%2e/%2e%2e/outside/']) {
      const r = await rawGet(server.url, p);
      expect(r.body).not.toContain('SECRET');
      expect([400, 403, 404]).toContain(r.status);
    }
  });

  it('does not follow a symbolic link inside the site to a file or folder outside it', async () => {
    for (const p of ['/leak.txt', '/leakdir/', '/leakdir/index.html']) {
      const r = await rawGet(server.url, p);
      expect(r.body).not.toContain('SECRET');
      expect([403, 404]).toContain(r.status);
    }
  });

  it('refuses a request for another host name (DNS rebinding), and lets no other origin read it', async () => {
    const rebound = await rawGet(server.url, '/api/index.json', { host: `evil.example:${new URL(server.url).port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain('"ok"');
    const ok = await rawGet(server.url, '/api/index.json', { origin: 'https://evil.example' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBeUndefined();
    expect((await rawGet(server.url, '/', { host: `localhost:${new URL(server.url).port}` })).status).toBe(200);
  });

  it('tells the browser not to sniff a served file into another type', async () => {
    const r = await rawGet(server.url, '/api/index.json');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });
});
