// The ledger on a branch of a GitHub repository, written through the Git Data API with
// optimistic concurrency: build the new shard content on the head we know, commit it, and move
// the ref without force. If the branch moved meanwhile (422), re-read its head, re-sequence the
// same new entries after it and try again. The ref only ever moves to a commit whose parent is
// the head the entries were sequenced on, so no seq is used twice and no entry is lost.
//
// API calls (stated because the App budgets ~12 per experiment):
//   append, head cached (the last read or append by this store): 3  createTree, createCommit, updateRef
//   append, cold or after a conflict: +4                            getRef, getCommit, getContent HEAD.json, getContent tail shard
//   read: 1 when nothing changed since this store last saw the branch; otherwise
//         3 + one getBlob per shard not already cached             getRef, getCommit, getContent entries/
//   appendFor(build): the entries depend on the whole chain, so a store that has not read it at its
//         head reads it first (and again after a conflict)
import type { Octokit } from '@octokit/rest';
import { appendEntries, verifyChain } from './chain.js';
import type { LedgerEntry, NewEntry } from './entries.js';
import { ENTRIES_DIR, HEAD_FILE, parseHeadFile, parseLedgerText, shardWrites } from './shards.js';
import type { LedgerStore, NewEntriesFor } from './store.js';

type Rest = Octokit['rest'];
/** The part of an Octokit (from @octokit/rest, Probot's context.octokit, or @actions/github) the store uses. */
export interface LedgerOctokit {
  rest: {
    git: Pick<Rest['git'], 'getRef' | 'getCommit' | 'getBlob' | 'createTree' | 'createCommit' | 'updateRef' | 'createRef'>;
    repos: Pick<Rest['repos'], 'getContent'>;
  };
}

export interface GitHubLedgerStoreOptions {
  owner: string;
  repo: string;
  /** default 'ledger' */
  branch?: string;
  /** attempts when the branch keeps moving (default 5) */
  maxAttempts?: number;
  /** first back-off in ms, doubled per retry, plus jitter (default 250) */
  retryDelayMs?: number;
}

/** What this store knows about one commit of the ledger branch. */
interface Tip {
  commit: string;
  tree: string;
  last: LedgerEntry | null;
  /** the shard holding `last`, as stored */
  tail: { path: string; text: string } | null;
  /** the whole chain, when it was read at this commit */
  all: LedgerEntry[] | null;
}

const status = (e: unknown): number | undefined => (e as { status?: number })?.status;

export class GitHubLedgerStore implements LedgerStore {
  private readonly owner: string;
  private readonly repo: string;
  private readonly branch: string;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private tip: Tip | null = null;
  private readonly shards = new Map<string, { text: string; entries: LedgerEntry[] }>(); // by blob sha
  /** once the branch was seen, its disappearance is an error, not an empty ledger */
  private sawBranch = false;
  /** GitHub API calls this store has made (for budgeting) */
  calls = 0;

  constructor(
    private readonly octokit: LedgerOctokit,
    opts: GitHubLedgerStoreOptions,
  ) {
    this.owner = opts.owner;
    this.repo = opts.repo;
    this.branch = opts.branch ?? 'ledger';
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
  }

  private get where(): string {
    return `${this.owner}/${this.repo}@${this.branch}`;
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    this.calls++;
    return f();
  }

  /** The commit the branch points to, or null when the branch does not exist yet. */
  private async headCommit(): Promise<string | null> {
    try {
      const { data } = await this.call(() => this.octokit.rest.git.getRef({ owner: this.owner, repo: this.repo, ref: `heads/${this.branch}` }));
      this.sawBranch = true;
      return data.object.sha;
    } catch (e) {
      if (status(e) === 404) return null;
      throw e;
    }
  }

  private async treeOf(commit: string): Promise<string> {
    const { data } = await this.call(() => this.octokit.rest.git.getCommit({ owner: this.owner, repo: this.repo, commit_sha: commit }));
    return data.tree.sha;
  }

  /** A file's text at a commit, or null when it does not exist. */
  private async fileText(path: string, commit: string): Promise<string | null> {
    try {
      const { data } = await this.call(() =>
        this.octokit.rest.repos.getContent({ owner: this.owner, repo: this.repo, path, ref: commit, mediaType: { format: 'raw' } }),
      );
      return typeof data === 'string' ? data : Buffer.from((data as { content?: string }).content ?? '', 'base64').toString('utf8');
    } catch (e) {
      if (status(e) === 404) return null;
      throw e;
    }
  }

