// The ledger on a branch of a GitHub repository (layout in shards.ts). Every append rewrites
// entries/tail.jsonl, so that file's blob sha names the state of the whole chain, and an append
// is one compare-and-swap on it: PUT contents/entries/tail.jsonl with `sha` = the tail the new
// entries were sequenced on. GitHub refuses a stale sha (409), or a missing one once the file
// exists (422); the store then re-reads the tail, re-sequences (calls `build` again on the newer
// chain for appendFor) and retries with back-off. Sealing a full tail, writing extra files or
// creating the branch needs several files in one commit: a Git Data commit whose parent is the
// commit holding the tail it was built on, moved without force (422 when the branch moved). Both
// paths change tail.jsonl whenever they add entries, so each refuses a writer that raced the
// other: no seq is used twice, no entry is lost, the chain cannot fork.
//
// Reading: the store trusts the chain it last confirmed (its own successful write, or a read)
// for `trustMs` (15 minutes): read() then costs nothing. That is safe because nothing is decided
// on the ledger alone: every write is conditional on the tail it was built on, and appendFor
// builds its entries again on the chain the write lands on, so a process acting on a stale view
// costs one refused write, never a fork, a double grant or a lost entry. (The App runs one
// process per installation; a second one is the rare case.) Past the window, a conditional GET
// of the tail (If-None-Match) answers 304 when nothing changed, which GitHub does not count
// against the rate limit; new lines are verified on top of the last known entry only.
//
// API calls (the App budgets ~12 per experiment; `calls` counts requests sent, `notModified` the 304s):
//   append, warm (this store read or wrote the ledger before):  1  PUT contents/entries/tail.jsonl
//   append sealing the tail, or with extra files:              3  createTree, createCommit, updateRef
//     + 4 when the store's view came from a read, not its own write: getRef, getCommit, the root tree and entries/
//   append, cold (a new process), tail starting at seq 0:      2  GET tail, PUT
//   first append (no branch yet):                              5  GET tail (404), getRef (404), createTree,
//                                                                  createCommit, createRef
//   each lost race:                                           +2  the refused write and a GET of the tail
//     +1-3 getRef, getCommit(s) when appendFor's entries are already on the chain byte for byte: this
//                                                                  write's own (answer lost, client retried) or a twin's
//   read within trustMs of the last confirmation:              0
//   read past it:                                              1  GET tail, If-None-Match (304 when unchanged;
//                                                                  a 200 right after this store's own write)
//   read cold, or after another writer sealed a shard:         1 + 2 to list entries/ (getTree of the branch's
//                                                                  root, then of entries/; not when the tail starts
//                                                                  at seq 0) + getBlob per sealed shard not cached
// randomBytes is read at call time (crypto.randomBytes), so the simulator can seed it: see sim/determinism.ts
import crypto, { createHash } from 'node:crypto';
import type { Octokit } from '@octokit/rest';
import { appendEntries, contentProblem, knownHeadProblem, lineHashMatches, linkProblem } from './chain.js';
import type { LedgerEntry, NewEntry } from './entries.js';
import { ENTRIES_DIR, HEAD_FILE, isTail, missingTail, parseShard, shardStart, shardWrites, TAIL_FILE, type Tail } from './shards.js';
import type { LedgerStore, NewEntriesFor } from './store.js';

type Rest = Octokit['rest'];
/** The part of an Octokit (from @octokit/rest, Probot's context.octokit, or @actions/github) the store uses. */
export interface LedgerOctokit {
  rest: {
    git: Pick<Rest['git'], 'getRef' | 'getCommit' | 'getBlob' | 'getTree' | 'createTree' | 'createCommit' | 'updateRef' | 'createRef'>;
    repos: Pick<Rest['repos'], 'getContent' | 'createOrUpdateFileContents'>;
  };
}

