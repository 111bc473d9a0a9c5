// The repository's self-hosted runners as GitHub lists them, every page: a swarm can hold more than
// 100 runners, and one page of them hid every eligible verifier listed after the first 100 (the
// verify run then went to the class label, where an excluded owner's runner took it, refused).
import type { Octokit } from '@octokit/rest';
import type { ApiRunner } from '../policy/runners.js';

/** Pages read at most: 1,000 runners. */
export const MAX_RUNNER_PAGES = 10;

export async function listRunners(octokit: Pick<Octokit, 'rest'>, repo: { owner: string; repo: string }): Promise<ApiRunner[]> {
  const runners: ApiRunner[] = [];
  for (let page = 1; page <= MAX_RUNNER_PAGES; page++) {
    const { data } = await octokit.rest.actions.listSelfHostedRunnersForRepo({ ...repo, per_page: 100, page });
    runners.push(...(data.runners as ApiRunner[]));
    if (data.runners.length < 100 || runners.length >= data.total_count) break;
  }
  return runners;
}