  /** The head and tail shard at `commit`, read through HEAD.json (4 calls with the getRef before it). */
  private async loadTip(commit: string): Promise<Tip> {
    if (this.tip?.commit === commit) return this.tip;
    const tree = await this.treeOf(commit);
    const headText = await this.fileText(HEAD_FILE, commit);
    if (headText === null) {
      // No HEAD.json: an empty ledger, unless entries exist (then appending at seq 0 would fork it).
      if ((await this.listShards(commit)).length) {
        throw new Error(`${this.where} has shards under ${ENTRIES_DIR}/ but no ${HEAD_FILE}; run \`npm run ledger -- verify\` on a checkout and restore ${HEAD_FILE} before appending.`);
      }
      return { commit, tree, last: null, tail: null, all: [] };
    }
    const head = parseHeadFile(headText, `${HEAD_FILE} on ${this.where}`);
    const path = head.shard;
    const text = await this.fileText(path, commit);
    if (text === null) throw new Error(`${this.where}: ${HEAD_FILE} names seq ${head.seq} but ${path} is missing; run \`npm run ledger -- verify\` on a checkout before appending.`);
    const entries = parseLedgerText([{ path, text }]);
    const last = entries[entries.length - 1];
    if (!last || last.seq !== head.seq || last.hash !== head.hash) {
      throw new Error(
        `${this.where}: ${HEAD_FILE} says seq ${head.seq} ${head.hash.slice(0, 12)} but ${path} ends at ${last ? `seq ${last.seq} ${last.hash.slice(0, 12)}` : 'no entry'}; run \`npm run ledger -- verify\` on a checkout before appending.`,
      );
    }
    return { commit, tree, last, tail: { path, text }, all: null };
  }

  /** The shard files at `commit` (path and blob sha). */
  private async listShards(commit: string): Promise<{ path: string; sha: string }[]> {
    let listing: { path: string; sha: string; type: string }[];
    try {
      const { data } = await this.call(() => this.octokit.rest.repos.getContent({ owner: this.owner, repo: this.repo, path: ENTRIES_DIR, ref: commit }));
      listing = Array.isArray(data) ? data : [];
    } catch (e) {
      if (status(e) !== 404) throw e;
      listing = [];
    }
    // The contents API lists at most 1,000 files; reading a prefix of the chain as if it were all
    // of it would make the next append fork the ledger.
    if (listing.length >= 1000) {
      throw new Error(`${this.where} has 1,000 or more shards, more than GitHub's contents API lists; read it from a checkout (readLedgerDir) or raise SHARD_MAX_BYTES.`);
    }
    return listing.filter((f) => f.type === 'file' && f.path.endsWith('.jsonl'));
  }

  async read(): Promise<LedgerEntry[]> {
    const commit = await this.headCommit();
    if (commit === null) return [];
    if (this.tip?.commit === commit && this.tip.all) return [...this.tip.all];
    const tree = this.tip?.commit === commit ? this.tip.tree : await this.treeOf(commit);
    const files = await this.listShards(commit);
    for (const f of files) {
      if (this.shards.has(f.sha)) continue;
      const { data } = await this.call(() => this.octokit.rest.git.getBlob({ owner: this.owner, repo: this.repo, file_sha: f.sha }));
      const text = Buffer.from(data.content, data.encoding === 'base64' ? 'base64' : 'utf8').toString('utf8');
      this.shards.set(f.sha, { text, entries: parseLedgerText([{ path: f.path, text }]) });
    }
    const ordered = files.map((f) => ({ path: f.path, ...this.shards.get(f.sha)! })).sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
    const all = ordered.flatMap((s) => s.entries);
    const check = verifyChain(all);
    if (!check.ok) throw new Error(`The ledger on ${this.where} is broken at seq ${check.seq}: ${check.problem}. Nothing should be appended until it is repaired.`);
    const lastShard = ordered[ordered.length - 1];
    this.tip = {
      commit,
      tree,
      last: all.length ? all[all.length - 1] : null,
      tail: lastShard ? { path: lastShard.path, text: lastShard.text } : null,
      all,
    };
    return [...all];
  }

