// The installation client Probot hands each handler (`context.octokit`).
import type { Context } from 'probot';

export type Octo = Context['octokit'];

export interface RepoRef {
  owner: string;
  repo: string;
}

export const status = (e: unknown): number | undefined => (e as { status?: number })?.status;

/** Whether a failed request was GitHub refusing it (not allowed, not mergeable, head moved, invalid, forbidden), not a passing failure (5xx, timeout, rate limit). */
export function refusal(e: unknown): boolean {
  const code = status(e);
  if (code === 405 || code === 409 || code === 422 || code === 404) return true;
  const rateLimited = /rate limit/i.test((e as Error).message ?? '') || Boolean((e as { response?: { headers?: Record<string, string> } }).response?.headers?.['retry-after']);
  return code === 403 && !rateLimited;
}
