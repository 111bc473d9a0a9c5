// One comment per PR, found by a hidden marker and edited in place.
import type { Octo, RepoRef } from './octokit.js';

export const STICKY_MARKER = '<!-- autoresearch:sticky -->';

/**
 * Writes the PR's sticky comment and returns its id. With `knownId` (from the job id) it edits
 * without looking; with `fresh` (a PR just opened) it creates without looking.
 */
export async function writeSticky(octokit: Octo, repo: RepoRef, pr: number, body: string, opts: { knownId?: number | null; fresh?: boolean } = {}): Promise<number> {
  const text = `${STICKY_MARKER}\n${body}`;
  let id = opts.knownId ?? null;
  if (id === null && !opts.fresh) {
    const { data } = await octokit.rest.issues.listComments({ ...repo, issue_number: pr, per_page: 100 });
    id = data.find((c) => c.body?.startsWith(STICKY_MARKER))?.id ?? null;
  }
  if (id !== null) {
    await octokit.rest.issues.updateComment({ ...repo, comment_id: id, body: text });
    return id;
  }
  const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: pr, body: text });
  return data.id;
}
