// The runner download: verified against its sha256 before anything is cached.
import { describe, it, expect, afterAll } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRunner, runnerPackage, RunnerDownloadError, RUNNER_RELEASE } from '../../runner/release.js';
import { serve, stubRunnerTarball, tempDir, type Loopback } from './fakes.js';

const pkg = stubRunnerTarball();
const corrupted = Buffer.from(pkg.bytes);
corrupted[corrupted.length - 10] ^= 0xff;
let hits = 0;
let server: Loopback;
const ready = serve((req, res) => {
  hits++;
  if (req.url === '/good.tar.gz') res.writeHead(200).end(pkg.bytes);
  else if (req.url === '/corrupted.tar.gz') res.writeHead(200).end(corrupted);
  else res.writeHead(404).end('Not Found');
}).then((s) => (server = s));
afterAll(() => server.close());

describe('runnerPackage', () => {
  it('pins the official release by version and sha256', () => {
    const p = runnerPackage({ platform: 'linux-x64' });
    expect(p.url).toBe(`https://github.com/actions/runner/releases/download/v${RUNNER_RELEASE.version}/actions-runner-linux-x64-${RUNNER_RELEASE.version}.tar.gz`);
    expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
  it('refuses an unverifiable download', () => {
    expect(() => runnerPackage({ url: 'https://mirror.example/runner.tar.gz' })).toThrow(/needs both --runner-url and --runner-sha256/);
    expect(() => runnerPackage({ platform: 'freebsd-x64' })).toThrow(/no pinned GitHub Actions runner for freebsd-x64/);
  });
});

describe('ensureRunner', () => {
  it('downloads, verifies, extracts and caches; the second call uses the cache', async () => {
    await ready;
    const cache = tempDir();
    const p = runnerPackage({ url: `${server.url}/good.tar.gz`, sha256: pkg.sha256 });
    const before = hits;
    const dir = await ensureRunner(p, cache);
    expect(existsSync(join(dir, 'run.sh'))).toBe(true);
    expect(readFileSync(join(dir, '.autoresearch-sha256'), 'utf8').trim()).toBe(pkg.sha256);
    expect(await ensureRunner(p, cache)).toBe(dir);
    expect(hits - before).toBe(1);
    expect(readdirSync(cache)).toEqual([`actions-runner-${p.version}`]);
  });

  it('rejects a corrupted download with a clear error and caches nothing', async () => {
    await ready;
    const cache = tempDir();
    const p = runnerPackage({ url: `${server.url}/corrupted.tar.gz`, sha256: pkg.sha256 });
    const err = await ensureRunner(p, cache).catch((e) => e);
    expect(err).toBeInstanceOf(RunnerDownloadError);
    expect(err.message).toMatch(new RegExp(`has sha256 [0-9a-f]{64}, expected ${pkg.sha256}: the download is corrupted or was tampered with, so nothing was cached`));
    expect(readdirSync(cache)).toEqual([]);
  });

  it('names the URL and status when the download fails', async () => {
    await ready;
    const cache = tempDir();
    const p = runnerPackage({ url: `${server.url}/missing.tar.gz`, sha256: pkg.sha256 });
    await expect(ensureRunner(p, cache)).rejects.toThrow(`downloading the runner from ${server.url}/missing.tar.gz failed with HTTP 404`);
    expect(readdirSync(cache)).toEqual([]);
  });
});
