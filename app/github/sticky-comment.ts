// One comment per PR, found by a hidden marker and edited in place.
import { status, type Octo, type RepoRef } from './octokit.js';

export const STICKY_MARKER = '<!-- autoresearch:sticky -->';

/**
 * Writes the PR's sticky comment and returns its id. With `knownId` (from the job id) it edits
 * without looking; with `fresh` (a PR just opened) it creates without looking.
 */
export async function writeSticky(octokit: Octo, repo: RepoRef, pr: number, body: string, opts: { knownId?: number | null; fresh?: boolean } = {}): Promise<number> {
  const text = `${STICKY_MARKER}\n${body}`;
  let id = opts.knownId ?? null;
  if (id === null && !opts.fresh) id = await findSticky(octokit, repo, pr);
  if (id !== null) {
    try {
      await octokit.rest.issues.updateComment({ ...repo, comment_id: id, body: text });
      return id;
    } catch (e) {
      // deleted (by a maintainer; or, before findSticky, by whoever wrote a comment the App took for
      // its own): the sticky a report since wrote, or a new one (a job's id keeps the deleted one)
      if (status(e) !== 404) throw e;
      const gone = id;
      id = await findSticky(octokit, repo, pr);
      if (id !== null && id !== gone) {
        await octokit.rest.issues.updateComment({ ...repo, comment_id: id, body: text });
        return id;
      }
    }
  }
  const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: pr, body: text });
  return data.id;
}

/**
 * The App's sticky comment on `pr`: the first with the marker written by a bot account. The marker
 * is no proof: anyone who may comment can start a comment with it, and the App (which may edit any
 * comment) then wrote its verdicts into that person's comment, which they could edit or delete.
 * Only an App (a bot account) is trusted to have written it: on a repository, bots are the Apps
 * its owner installed and its own workflows' token.
 */
async function findSticky(octokit: Octo, repo: RepoRef, pr: number): Promise<number | null> {
  const { data } = await octokit.rest.issues.listComments({ ...repo, issue_number: pr, per_page: 100 });
  return data.find((c) => c.body?.startsWith(STICKY_MARKER) && c.user?.type === 'Bot')?.id ?? null;
}
