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

/**
 * `path` at a commit is there but is no regular file: a directory, a submodule, or a symlink. GitHub's
 * contents API answers a symlink whose target is a file of the repository with that file (its own
 * path, not the one asked for: docs, "Get repository content", "If the content is a symlink"), any
 * other symlink with `type: symlink`, a submodule with `type: submodule`, a directory with a list.
 */
export class NotARegularFile extends Error {
  constructor(
    readonly path: string,
    readonly sha: string,
    /** what GitHub says is there: `directory`, `submodule`, `symlink` (to another path, or out of the repository) */
    readonly kind: string,
  ) {
    super(`${path} at ${sha} is not a regular file (${kind}).`);
    this.name = 'NotARegularFile';
  }
}

/** A file's bytes at `ref` (a commit sha), or null when it does not exist there; NotARegularFile when it is no regular file. */
export async function fileAt(octokit: Octo, repo: RepoRef, path: string, sha: string): Promise<Uint8Array | null> {
  const key = `${repo.owner}/${repo.repo}@${sha}:${path}`;
  if (cache.has(key)) return cache.get(key)!;
  let data: unknown;
  try {
    // JSON (base64) rather than raw: raw comes back decoded as UTF-8 text, which would hide a binary file.
    ({ data } = await octokit.rest.repos.getContent({ ...repo, path, ref: sha }));
  } catch (e) {
    if (status(e) === 404) return remember(key, null);
    throw e;
  }
  if (Array.isArray(data)) throw new NotARegularFile(path, sha, 'a directory');
  const d = data as { type?: string; path?: string; content?: string; target?: string };
  if (d.type !== 'file') throw new NotARegularFile(path, sha, d.type === 'symlink' ? `a symlink to ${JSON.stringify(d.target ?? '')}` : `a ${d.type ?? 'thing of no type'}`);
  // a symlink to a file of the repository is answered with that file, under its own path
  if (d.path !== undefined && d.path !== path) throw new NotARegularFile(path, sha, `a symlink to ${d.path}`);
  if (typeof d.content !== 'string') throw new NotARegularFile(path, sha, 'a file GitHub serves without its content');
  return remember(key, new Uint8Array(Buffer.from(d.content, 'base64')));
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
