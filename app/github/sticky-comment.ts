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

/** Per installation client (a session's octokit): the App's bot login, `<slug>[bot]` (AppDeps.botLogin). */
const appLogins = new WeakMap<object, () => Promise<string | null>>();

/** Tells findSticky which bot user is the App on `octokit` (app/session.ts openSession): only its comments are the App's sticky. */
export function stickyAuthor(octokit: Octo, botLogin: () => Promise<string | null>): void {
  appLogins.set(octokit, botLogin);
}

/**
 * The App's sticky comment on `pr`: the first with the marker written by the App's own bot user.
 * The marker is no proof: anyone who may comment can start a comment with it. A user's was taken
 * for the App's (it wrote its verdicts into that person's comment, which they could edit or
 * delete); then any bot's was: another App installed on the repository, or a workflow's
 * github-actions[bot] echoing a PR's text, that wrote the marker first had the App overwrite its
 * comment and lose its own state there. A `[bot]` login cannot be taken by an account, so the
 * App's is its identity; unknown (GET /app failed), no comment is trusted and a new one written.
 */
async function findSticky(octokit: Octo, repo: RepoRef, pr: number): Promise<number | null> {
  const bot = (await appLogins.get(octokit)?.())?.toLowerCase();
  if (!bot) return null;
  const { data } = await octokit.rest.issues.listComments({ ...repo, issue_number: pr, per_page: 100 });
  return data.find((c) => c.body?.startsWith(STICKY_MARKER) && c.user?.login.toLowerCase() === bot)?.id ?? null;
}
