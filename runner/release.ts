// The official GitHub Actions runner, pinned by version and sha256, downloaded once and cached.
//
// To update the pin: open https://github.com/actions/runner/releases/latest, copy the version and
// the "SHA-256 Checksums" lines for actions-runner-linux-x64 / -linux-arm64 / -osx-* into
// RUNNER_RELEASE below. Keep it current: GitHub stops sending jobs to runners that fall too far
// behind the latest release (runners started with a JIT config update themselves otherwise).
// v2.335.1 sums as published with the release (cross-checked in poseidon/github-runner#223).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile, access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { privateDirProblem } from './private-dir.js';

const exec = promisify(execFile);

export const RUNNER_RELEASE = {
  version: '2.335.1',
  sha256: {
    'linux-x64': '4ef2f25285f0ae4477f1fe1e346db76d2f3ebf03824e2ddd1973a2819bf6c8cf',
    'linux-arm64': '6d1e85bfd1a506a8b17c1f1b9b57dba458ffed90898799aaa9f599520b0d9207',
  } as Record<string, string>,
};

export interface RunnerPackage {
  version: string;
  url: string;
  sha256: string;
}

export class RunnerDownloadError extends Error {}

/** `linux-x64` style platform name used in the release file names. */
export function runnerPlatform(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = platform === 'darwin' ? 'osx' : platform === 'win32' ? 'win' : platform;
  return `${os}-${arch}`;
}

/**
 * The package to use. `url`/`sha256` overrides exist for mirrors and tests; they must come
 * together, so a download is never unverified.
 */
export function runnerPackage(opts: { platform?: string; url?: string; sha256?: string } = {}): RunnerPackage {
  const platform = opts.platform ?? runnerPlatform();
  if (opts.url || opts.sha256) {
    if (!opts.url || !opts.sha256 || !/^[0-9a-f]{64}$/.test(opts.sha256)) {
      throw new RunnerDownloadError(
        'a custom runner download needs both --runner-url and --runner-sha256 (64 lowercase hex digits)',
      );
    }
    return { version: `custom-${opts.sha256.slice(0, 12)}`, url: opts.url, sha256: opts.sha256 };
  }
  const sha256 = RUNNER_RELEASE.sha256[platform];
  if (!sha256) {
    throw new RunnerDownloadError(
      `no pinned GitHub Actions runner for ${platform} (pinned: ${Object.keys(RUNNER_RELEASE.sha256).join(', ')}); ` +
        'pass --runner-url and --runner-sha256 from https://github.com/actions/runner/releases',
    );
  }
  const v = RUNNER_RELEASE.version;
  return {
    version: v,
    url: `https://github.com/actions/runner/releases/download/v${v}/actions-runner-${platform}-${v}.tar.gz`,
    sha256,
  };
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'autoresearch-swarm');
}

const MARKER = '.autoresearch-sha256';

/**
 * A directory holding the extracted runner for `pkg`, downloading and verifying it first when the
 * cache lacks it. Only a verified, fully extracted package is ever moved into the cache.
 */
export async function ensureRunner(
  pkg: RunnerPackage,
  cacheDir: string,
  log: (line: string) => void = () => {},
  signal?: AbortSignal,
): Promise<string> {
  // the marker is trusted only where no one else could have written it (runner/private-dir.ts)
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const open = privateDirProblem(cacheDir, 'the cache directory');
  if (open) throw new RunnerDownloadError(open);
  const dir = join(cacheDir, `actions-runner-${pkg.version}`);
  const cached = await readFile(join(dir, MARKER), 'utf8').catch(() => null);
  if (cached?.trim() === pkg.sha256) return dir;

  const stamp = `${process.pid}-${Date.now()}`;
  const archive = join(cacheDir, `download-${stamp}.tar.gz`);
  const staging = join(cacheDir, `extract-${stamp}`);
  try {
    log(`Downloading the GitHub Actions runner ${pkg.version} from ${pkg.url}`);
    let res: Response;
    try {
      res = await fetch(pkg.url, { redirect: 'follow', signal });
    } catch (e) {
      if (signal?.aborted) throw new RunnerDownloadError('the runner download was stopped; nothing was cached');
      throw new RunnerDownloadError(`could not download the runner from ${pkg.url} (${(e as Error).message}): check your network or proxy and run join again`);
    }
    if (!res.ok || !res.body) {
      throw new RunnerDownloadError(`downloading the runner from ${pkg.url} failed with HTTP ${res.status}: check the URL or your network and run join again`);
    }
    const hash = createHash('sha256');
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(body, createWriteStream(archive), { signal }).catch((e: Error) => {
      throw new RunnerDownloadError(signal?.aborted ? 'the runner download was stopped; nothing was cached' : `the runner download from ${pkg.url} broke off (${e.message}); run join again`);
    });
    const got = hash.digest('hex');
    if (got !== pkg.sha256) {
      throw new RunnerDownloadError(
        `the runner downloaded from ${pkg.url} has sha256 ${got}, expected ${pkg.sha256}: ` +
          'the download is corrupted or was tampered with, so nothing was cached; run join again, and if it keeps failing check your network or proxy',
      );
    }
    await mkdir(staging);
    await exec('tar', ['-xzf', archive, '-C', staging]).catch((e: Error) => {
      throw new RunnerDownloadError(`the runner archive from ${pkg.url} could not be extracted (${e.message.split('\n')[0]}); is \`tar\` installed?`);
    });
    await access(join(staging, 'run.sh')).catch(() => {
      throw new RunnerDownloadError(`the archive from ${pkg.url} has no run.sh: it is not a GitHub Actions runner package`);
    });
    await writeFile(join(staging, MARKER), pkg.sha256 + '\n');
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    log(`Runner ${pkg.version} verified (sha256 ${pkg.sha256.slice(0, 12)}…) and cached in ${dir}`);
    return dir;
  } finally {
    await rm(archive, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}
