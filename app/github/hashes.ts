// The two hashes a result must match, recomputed by the App from GitHub (never taken from the
// runner): the harness of the default-branch commit the workflow ran on, and train.ts at the
// job's sha. The hashing itself is the harness's own function.
import { CANDIDATE_PATH, harnessSha256, sha256 } from '../../trainer/harness-version.js';
import { fileAt, NotARegularFile, treeAt } from './files.js';
import type { Octo, RepoRef } from './octokit.js';

const harnessCache = new Map<string, { sha256: string; candidate: Uint8Array | null }>();

export function clearHashCache(): void {
  harnessCache.clear();
}

/** Harness sha256 (and the default train.ts) at a commit; one zipball per commit per process. */
export async function harnessAt(octokit: Octo, repo: RepoRef, sha: string): Promise<{ sha256: string; candidate: Uint8Array | null }> {
  const key = `${repo.owner}/${repo.repo}@${sha}`;
  const hit = harnessCache.get(key);
  if (hit) return hit;
  const files = await treeAt(octokit, repo, sha);
  const value = { sha256: harnessSha256(files), candidate: files.find((f) => f.path === CANDIDATE_PATH)?.content ?? null };
  if (harnessCache.size > 64) harnessCache.clear();
  harnessCache.set(key, value);
  return value;
}

/** train.ts at `sha`, or null where it is missing or no regular file (a result is then checked against no candidate and refused). */
export async function candidateAt(octokit: Octo, repo: RepoRef, sha: string, path = CANDIDATE_PATH): Promise<{ bytes: Uint8Array; sha256: string } | null> {
  const bytes = await fileAt(octokit, repo, path, sha).catch((e: unknown) => {
    if (e instanceof NotARegularFile) return null;
    throw e;
  });
  return bytes ? { bytes, sha256: sha256(bytes) } : null;
}
