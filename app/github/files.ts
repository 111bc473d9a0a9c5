// File contents at a commit. Contents at a commit never change, so they are cached per process.
import { unzipSync } from 'fflate';
import type { Octo, RepoRef } from './octokit.js';
import { status } from './octokit.js';

const cache = new Map<string, Uint8Array | null>();
const CACHE_LIMIT = 256;

function remember<T extends Uint8Array | null>(key: string, value: T): T {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}

/** Forgets cached contents (tests count calls from a cold start). */
export function clearFileCache(): void {
  cache.clear();
}

/** A file's bytes at `ref` (a commit sha), or null when it does not exist there. */
export async function fileAt(octokit: Octo, repo: RepoRef, path: string, sha: string): Promise<Uint8Array | null> {
  const key = `${repo.owner}/${repo.repo}@${sha}:${path}`;
  if (cache.has(key)) return cache.get(key)!;
  try {
    // JSON (base64) rather than raw: raw comes back decoded as UTF-8 text, which would hide a binary file.
    const { data } = await octokit.rest.repos.getContent({ ...repo, path, ref: sha });
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) throw new Error(`${path} at ${sha} is not a file.`);
    return remember(key, new Uint8Array(Buffer.from(data.content, 'base64')));
  } catch (e) {
    if (status(e) === 404) return remember(key, null);
    throw e;
  }
}

/** Every file of the repository at `sha` (one zipball download), paths relative to the root. */
export async function treeAt(octokit: Octo, repo: RepoRef, sha: string): Promise<{ path: string; content: Uint8Array }[]> {
  const res = await octokit.rest.repos.downloadZipballArchive({ ...repo, ref: sha });
  const entries = unzipSync(toBytes(res.data));
  return Object.entries(entries)
    .filter(([name]) => !name.endsWith('/'))
    .map(([name, content]) => ({ path: name.slice(name.indexOf('/') + 1), content }));
}

export function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof data === 'string') return new TextEncoder().encode(data);
  throw new Error(`GitHub answered with ${typeof data} where file bytes were expected.`);
}
