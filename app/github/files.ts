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
  const d = data as { type?: string; path?: string; content?: string; encoding?: string; size?: number; sha?: string; target?: string };
  if (d.type !== 'file') throw new NotARegularFile(path, sha, d.type === 'symlink' ? `a symlink to ${JSON.stringify(d.target ?? '')}` : `a ${d.type ?? 'thing of no type'}`);
  // a symlink to a file of the repository is answered with that file, under its own path
  if (d.path !== undefined && d.path !== path) throw new NotARegularFile(path, sha, `a symlink to ${d.path}`);
  if (d.encoding === 'none' || (d.content === '' && (d.size ?? 0) > 0)) return remember(key, await blobOf(octokit, repo, path, sha, d));
  if (typeof d.content !== 'string') throw new NotARegularFile(path, sha, 'a file GitHub serves without its content');
  return remember(key, new Uint8Array(Buffer.from(d.content, 'base64')));
}

/** Files larger than this are not read at all: far beyond any candidate (the Action places at most 1 MiB). */
export const READ_LIMIT_BYTES = 8 << 20;

/** `path` at a commit is a file larger than READ_LIMIT_BYTES: its size, unread. */
export class TooLargeToRead extends NotARegularFile {
  constructor(path: string, sha: string, readonly size: number) {
    super(path, sha, `a file of ${size} bytes`);
    this.name = 'TooLargeToRead';
  }
}

/**
 * The bytes of a file the contents API answers without them: above 1 MB it sends `content: ""`
 * and `encoding: "none"` (docs, "Get repository content"), which was read as an empty file (a 1 MB
 * train.ts passed max_file_bytes, and its runners' honest hashes were refused as forged). The git
 * blob has them (up to 100 MB); a file over READ_LIMIT_BYTES is not downloaded.
 */
async function blobOf(octokit: Octo, repo: RepoRef, path: string, sha: string, d: { sha?: string; size?: number }): Promise<Uint8Array> {
  if (d.size === undefined || d.size > READ_LIMIT_BYTES || !d.sha) throw new TooLargeToRead(path, sha, d.size ?? Infinity);
  const { data } = await octokit.rest.git.getBlob({ ...repo, file_sha: d.sha });
  if (data.encoding !== 'base64') throw new TooLargeToRead(path, sha, d.size);
  return new Uint8Array(Buffer.from(data.content, 'base64'));
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
