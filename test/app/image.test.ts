// The App's container, checked as far as a machine without a Docker engine can: the compiled
// build (tsconfig.app.json, what app/Dockerfile runs) starts with plain node, answers the health
// check the image declares and refuses an unsigned webhook; the Dockerfile copies every source
// the build compiles, its ignore file lets those through, and nothing runs tsx.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';

const ROOT = process.cwd();
const OUT = join(ROOT, '.cache', 'app-image-test');
const DOCKERFILE = readFileSync('app/Dockerfile', 'utf8');
const IGNORE = readFileSync('app/Dockerfile.dockerignore', 'utf8');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

/** Whether `path` reaches the build context under a whitelist ignore file ("*", then "!path" lines, later lines win). */
function inContext(path: string): boolean {
  let included = true;
  for (const raw of IGNORE.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const neg = line.startsWith('!');
    const pat = (neg ? line.slice(1) : line).replace(/\/$/, '');
    const match = pat === '*' || path === pat || path.startsWith(`${pat}/`);
    if (match) included = neg;
  }
  return included;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('the App image', () => {
  beforeAll(() => {
    rmSync(OUT, { recursive: true, force: true });
    const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.app.json', '--outDir', OUT], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
  }, 600_000);
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it('copies every source the build compiles, each let through by its ignore file', () => {
    const copied = [...DOCKERFILE.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(' ')).map((p) => p.replace(/\/$/, ''));
    const sources = files(OUT).filter((f) => f.endsWith('.js')).map((f) => relative(OUT, f).replace(/\.js$/, '.ts'));
    expect(sources).toContain('app/server.ts');
    for (const src of sources) {
      expect(copied.some((c) => src === c || src.startsWith(`${c}/`)) ? src : `${src} is compiled but not copied`).toBe(src);
      expect(inContext(src) ? src : `${src} is left out by app/Dockerfile.dockerignore`).toBe(src);
    }
    for (const c of copied) expect(existsSync(c) ? c : `${c} does not exist`).toBe(c);
    expect(inContext('app/.env')).toBe(false);
  });

  it('runs the compiled server with node (no tsx), bound to all interfaces, with a health check', () => {
    expect(DOCKERFILE).toMatch(/^CMD \["node", "dist-app\/app\/server\.js"\]$/m);
    expect(DOCKERFILE.split('\n').filter((l) => !l.startsWith('#') && /tsx/.test(l))).toEqual([]);
    expect(DOCKERFILE).toMatch(/^ENV NODE_ENV=production HOST=0\.0\.0\.0 PORT=3000$/m);
    expect(DOCKERFILE).toMatch(/^HEALTHCHECK .*\/ping/m);
    expect(DOCKERFILE).toMatch(/^USER node$/m);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.scripts['build:app']).toMatch(/tsc -p tsconfig\.app\.json/);
  });

  describe('the compiled server', () => {
    let child: ChildProcess;
    let url: string;
    let out = '';
    beforeAll(async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: 'a-real-secret', LOG_LEVEL: 'info' };
      child = spawn(process.execPath, [join(OUT, 'app', 'server.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (b) => (out += b));
      child.stderr!.on('data', (b) => (out += b));
      for (let i = 0; i < 200 && !/Listening on/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/Listening on/);
    }, 60_000);
    afterAll(() => {
      child?.kill();
    });

    it('answers the health check', async () => {
      const res = await fetch(`${url}/ping`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('PONG');
    });

    it('refuses a webhook signed with "development" (the secret Probot falls back to)', async () => {
      const body = JSON.stringify({ action: 'opened', installation: { id: 1 } });
      const { createHmac } = await import('node:crypto');
      const sig = `sha256=${createHmac('sha256', 'development').update(body).digest('hex')}`;
      const res = await fetch(`${url}/api/github/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'd1', 'x-hub-signature-256': sig }, body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    });
  });
});
