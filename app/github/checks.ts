// The val_bpb check run: created for the head SHA when a PR is validated, completed when scored.
import { CHECK_NAME } from '../messages.js';
import type { Octo, RepoRef } from './octokit.js';

type Conclusion = 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required';

export async function createCheck(octokit: Octo, repo: RepoRef, sha: string, state: { status: 'queued' | 'in_progress' } | { conclusion: Conclusion }, title: string, summary: string): Promise<number> {
  const { data } = await octokit.rest.checks.create({
    ...repo,
    name: CHECK_NAME,
    head_sha: sha,
    ...('conclusion' in state ? { status: 'completed' as const, conclusion: state.conclusion } : { status: state.status }),
    output: { title, summary },
  });
  return data.id;
}

export async function updateCheck(
  octokit: Octo,
  repo: RepoRef,
  checkRunId: number,
  state: { status: 'queued' | 'in_progress' } | { conclusion: Conclusion },
  title: string,
  summary: string,
  detailsUrl?: string | null,
): Promise<void> {
  await octokit.rest.checks.update({
    ...repo,
    check_run_id: checkRunId,
    ...('conclusion' in state ? { status: 'completed' as const, conclusion: state.conclusion } : { status: state.status }),
    ...(detailsUrl ? { details_url: detailsUrl } : {}),
    output: { title, summary },
  });
}