  async append(news: NewEntry[], files: Record<string, string> = {}): Promise<LedgerEntry[]> {
    return this.write(news, files);
  }

  async appendFor(build: NewEntriesFor, files: Record<string, string> = {}): Promise<LedgerEntry[]> {
    return this.write(build, files);
  }

  private async write(news: NewEntry[] | NewEntriesFor, files: Record<string, string>): Promise<LedgerEntry[]> {
    for (const p of Object.keys(files)) {
      if (p === HEAD_FILE || p.startsWith(`${ENTRIES_DIR}/`) || p.startsWith('/') || p.split('/').includes('..')) {
        throw new Error(`Ledger append rejected: extra file "${p}" may not be ${HEAD_FILE}, under ${ENTRIES_DIR}/, absolute or contain ".."; use a path such as diffs/<sha>.diff. Nothing was appended.`);
      }
    }
    if (Array.isArray(news) && news.length === 0 && Object.keys(files).length === 0) return [];
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 1) * (1 + Math.random())));
      // First try on the head this store last saw; a stale guess costs one 422, not a read per append.
      let tip: Tip | null = attempt === 0 ? this.tip : null;
      let list: NewEntry[];
      if (typeof news === 'function') {
        if (!tip?.all) {
          await this.read();
          tip = this.tip?.all ? this.tip : null; // null: the branch does not exist yet
        }
        list = news(tip ? [...tip.all!] : []);
        if (list.length === 0 && Object.keys(files).length === 0) return [];
      } else {
        list = news;
      }
      if (!tip) {
        const commit = await this.headCommit();
        if (commit === null && this.sawBranch) {
          throw new Error(`The ledger branch ${this.where} was deleted after this store read it; restore it (its last head is in the witness attestations) instead of starting a new ledger. Nothing was appended.`);
        }
        tip = commit === null ? null : await this.loadTip(commit);
      }
      const added = appendEntries(tip?.last ? [tip.last] : [], list);
      const shards = shardWrites(tip?.tail ?? null, added);
      const writes = { ...files, ...shards.files };
      const tree = await this.call(() =>
        this.octokit.rest.git.createTree({
          owner: this.owner,
          repo: this.repo,
          ...(tip ? { base_tree: tip.tree } : {}),
          tree: Object.entries(writes).map(([path, content]) => ({ path, mode: '100644' as const, type: 'blob' as const, content })),
        }),
      );
      const first = added[0]?.seq;
      const message = added.length ? `ledger: seq ${first}${added.length > 1 ? `-${first + added.length - 1}` : ''} (${[...new Set(added.map((e) => e.type))].join(', ')})` : 'ledger: files';
      const commit = await this.call(() =>
        this.octokit.rest.git.createCommit({ owner: this.owner, repo: this.repo, message, tree: tree.data.sha, parents: tip ? [tip.commit] : [] }),
      );
      const moved = await this.moveBranch(commit.data.sha, tip === null);
      if (!moved) {
        this.tip = null;
        continue;
      }
      this.tip = {
        commit: commit.data.sha,
        tree: tree.data.sha,
        last: added.length ? added[added.length - 1] : (tip?.last ?? null),
        tail: shards.tail,
        all: tip?.all ? [...tip.all, ...added] : tip === null ? added : null,
      };
      return added;
    }
    throw new Error(
      `The ledger branch ${this.where} moved on each of ${this.maxAttempts} attempts (another writer is appending); nothing was appended. Retry the append later.`,
    );
  }

  /** Points the branch at `commit`: true when done, false when the branch moved (or appeared) meanwhile. */
  private async moveBranch(commit: string, create: boolean): Promise<boolean> {
    try {
      if (create) {
        await this.call(() => this.octokit.rest.git.createRef({ owner: this.owner, repo: this.repo, ref: `refs/heads/${this.branch}`, sha: commit }));
      } else {
        await this.call(() => this.octokit.rest.git.updateRef({ owner: this.owner, repo: this.repo, ref: `heads/${this.branch}`, sha: commit, force: false }));
      }
      return true;
    } catch (e) {
      if (status(e) === 422) return false; // not a fast forward / already exists: someone else wrote first
      // The request may have landed even though its answer was lost: look before trying again,
      // or the retry would append the same entries twice.
      if ((await this.headCommit().catch(() => undefined)) === commit) return true;
      throw e;
    }
  }
}