export interface GitHubLedgerStoreOptions {
  owner: string;
  repo: string;
  /** default 'ledger' */
  branch?: string;
  /** attempts when other writers keep winning (default 5) */
  maxAttempts?: number;
  /** first back-off in ms, doubled per retry, plus jitter (default 250) */
  retryDelayMs?: number;
  /** how long read() trusts the chain this store last confirmed, in ms (default 15 minutes) */
  trustMs?: number;
  /** the clock for trustMs (default Date.now) */
  now?: () => number;
}

/** The chain as this store last confirmed it. */
interface View {
  /** every entry, verified */
  all: LedgerEntry[];
  /** tail.jsonl as stored, with its blob sha; null while the ledger has no entries */
  tail: (Tail & { sha: string }) | null;
  /** the ETag of the 200 that gave `tail`, while it still describes it */
  etag: string | null;
  /** the branch commit holding `tail` and its tree, when known (the Git Data path builds on it) */
  commit: { sha: string; tree: string } | null;
  /** whether the branch exists */
  branch: boolean;
  /** when this view was last confirmed (store clock) */
  at: number;
}

interface ShardFile {
  path: string;
  sha: string;
}

const status = (e: unknown): number | undefined => (e as { status?: number })?.status;
/** git's blob id of a text: what GitHub reports as a file's sha. */
const blobSha = (text: string) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0`).update(text).digest('hex');
const lineCount = (text: string) => text.split('\n').length - 1;

export class GitHubLedgerStore implements LedgerStore {
  private readonly owner: string;
  private readonly repo: string;
  private readonly branch: string;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly trustMs: number;
  private readonly now: () => number;
  private view: View | null = null;
  /** sealed shards by blob sha: immutable, so read and verified once */
  private readonly sealed = new Map<string, LedgerEntry[]>();
  /** once the branch was seen, its disappearance is an error, not an empty ledger */
  private sawBranch = false;
  /** GitHub API requests this store has sent (for budgeting), 304s included */
  calls = 0;
  /** the requests answered 304 Not Modified (not counted against the rate limit by GitHub) */
  notModified = 0;

  constructor(
    private readonly octokit: LedgerOctokit,
    opts: GitHubLedgerStoreOptions,
  ) {
    this.owner = opts.owner;
    this.repo = opts.repo;
    this.branch = opts.branch ?? 'ledger';
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
    this.trustMs = opts.trustMs ?? 15 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  private get where(): string {
    return `${this.owner}/${this.repo}@${this.branch}`;
  }

  private get at() {
    return { owner: this.owner, repo: this.repo };
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    this.calls++;
    return f();
  }

  async read(): Promise<LedgerEntry[]> {
    if (!this.view || this.now() - this.view.at >= this.trustMs) await this.refresh();
    return [...this.view!.all];
  }

  /** The branch as it is now (a conditional GET of the tail: 304, not counted against the rate limit, when nothing changed). */
  async readFresh(): Promise<LedgerEntry[]> {
    await this.refresh();
    return [...this.view!.all];
  }

  async append(news: NewEntry[], files: Record<string, string> = {}): Promise<LedgerEntry[]> {
    return this.write(news, files);
  }

  async appendFor(build: NewEntriesFor, files: Record<string, string> = {}): Promise<LedgerEntry[]> {
    return this.write(build, files);
  }

  // ---- reading ----

  /** Brings the view up to the branch as it is now. */
  private async refresh(): Promise<void> {
    const known = this.view;
    const got = await this.getTail(known?.tail ? known.etag : null);
    if (got === 'not-modified') {
      known!.at = this.now();
      return;
    }
    if (got === null) return this.noTail(known);
    this.sawBranch = true;
    if (known?.tail?.sha === got.sha) {
      Object.assign(known, { etag: got.etag, at: this.now() });
      return;
    }
    // The common change: other writers appended lines to the tail this store holds.
    if (known?.tail && known.tail.text.endsWith('\n') && got.text.startsWith(known.tail.text)) {
      const more = parseShard(TAIL_FILE, got.text.slice(known.tail.text.length), lineCount(known.tail.text) + 1);
      this.check(more.entries, more.lines, known.all);
      this.view = { all: [...known.all, ...more.entries], tail: { first: known.tail.first, text: got.text, sha: got.sha }, etag: got.etag, commit: null, branch: true, at: this.now() };
      return;
    }
    // Cold, or another writer sealed the tail: the sealed shards come from one listing, which is
    // the snapshot (the tail read above is used only if the listing names the same blob).
    const listing = got.first === 0 ? [{ path: TAIL_FILE, sha: got.sha }] : await this.listShards(this.branch);
    await this.load(listing, got, known);
  }

  /** The branch has no tail.jsonl: no branch, an empty ledger, or a broken one. */
  private async noTail(known: View | null): Promise<void> {
    const commit = await this.headCommit();
    if (commit === null) {
      if (this.sawBranch) throw new Error(`The ledger branch ${this.where} was deleted after this store read it; restore it (its last head is in the witness attestations) instead of starting a new ledger. Nothing was appended.`);
      this.view = { all: [], tail: null, etag: null, commit: null, branch: false, at: this.now() };
      return;
    }
    this.sawBranch = true;
    const { data: head } = await this.call(() => this.octokit.rest.git.getCommit({ ...this.at, commit_sha: commit }));
    const shards = (await this.listShards(head.tree.sha)).filter((f) => !isTail(f.path));
    if (shards.length) throw new Error(`${missingTail(this.where, shards.sort((a, b) => shardStart(a.path)! - shardStart(b.path)!)[shards.length - 1].path)} Nothing was appended.`);
    if (known?.all.length) throw new Error(`${this.where} no longer holds ${TAIL_FILE}, but this store read seq ${known.all.length - 1} there: entries were removed. Restore the branch (its last head is in the witness attestations); nothing was appended.`);
    this.view = { all: [], tail: null, etag: null, commit: null, branch: true, at: this.now() };
  }

  /** The view from a listing of entries/ (one commit's shards), `got` being a tail read just before. */
  private async load(listing: ShardFile[], got: { sha: string; text: string; etag: string | null }, known: View | null): Promise<void> {
    const tailFile = listing.find((f) => isTail(f.path));
    const shards = listing.filter((f) => !isTail(f.path)).sort((a, b) => shardStart(a.path)! - shardStart(b.path)!);
    if (!tailFile) {
      if (shards.length) throw new Error(`${missingTail(this.where, shards[shards.length - 1].path)} Nothing was appended.`);
      return this.refresh(); // the tail was removed between the two requests: look again
    }
    const all: LedgerEntry[] = [];
    for (const f of shards) {
      let entries = this.sealed.get(f.sha);
      if (!entries) {
        const parsed = parseShard(f.path, await this.blobText(f.sha));
        this.check(parsed.entries, parsed.lines, null);
        entries = parsed.entries;
        this.sealed.set(f.sha, entries);
      }
      all.push(...entries);
    }
    const same = tailFile.sha === got.sha;
    const text = same ? got.text : await this.blobText(tailFile.sha);
    const tail = parseShard(TAIL_FILE, text);
    this.check(tail.entries, tail.lines, null);
    all.push(...tail.entries);
    // Content was checked per blob above; links run over the whole chain (cheap: no hashing).
    for (let i = 0; i < all.length; i++) {
      const link = linkProblem(all[i], i, i ? all[i - 1] : null);
      if (link) throw this.broken(link.seq, link.problem);
    }
    const last = known?.all[known.all.length - 1];
    const rewrite = last && knownHeadProblem(all, { seq: last.seq, hash: last.hash });
    if (rewrite) throw this.broken(rewrite.seq, `${rewrite.problem} (this store read seq ${last.seq} earlier)`);
    this.view = { all, tail: { first: tail.entries[0]?.seq ?? all.length, text, sha: tailFile.sha }, etag: same ? got.etag : null, commit: null, branch: true, at: this.now() };
  }

  /** Checks entries' content, and their links on top of `before` when given (else links are checked over the whole chain later). */
  private check(entries: LedgerEntry[], lines: string[], before: LedgerEntry[] | null): void {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (before) {
        const seq = before.length + i;
        const link = linkProblem(e, seq, i ? entries[i - 1] : (before[before.length - 1] ?? null));
        if (link) throw this.broken(link.seq, link.problem);
      }
      const problem = contentProblem(e, lineHashMatches(lines[i], e));
      if (problem) throw this.broken(e.seq, problem);
    }
  }

  private broken(seq: number, problem: string): Error {
    return new Error(`The ledger on ${this.where} is broken at seq ${seq}: ${problem}. Nothing should be appended until it is repaired (npm run ledger -- verify on a checkout names the file and line).`);
  }

  /** tail.jsonl at the branch: 'not-modified' (304 to `etag`), null when absent, or its content. */
  private async getTail(etag: string | null): Promise<'not-modified' | null | { sha: string; text: string; etag: string | null; first: number | null }> {
    try {
      const { data, headers } = await this.call(() =>
        this.octokit.rest.repos.getContent({ ...this.at, path: TAIL_FILE, ref: this.branch, ...(etag ? { headers: { 'if-none-match': etag } } : {}) }),
      );
      if (Array.isArray(data) || data.type !== 'file') throw new Error(`${TAIL_FILE} on ${this.where} is not a file; the ledger's active shard must be one. Nothing was appended.`);
      // Up to 1 MB the content comes inline; above, GitHub sends none (encoding "none") and the blob must be read.
      const inline = data.encoding === 'base64' && (data.content !== '' || data.size === 0);
      const text = inline ? Buffer.from(data.content, 'base64').toString('utf8') : await this.blobText(data.sha);
      const m = /^\{"seq":(\d+),/.exec(text);
      return { sha: data.sha, text, etag: headers.etag ?? null, first: m ? Number(m[1]) : null };
    } catch (e) {
      if (status(e) === 304) {
        this.notModified++;
        return 'not-modified';
      }
      if (status(e) === 404) return null;
      throw e;
    }
  }

  private async blobText(sha: string): Promise<string> {
    const { data } = await this.call(() => this.octokit.rest.git.getBlob({ ...this.at, file_sha: sha }));
    return Buffer.from(data.content, data.encoding === 'base64' ? 'base64' : 'utf8').toString('utf8');
  }

  /** The shard files under entries/ of a tree (a branch name, or a root tree's sha): path and
   * blob sha; empty when there are none. Read from git trees (the root tree, then entries/): the
   * contents API lists at most 1,000 files, and reading a prefix of the chain as if it were all of
   * it would make the next append fork the ledger. */
  private async listShards(tree: string): Promise<ShardFile[]> {
    let root: { path?: string; type?: string; sha?: string }[];
    try {
      root = (await this.call(() => this.octokit.rest.git.getTree({ ...this.at, tree_sha: tree }))).data.tree;
    } catch (e) {
      if (status(e) !== 404) throw e;
      return [];
    }
    const dir = root.find((t) => t.path === ENTRIES_DIR && t.type === 'tree');
    if (!dir?.sha) return [];
    const dirSha = dir.sha;
    const { data } = await this.call(() => this.octokit.rest.git.getTree({ ...this.at, tree_sha: dirSha }));
    if (data.truncated) throw new Error(`${this.where}: GitHub truncated the listing of ${ENTRIES_DIR}/ (${data.tree.length} files); read the ledger from a checkout (readLedgerDir).`);
    return data.tree.filter((f) => f.type === 'blob' && f.path?.endsWith('.jsonl') && f.sha).map((f) => ({ path: `${ENTRIES_DIR}/${f.path}`, sha: f.sha! }));
  }

  /** The commit the branch points to, or null when the branch does not exist. */
  private async headCommit(): Promise<string | null> {
    try {
      const { data } = await this.call(() => this.octokit.rest.git.getRef({ ...this.at, ref: `heads/${this.branch}` }));
      return data.object.sha;
    } catch (e) {
      if (status(e) === 404) return null;
      throw e;
    }
  }

  // ---- writing ----

  private async write(news: NewEntry[] | NewEntriesFor, files: Record<string, string>): Promise<LedgerEntry[]> {
    for (const p of Object.keys(files)) {
      if (p === HEAD_FILE || p.startsWith(`${ENTRIES_DIR}/`) || p.startsWith('/') || p.split('/').includes('..')) {
        throw new Error(`Ledger append rejected: extra file "${p}" may not be ${HEAD_FILE}, under ${ENTRIES_DIR}/, absolute or contain ".."; use a path such as diffs/<sha>.diff. Nothing was appended.`);
      }
    }
    if (Array.isArray(news) && news.length === 0 && Object.keys(files).length === 0) return [];
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 1) * (1 + Math.random())));
      // Writes build on the view even past trustMs: a stale one costs a refused write, not a read per append.
      if (!this.view) await this.refresh();
      const view = this.view!;
      const list = typeof news === 'function' ? news([...view.all]) : news;
      if (list.length === 0 && Object.keys(files).length === 0) return [];
      const added = appendEntries(view.all, list);
      const plan = shardWrites(view.tail, added);
      const one = view.branch && added.length > 0 && plan.sealed.length === 0 && Object.keys(files).length === 0;
      // A write id in the commit message tells this write from another writer's identical one.
      const id = `write ${crypto.randomBytes(6).toString('hex')}`;
      const message = `${this.message(added)}\n\n${id}`;
      const built = typeof news === 'function';
      const outcome = one ? await this.putTail(view, added, plan.tail!, message, () => this.isMine(added, id, built)) : await this.commitFiles(view, added, { ...files, ...plan.files }, plan.tail, message);
      if (outcome === 'done') return added;
      // Refused: someone else wrote first, or this write did land and the client sent it again
      // after losing the answer. Look at the branch as it is now.
      await this.refresh();
      if (await this.isMine(added, id, built)) return added;
    }
    throw new Error(
      `The ledger on ${this.where} changed on each of ${this.maxAttempts} attempts (another writer is appending); nothing was appended. Retry the append later.`,
    );
  }

  /** Whether `added` (non-empty) is on the chain as now viewed: a write whose answer was lost, or retried by the client, did land. */
  private landed(added: LedgerEntry[]): boolean {
    return added.length > 0 && added.every((e) => this.view!.all[e.seq]?.hash === e.hash);
  }

  /**
   * Whether this write landed. Plain entries found on the chain are recorded whichever writer put
   * them there. Built ones (appendFor) can equal another writer's to the millisecond (two
   * processes handling one event); those count only if a recent commit carries this write's
   * message, since the caller learns from an empty rebuild that the work was done elsewhere.
   */
  private async isMine(added: LedgerEntry[], id: string, built: boolean): Promise<boolean> {
    if (!this.landed(added)) return false;
    if (!built) return true;
    let sha = await this.headCommit();
    for (let back = 0; sha && back < 3; back++) {
      const { data } = await this.call(() => this.octokit.rest.git.getCommit({ ...this.at, commit_sha: sha! }));
      if (data.message.split('\n').includes(id)) return true;
      sha = data.parents[0]?.sha ?? null;
    }
    return false;
  }

  private message(added: LedgerEntry[]): string {
    const first = added[0]?.seq;
    return added.length ? `ledger: seq ${first}${added.length > 1 ? `-${first + added.length - 1}` : ''} (${[...new Set(added.map((e) => e.type))].join(', ')})` : 'ledger: files';
  }

  /** The warm append: one PUT of tail.jsonl, conditional on the tail's blob sha. */
  private async putTail(view: View, added: LedgerEntry[], tail: Tail, message: string, mine: () => Promise<boolean>): Promise<'done' | 'refused'> {
    try {
      const { data } = await this.call(() =>
        this.octokit.rest.repos.createOrUpdateFileContents({
          ...this.at,
          path: TAIL_FILE,
          branch: this.branch,
          message,
          content: Buffer.from(tail.text).toString('base64'),
          ...(view.tail ? { sha: view.tail.sha } : {}),
          // A 409 means another writer was first: resending the same stale sha (what Octokit's
          // retry plugin does with a 409) can only fail again. This store re-reads and re-sequences.
          request: { retries: 0 },
        }),
      );
      const commit = data.commit.sha && data.commit.tree?.sha ? { sha: data.commit.sha, tree: data.commit.tree.sha } : null;
      this.view = { all: [...view.all, ...added], tail: { ...tail, sha: data.content?.sha ?? blobSha(tail.text) }, etag: null, commit, branch: true, at: this.now() };
      return 'done';
    } catch (e) {
      // 409: the tail is not at that sha any more; 422: it was created meanwhile ("sha" wasn't
      // supplied); 404: the branch is gone (the re-read says whether that is an error).
      if (status(e) === 409 || status(e) === 422 || status(e) === 404) return 'refused';
      return this.afterUnknown(e, mine);
    }
  }

  /**
   * Several files in one Git Data commit (sealed shards, the new tail, extra files), on the commit
   * that holds the view's tail, moved without force; the branch is created when there is none.
   */
  private async commitFiles(view: View, added: LedgerEntry[], writes: Record<string, string>, tail: Tail | null, message: string): Promise<'done' | 'refused'> {
    let base = view.branch ? view.commit : null;
    if (view.branch && !base) {
      base = await this.locate(view);
      if (!base) return 'refused';
    }
    const tree = await this.call(() =>
      this.octokit.rest.git.createTree({
        ...this.at,
        ...(base ? { base_tree: base.tree } : {}),
        tree: Object.entries(writes).map(([path, content]) => ({ path, mode: '100644' as const, type: 'blob' as const, content })),
      }),
    );
    const commit = await this.call(() =>
      this.octokit.rest.git.createCommit({ ...this.at, message, tree: tree.data.sha, parents: base ? [base.sha] : [] }),
    );
    try {
      if (base) await this.call(() => this.octokit.rest.git.updateRef({ ...this.at, ref: `heads/${this.branch}`, sha: commit.data.sha, force: false }));
      else await this.call(() => this.octokit.rest.git.createRef({ ...this.at, ref: `refs/heads/${this.branch}`, sha: commit.data.sha }));
    } catch (e) {
      if (status(e) === 422) {
        view.commit = null; // not a fast forward / already exists: the branch moved, maybe without touching the tail
        return 'refused';
      }
      // The request may have landed though its answer was lost: look before trying again.
      if ((await this.headCommit().catch(() => undefined)) !== commit.data.sha) throw e;
    }
    this.sawBranch = true;
    const newTail = added.length && tail ? { ...tail, sha: blobSha(tail.text) } : view.tail;
    this.view = { all: [...view.all, ...added], tail: newTail, etag: added.length ? null : view.etag, commit: { sha: commit.data.sha, tree: tree.data.sha }, branch: true, at: this.now() };
    return 'done';
  }

  /** The branch's commit and tree, if that commit still holds the view's tail (else null: the chain moved). */
  private async locate(view: View): Promise<{ sha: string; tree: string } | null> {
    const sha = await this.headCommit();
    if (sha === null) return null; // refresh() says whether it was deleted
    const { data } = await this.call(() => this.octokit.rest.git.getCommit({ ...this.at, commit_sha: sha }));
    const tail = (await this.listShards(data.tree.sha)).find((f) => isTail(f.path));
    return (tail?.sha ?? null) === (view.tail?.sha ?? null) ? { sha, tree: data.tree.sha } : null;
  }

  /** A write failed without saying it was refused: if it landed after all, done; otherwise the error stands. */
  private async afterUnknown(e: unknown, mine: () => Promise<boolean>): Promise<'done'> {
    try {
      await this.refresh();
    } catch (r) {
      throw status(r) === undefined ? r : e; // the ledger's own problem (deleted, broken) says more than a second HTTP error
    }
    if (await mine()) return 'done';
    throw e;
  }
}
