// The repository's fork pull request approval policy, read through the REST API (the endpoint is
// newer than Octokit's generated methods, hence octokit.request). Kept for 60 s per repository,
// so a burst of events costs one call; null when the App may not read it (it then refuses to
// dispatch: app/policy/containment.ts).
import type { Octo, RepoRef } from './octokit.js';

const TTL_MS = 60_000;
const cache = new Map<string, { at: number; policy: string | null }>();

export async function forkApprovalPolicy(octokit: Octo, repo: RepoRef, now = Date.now()): Promise<string | null> {
  const key = `${repo.owner}/${repo.repo}`.toLowerCase();
  const known = cache.get(key);
  if (known && now - known.at < TTL_MS) return known.policy;
  let policy: string | null;
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/actions/permissions/fork-pr-contributor-approval', { owner: repo.owner, repo: repo.repo });
    policy = typeof (data as { approval_policy?: unknown }).approval_policy === 'string' ? (data as { approval_policy: string }).approval_policy : null;
  } catch (e) {
    const status = (e as { status?: number }).status;
    // anything else (a 5xx, a timeout): refuse this time, ask again next time
    if (status !== 403 && status !== 404) return null;
    policy = null;
  }
  cache.set(key, { at: now, policy });
  return policy;
}

/** For tests: forget what was read. */
export function forgetForkApprovalPolicies(): void {
  cache.clear();
}
