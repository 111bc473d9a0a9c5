// Rate limits, waited out as GitHub documents ("Best practices for using the REST API"): after a
// rate-limit answer, no request before `retry-after` seconds; with `x-ratelimit-remaining: 0`, none
// before `x-ratelimit-reset`; otherwise at least a minute, and longer after each repeated
// secondary limit. Probot's production settings retry a primary limit twice and never retry a
// secondary one (the request just fails); the App's Octokit replaces both callbacks. What still
// fails after the retries is not lost: the ledger holds the intent and the tick's reconcile pass
// (app/reconcile.ts) does the work again later.
import { ProbotOctokit } from 'probot';

export interface RateLimitOptions {
  /** milliseconds per second of GitHub's waits (1000; tests compress time with 1) */
  msPerSecond?: number;
  /** retries of one request after a rate-limit answer */
  retries?: number;
  /** the longest wait (seconds) worth holding a webhook's handling for; longer ones are left to the tick */
  maxWaitSeconds?: number;
}

type Log = { warn(msg: string): void };
type Opts = { method: string; url: string };

export function rateLimitHandlers(o: RateLimitOptions = {}) {
  const ms = o.msPerSecond ?? 1000;
  const retries = o.retries ?? 3;
  const maxWait = o.maxWaitSeconds ?? 15 * 60;
  return {
    retryAfterBaseValue: ms,
    // GitHub: "otherwise, wait for at least one minute before retrying"
    fallbackSecondaryRateRetryAfter: 60,
    onRateLimit: (retryAfter: number, options: Opts, octokit: { log: Log }, retryCount = 0) => {
      const again = retryCount < retries && retryAfter <= maxWait;
      octokit.log.warn(`Rate limit on ${options.method} ${options.url}: ${again ? `retrying in ${retryAfter} s` : 'left to the next tick'}.`);
      return again;
    },
    onSecondaryRateLimit: async (retryAfter: number, options: Opts, octokit: { log: Log }, retryCount = 0) => {
      // "If your request continues to fail due to a secondary rate limit, wait for an
      // exponentially increasing amount of time between retries": retryAfter, then + 1, 3, 7 minutes
      const extra = (2 ** retryCount - 1) * 60;
      const again = retryCount < retries && retryAfter + extra <= maxWait;
      octokit.log.warn(`Secondary rate limit on ${options.method} ${options.url}: ${again ? `retrying in ${retryAfter + extra} s` : 'left to the next tick'}.`);
      if (again && extra) await new Promise((r) => setTimeout(r, extra * ms));
      return again;
    },
  };
}

/** Probot's Octokit with the App's rate-limit handling (and Probot's own retry of 5xx answers). */
export function appOctokit(o: RateLimitOptions & { throttle?: Record<string, unknown> } = {}): typeof ProbotOctokit {
  const handlers = rateLimitHandlers(o);
  // Probot hands its own throttle callbacks in as instance options; these replace them.
  return ProbotOctokit.defaults((opts: { throttle?: Record<string, unknown> }) => ({ ...opts, throttle: { ...opts.throttle, ...handlers, ...o.throttle, enabled: true } })) as typeof ProbotOctokit;
}
