// Puts the candidate's trainer/train.ts, and nothing else of its commit, onto the trusted
// checkout of the default branch. Git reads the candidate's objects; no file of the candidate
// commit is checked out, so nothing else from the PR can run.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const CANDIDATE_PATH = 'trainer/train.ts';
const MAX_CANDIDATE_BYTES = 1 << 20;

export interface CandidateFile {
  /** the candidate's train.ts, now written over the checkout's */
  source: string;
  sha256: string;
  /** unified diff of train.ts: default branch -> candidate */
  diff: string;
  /** other paths the candidate changed relative to the default branch: ignored */
  ignored: string[];
  /** the default branch commit the candidate was placed on */
  baseSha: string;
}

export interface FetchAuth {
  /** e.g. https://github.com */
  serverUrl: string;
  token: string;
}

/** Git config for an authenticated fetch, passed by environment so the token never shows
 * in a process list or in .git/config (the checkout keeps persist-credentials: false). */
function authEnv(auth: FetchAuth | undefined): Record<string, string> {
  if (!auth?.token) return {};
  const basic = Buffer.from(`x-access-token:${auth.token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${auth.serverUrl.replace(/\/+$/, '')}/.extraheader`,
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}`,
  };
}

export async function git(cwd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  try {
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', ...extraEnv };
    const { stdout } = await execFileP('git', args, { cwd, maxBuffer: 64 << 20, env });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`git ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

async function hasCommit(cwd: string, sha: string): Promise<boolean> {
  try {
    await git(cwd, ['cat-file', '-e', `${sha}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/** Make the candidate commit available locally: from refs/pull/N/head (a fork's commit is
 * only reachable there), else by its SHA. */
export async function fetchCandidate(cwd: string, sha: string, pr: number | null, auth?: FetchAuth): Promise<void> {
  if (await hasCommit(cwd, sha)) return;
  const env = authEnv(auth);
  const tried: string[] = [];
  if (pr !== null) {
    tried.push(`refs/pull/${pr}/head`);
    await git(cwd, ['fetch', '--no-tags', '--no-recurse-submodules', 'origin', `+refs/pull/${pr}/head:refs/remotes/origin/pull/${pr}/head`], env).catch(() => undefined);
    if (await hasCommit(cwd, sha)) return;
  }
  tried.push(sha);
  await git(cwd, ['fetch', '--no-tags', '--no-recurse-submodules', 'origin', sha], env).catch(() => undefined);
  if (await hasCommit(cwd, sha)) return;
  throw new Error(
    `Commit ${sha} could not be fetched from origin (tried ${tried.join(' and ')}); if the PR was force-pushed, the App dispatches the new head.`,
  );
}

export async function placeCandidate(cwd: string, sha: string, pr: number | null, auth?: FetchAuth): Promise<CandidateFile> {
  await fetchCandidate(cwd, sha, pr, auth);
  const baseSha = (await git(cwd, ['rev-parse', 'HEAD'])).trim();

  const entry = (await git(cwd, ['ls-tree', sha, '--', CANDIDATE_PATH])).trim();
  if (entry === '') throw new Error(`Commit ${sha} has no ${CANDIDATE_PATH}; an experiment must change that file.`);
  const [mode, type, blob] = entry.split(/\s+/);
  if (type !== 'blob' || (mode !== '100644' && mode !== '100755')) {
    throw new Error(`${CANDIDATE_PATH} at ${sha} is not a regular file (git mode ${mode}); make it a plain text file.`);
  }
  const size = Number((await git(cwd, ['cat-file', '-s', blob])).trim());
  if (size > MAX_CANDIDATE_BYTES) throw new Error(`${CANDIDATE_PATH} at ${sha} is ${size} bytes; the limit is ${MAX_CANDIDATE_BYTES}.`);
  // As bytes: the hash must match the harness's candidate_sha256 over the file it reads.
  const { stdout: bytes } = await execFileP('git', ['cat-file', 'blob', blob], { cwd, encoding: 'buffer', maxBuffer: 2 * MAX_CANDIDATE_BYTES });
  const source = bytes.toString('utf8');

  // Tree-to-tree diffs: what the candidate changes relative to the default branch.
  const diff = await git(cwd, ['diff', '--no-color', '--no-ext-diff', baseSha, sha, '--', CANDIDATE_PATH]);
  const ignored = (await changedPaths(cwd, baseSha, sha)).filter((p) => p !== CANDIDATE_PATH);

  await writeFile(join(cwd, CANDIDATE_PATH), bytes);
  return { source, sha256: createHash('sha256').update(bytes).digest('hex'), diff, ignored, baseSha };
}

/** Paths the candidate's branch changed since it left the default branch (merge base); with
 * no common history available (shallow clone), every path whose content differs. */
async function changedPaths(cwd: string, base: string, sha: string): Promise<string[]> {
  const range = await git(cwd, ['merge-base', base, sha]).then(
    (mb) => [mb.trim(), sha],
    () => [base, sha],
  );
  const out = await git(cwd, ['diff', '--no-renames', '--name-only', '-z', ...range]);
  return out.split('\0').filter((p) => p !== '');
}
