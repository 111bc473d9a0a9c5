// The CLI's side of the App conversation: the swarm's public settings, and a JIT config per job.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ErrorResponse, JIT_CONFIG_PATH, JitConfigResponse, jitConfigProblem, RunnerSettings } from './protocol.js';

/** Text from the App as the terminal may show it: control characters (escape sequences) become spaces. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

export class AppError extends Error {
  constructor(message: string, readonly status: number | null, readonly retryAfterSeconds: number | null = null) {
    super(message);
  }
  /** worth asking again later (rate limit, GitHub or network trouble) rather than giving up */
  get retryable(): boolean {
    return this.status === null || this.status === 429 || this.status >= 500;
  }
}

/**
 * The swarm's `runners:` settings from its public `.github/autoresearch.yml` on the default
 * branch; null when the file cannot be read (private repo, offline): flags then fill in.
 */
export async function fetchSwarmSettings(repo: string, rawBase = 'https://raw.githubusercontent.com'): Promise<RunnerSettings | null> {
  let text: string;
  try {
    const res = await fetch(`${rawBase}/${repo}/HEAD/.github/autoresearch.yml`, { signal: AbortSignal.timeout(15_000) });
    if (!res.ok) return null;
    text = await res.text();
  } catch {
    return null;
  }
  const doc = parseYaml(text) as { runners?: unknown } | null;
  // lenient about keys a newer App may add; the App itself checks the section strictly
  const parsed = z.object(RunnerSettings.shape).safeParse(doc?.runners ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(`${repo}'s .github/autoresearch.yml has an invalid runners.${issue.path.join('.')} (${issue.message}); tell its maintainers, or pass --app-url yourself`, null);
  }
  return parsed.data;
}

/** Ask the App for one ephemeral runner's configuration. */
export async function requestJitConfig(opts: {
  appUrl: string;
  token: string;
  repo: string;
  hardwareClass: string;
  signal?: AbortSignal;
}): Promise<JitConfigResponse> {
  const url = new URL(JIT_CONFIG_PATH.replace(/^\//, ''), opts.appUrl.endsWith('/') ? opts.appUrl : opts.appUrl + '/');
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ repo: opts.repo, hardware_class: opts.hardwareClass }),
      signal: opts.signal,
    });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new AppError(`could not reach the App at ${url.origin} (${(e as Error).cause ?? (e as Error).message}); check --app-url and your network`, null);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* reported below */
  }
  if (!res.ok) {
    const err = ErrorResponse.safeParse(body);
    const retry = Number(res.headers.get('retry-after'));
    throw new AppError(
      err.success ? `the App refused (HTTP ${res.status}): ${printable(err.data.error)}` : `the App at ${url.origin} answered HTTP ${res.status}; check --app-url`,
      res.status,
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
  const ok = JitConfigResponse.safeParse(body);
  if (!ok.success) throw new AppError(`the App at ${url.origin} sent an answer that is not a runner configuration (${ok.error.issues[0].path.join('.') || 'body'}: ${ok.error.issues[0].message}); check --app-url`, res.status);
  // what the runner would write and whom it would ask for jobs: only GitHub's config for this repository
  const problem = jitConfigProblem(ok.data.encoded_jit_config, opts.repo);
  if (problem) throw new AppError(printable(`the App at ${url.origin} sent a runner configuration that is not GitHub's for ${opts.repo}: ${problem}; nothing was run (check --app-url, and tell the swarm's maintainers)`), 400);
  return ok.data;
}
