// A raw HTTP GET with any Host header (a DNS-rebound page's), and a built site with links that
// lead out of it: for the red-team tests of the loopback servers (test/leaderboard/red-team-server.test.ts,
// test/swarm/red-team-site.test.ts).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

export type Got = { status: number; body: string; headers: Record<string, string | string[] | undefined> };

/** GET `path` of the server at `url` with `headers` (a Host among them), connecting to `host` if given. */
export const rawGet = (url: string, path: string, headers: Record<string, string> = {}, host?: string) =>
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

/**
 * `dir/site` (an index.html and api/index.json) beside a secret file and a secret folder, with
 * `site/leak.txt` and `site/leakdir` linking to them; `secret` names what the secrets say.
 */
export function plantSite(dir: string, folder: string, secret: { file: string; page: string }): void {
  mkdirSync(join(dir, 'site', 'api'), { recursive: true });
  writeFileSync(join(dir, 'site', 'index.html'), '<html>leaderboard</html>');
  writeFileSync(join(dir, 'site', 'api', 'index.json'), '{"ok":true}');
  writeFileSync(join(dir, 'secret.txt'), secret.file);
  mkdirSync(join(dir, folder));
  writeFileSync(join(dir, folder, 'index.html'), secret.page);
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'site', 'leak.txt'));
  symlinkSync(join(dir, folder), join(dir, 'site', 'leakdir'));
}
