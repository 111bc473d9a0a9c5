// A stateful stand-in for the part of GitHub the App uses (api.github.com, codeload and the
// artifact storage it redirects to), as one transport-agnostic function: a request (method, URL,
// headers, body) in, an answer (status, body, headers) out. Two adapters serve it: nock for the
// scenario tests (test/app/fake-github.ts) and an in-process `fetch` for the simulator
// (sim/github/fetch.ts). The simulator owns it; test/ imports it.
//
// What it models as GitHub documents it (each cited where it is implemented):
// - git data, contents (compare-and-swap on the blob sha, ETag and 304), PRs, labels, comments,
//   check runs, compare, merges with the head `sha` guard;
// - Actions: `workflow_dispatch` creates a run of the workflow file *at the ref*, with its inputs
//   checked against that file; the run's `concurrency` group (evaluated with the Actions
//   expression engine) keeps one running and one pending run and cancels the rest; runs-on labels
//   pick the runner; jobs, artifacts and their downloads; the workflow_job webhook (queued,
//   in_progress, completed) and the jobs API with `runner_name` null while a job is queued; a
//   run cancelled (202, or 409 once it completed);
// - rate limits: x-ratelimit-* headers on every answer, the primary limit per hour, and the
//   documented secondary limits (points per minute, content creation per minute and per hour)
//   answered with 403 + retry-after, when `rateLimits` is on;
// - faults injected by the caller (5xx, timeouts, rate limits), once each, in order.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { parse as parseYaml } from 'yaml';
import { Lexer, Parser, Evaluator, data } from '@actions/expressions';
import { exampleResponse, findOperation } from './openapi.js';

export type Reply = [number, unknown?, Record<string, string>?];
export interface Fault {
  method: string;
  path: RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** the request never gets an answer: the caller's fetch fails (a network timeout) */
  timeout?: boolean;
  /** with `timeout`: GitHub did what was asked, only the answer was lost (the caller cannot tell) */
  landed?: boolean;
  /** only once this holds (e.g. after a merge); until then the fault waits its turn */
  when?: () => boolean;
}

export interface FakeRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** the request body as text (JSON for every operation the App uses) */
  body?: string;
}
export interface FakeResponse {
  status: number;
  /** JSON value, text, or bytes (zip archives) */
  body: unknown;
  headers: Record<string, string>;
  /** set when the fault was a timeout: the adapter fails the request instead of answering */
  timeout?: boolean;
}

export const OWNER = 'Codertocat';
export const REPO = 'Hello-World';
/** the App's slug (GET /app) and so its bot user: the `sender` of what its installation token does */
export const APP_SLUG = 'autoresearch-swarm';
export const APP_BOT = `${APP_SLUG}[bot]`;
/** the App's OAuth client (GET /app's client_id) and its secret: the runner route checks each token with it */
export const APP_CLIENT = { clientId: 'Iv1.0', clientSecret: 'sim-client-secret' };
const P = `/repos/${OWNER}/${REPO}`;
const API = 'https://api.github.com';
const CODELOAD = 'https://codeload.github.com';
const PIPELINES = 'https://pipelinesghubeus2.actions.githubusercontent.com';

type Files = Map<string, Uint8Array>;
const sha1 = (s: string | Uint8Array) => createHash('sha1').update(s).digest('hex');
const bytes = (c: string | Uint8Array) => (typeof c === 'string' ? strToU8(c) : c);
/** git's blob id, which GitHub reports as a file's sha (and checks a contents PUT's `sha` against) */
const blobShas = new WeakMap<Uint8Array, string>();
export const blobSha = (b: Uint8Array): string => {
  let h = blobShas.get(b);
  if (h === undefined) {
    h = createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
    blobShas.set(b, h);
  }
  return h;
};

export interface Pull {
  number: number;
  title: string;
  /** the description (null: none) */
  body?: string | null;
  user: string;
  head: string;
  files: { filename: string; status: string; previous_filename?: string }[];
  labels: string[];
  state: 'open' | 'closed';
  merged: boolean;
  created_at: string;
  merge_commit_sha?: string;
  /** false: the App may not push to the head (a fork without "allow edits by maintainers"): update-branch answers 403 */
  updatable?: boolean;
}
export interface CheckRun {
  id: number;
  head_sha: string;
  status: string;
  conclusion: string | null;
  title: string;
  summary: string;
  name?: string;
}
export interface Runner {
  id: number;
  name: string;
  status: 'online' | 'offline';
  busy: boolean;
  labels: string[];
  /** a just-in-time runner: it takes one job and GitHub removes it after that job */
  ephemeral?: boolean;
}
export interface RunArtifacts {
  runner_name: string;
  /** how long the job ran by GitHub's clock (default 345 s: a 300 s budget plus setup and evaluation) */
  job_seconds?: number;
  artifact: { name: string; files: Record<string, string>; size_in_bytes?: number } | null;
  /** the run as the workflow_run webhook and the runs listing describe it, once completed */
  workflow_run?: Record<string, unknown>;
}
/** A workflow run created by a dispatch, as GitHub Actions keeps it. */
export interface WorkflowRun {
  id: number;
  workflow: string;
  path: string;
  event: 'workflow_dispatch' | 'schedule';
  inputs: Record<string, string>;
  head_sha: string;
  display_title: string;
  /** lower-cased: GitHub treats group names case-insensitively */
  group: string | null;
  cancelInProgress: boolean;
  runsOn: string[];
  /** its one job's name (experiment.yml's names the job's nonce) */
  jobName?: string;
  status: 'pending' | 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'cancelled' | 'timed_out' | null;
  runner_name: string | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  /** who dispatched it (the run's `actor` and `triggering_actor`): the App's bot, or a user's token */
  actor: string;
}
export interface Delivery {
  id: string;
  name: string;
  payload: any;
}

interface Ctx {
  method: string;
  url: URL;
  path: string;
  body: any;
  headers: Record<string, string>;
}
type Handler = (c: Ctx) => Reply;

export interface FakeOptions {
  /** virtual or real time, in ms (Date.now by default) */
  now?: () => number;
  /** enforce the primary and secondary rate limits (off in the scenario tests, which use few calls) */
  rateLimits?: boolean;
}

/** The fake's whole state as JSON (FakeGitHub.snapshot / restore); blobs are base64, trees name them by sha. */
export interface FakeSnapshot {
  version: 1;
  commits: Record<string, { tree: string; parents: string[]; message: string }>;
  trees: Record<string, Record<string, string>>;
  blobs: Record<string, string>;
  refs: Record<string, string>;
  pulls: Pull[];
  issues: [number, { labels: string[] }][];
  comments: { id: number; issue: number; body: string; user?: string }[];
  checks: CheckRun[];
  runners: Runner[];
  accounts: Record<string, { created_at: string }>;
  runs: [number, RunArtifacts][];
  workflowRuns: WorkflowRun[];
  dispatches: FakeGitHub['dispatches'];
  merges: FakeGitHub['merges'];
  outbox: Delivery[];
  counters: { nextId: number; nextRunId: number; nextDelivery: number };
}

export class FakeGitHub {
  commits = new Map<string, { tree: string; parents: string[]; message: string }>();
  trees = new Map<string, Files>();
  blobs = new Map<string, Uint8Array>();
  refs = new Map<string, string>();
  pulls = new Map<number, Pull>();
  /** labels of issues that are not PRs (long-run requests) */
  issues = new Map<number, { labels: string[] }>();
  /** `user`: who wrote it (absent: the App's bot, which writes every comment the App's requests create) */
  comments = new Map<number, { id: number; issue: number; body: string; user?: string }>();
  checks = new Map<number, CheckRun>();
  runners: Runner[] = [];
  /** when each account was created (GET /user, /users/{login}); default 2020-01-01 */
  accounts = new Map<string, { created_at: string }>();
  runs = new Map<number, RunArtifacts>();
  workflowRuns = new Map<number, WorkflowRun>();
  /** `commit`: what the dispatch's ref resolved to, so the workflow file and code that run */
  dispatches: { workflow: string; ref: string; inputs: Record<string, string>; run_id?: number; commit?: string }[] = [];
  merges: { pr: number; sha: string; title: string; message: string; merge_sha: string }[] = [];
  /** Settings → Actions → fork PR approval (the App dispatches only under all_external_contributors); null: 404, as GitHub's description lists for an App that may not read it */
  forkApproval: string | null = 'all_external_contributors';
  /**
   * Each workflow's `state` (GET /actions/workflows/{id}), by file name; absent: active. GitHub sets
   * `disabled_inactivity` on a public repository's scheduled workflows after 60 days without
   * activity: their schedule stops firing (`fires`) until enabled again (PUT .../enable).
   */
  workflowStates = new Map<string, string>();
  /** answers to give instead of the real one, once each, in order (5xx, rate limits, timeouts) */
  faults: Fault[] = [];
  /** a fault to answer instead, drawn per request (the simulator's fault run); null: none */
  chaos: ((method: string, path: string) => Fault | null) | null = null;
  /** told when GitHub moved a PR's head itself (update-branch, for the App: `before` is the head it merged into): the simulator sends pull_request.synchronize */
  pushed: ((p: Pull, before: string) => void) | null = null;
  /** webhook events GitHub would send to the App, in order; the simulator delivers them */
  outbox: Delivery[] = [];
  /** requests answered, by "METHOD host" (a simple count; the adapters count by operation) */
  served = 0;
  readonly now: () => number;
  rateLimits: boolean;
  private nextId = 1000;
  private nextRunId = 90_000;
  private nextDelivery = 1;
  private readonly routes: { method: string; host: string; re: RegExp; fn: Handler }[] = [];

  constructor(opts: FakeOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.rateLimits = opts.rateLimits ?? false;
    this.install();
  }

  /** A commit of `files` on top of `parent`'s files (null deletes a path). */
  commit(changes: Record<string, string | Uint8Array | null>, parent: string | null, message = 'commit'): string {
    const files: Files = new Map(parent ? this.trees.get(this.commits.get(parent)!.tree)! : []);
    for (const [p, c] of Object.entries(changes)) {
      if (c === null) files.delete(p);
      else files.set(p, bytes(c));
    }
    const tree = this.putTree(files);
    const sha = sha1(`commit ${tree} ${parent} ${message} ${this.nextId++}`);
    this.commits.set(sha, { tree, parents: parent ? [parent] : [], message });
    return sha;
  }

  fileAt(commit: string, path: string): Uint8Array | undefined {
    const c = this.commits.get(commit) ?? this.commits.get(this.refs.get(`heads/${commit}`) ?? '');
    return c ? this.trees.get(c.tree)!.get(path) : undefined;
  }

  /** Every commit reachable from `a`, itself included (all parents: an updated PR branch holds merge commits). */
  ancestors(a: string): Set<string> {
    const seen = new Set<string>();
    const todo = [a];
    while (todo.length) {
      const x = todo.pop()!;
      if (seen.has(x) || !this.commits.has(x)) continue;
      seen.add(x);
      todo.push(...this.commits.get(x)!.parents);
    }
    return seen;
  }

  /** The nearest common ancestor of `a` and `b`: the first of `a`'s ancestors met walking back from `b`, breadth first. */
  mergeBase(a: string, b: string): string | null {
    const line = this.ancestors(a);
    const seen = new Set<string>();
    for (let level = [b]; level.length; ) {
      const next: string[] = [];
      for (const x of level) {
        if (line.has(x)) return x;
        if (seen.has(x)) continue;
        seen.add(x);
        next.push(...(this.commits.get(x)?.parents ?? []));
      }
      level = next;
    }
    return null;
  }

  /**
   * GitHub's "Update branch" (PUT /pulls/{n}/update-branch): a merge commit of the default branch
   * into the PR's head (parents: the head, then the default branch), git's three-way merge of
   * train.ts; the PR's head moves to it and `pushed` is told (the simulator sends
   * pull_request.synchronize). Null on a conflict.
   */
  updateBranch(p: Pull): string | null {
    const main = this.refs.get('heads/main')!;
    const merged = this.threeWay(this.mergeBase(p.head, main), p.head, main, 'trainer/train.ts');
    if (merged === null) return null;
    const tree = new Map(this.trees.get(this.commits.get(main)!.tree)!);
    tree.set('trainer/train.ts', merged);
    const treeSha = this.putTree(tree);
    const sha = sha1(`commit ${treeSha} ${p.head} ${main} update ${this.nextId++}`);
    this.commits.set(sha, { tree: treeSha, parents: [p.head, main], message: `Merge branch 'main' into pr-${p.number}` });
    const before = p.head;
    p.head = sha;
    this.pushed?.(p, before);
    return sha;
  }

  /**
   * `path` as a squash merge of `theirs` into `ours` leaves it (git merge-file against the merge
   * base, as GitHub merges); null on a conflict.
   */
  threeWay(base: string | null, ours: string, theirs: string, path: string): Uint8Array | null {
    const text = (c: string | null) => (c ? this.fileAt(c, path) : undefined) ?? new Uint8Array();
    const [b, o, t] = [text(base), text(ours), text(theirs)];
    const same = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y));
    if (same(t, b) || same(o, t)) return o;
    if (same(o, b)) return t;
    const dir = mkdtempSync(join(tmpdir(), 'fake-merge-'));
    try {
      for (const [name, x] of [['ours', o], ['base', b], ['theirs', t]] as const) writeFileSync(join(dir, name), x);
      const r = spawnSync('git', ['merge-file', '-q', '-p', join(dir, 'ours'), join(dir, 'base'), join(dir, 'theirs')]);
      if (r.error) throw new Error(`the fake's merge needs git on PATH: ${r.error.message}`);
      return r.status === 0 ? new Uint8Array(r.stdout) : null;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The ledger branch's files, as the App committed them. */
  ledgerFiles(): Map<string, string> {
    const head = this.refs.get('heads/ledger');
    if (!head) return new Map();
    const files = this.trees.get(this.commits.get(head)!.tree)!;
    return new Map([...files].map(([p, b]) => [p, new TextDecoder().decode(b)]));
  }

  labelsOf(pr: number): string[] {
    return this.pulls.get(pr)!.labels;
  }

  stickyOf(pr: number): string[] {
    return [...this.comments.values()].filter((c) => c.issue === pr).map((c) => c.body);
  }

  checksOf(sha: string): CheckRun[] {
    return [...this.checks.values()].filter((c) => c.head_sha === sha);
  }

  private putTree(files: Files): string {
    const sha = sha1([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, b]) => `${p}:${blobSha(b)}`).join('\n'));
    if (!this.trees.has(sha)) {
      this.trees.set(sha, files);
      for (const b of files.values()) this.blobs.set(blobSha(b), b);
    }
    return sha;
  }

  private pullJson(p: Pull) {
    return {
      url: `${API}${P}/pulls/${p.number}`,
      id: p.number,
      node_id: `PR_${p.number}`,
      html_url: `https://github.com/${OWNER}/${REPO}/pull/${p.number}`,
      number: p.number,
      title: p.title,
      body: p.body ?? null,
      state: p.state,
      locked: false,
      merged: p.merged,
      merge_commit_sha: p.merge_commit_sha ?? null,
      created_at: p.created_at,
      updated_at: p.created_at,
      user: userJson(p.user),
      head: { sha: p.head, ref: `pr-${p.number}`, label: `${p.user}:pr-${p.number}` },
      base: { ref: 'main', sha: this.refs.get('heads/main'), label: `${OWNER}:main` },
      labels: p.labels.map((name, i) => labelJson(name, i)),
      // (the description's own example lists a team without its required `type`)
      requested_teams: [],
      requested_reviewers: [],
    };
  }

  // --- persistence: everything the fake holds as plain JSON (the one-machine swarm keeps it in a folder) ---

  snapshot(): FakeSnapshot {
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    return {
      version: 1,
      commits: Object.fromEntries(this.commits),
      trees: Object.fromEntries([...this.trees].map(([sha, files]) => [sha, Object.fromEntries([...files].map(([p, b]) => [p, blobSha(b)]))])),
      blobs: Object.fromEntries([...this.blobs].map(([sha, b]) => [sha, b64(b)])),
      refs: Object.fromEntries(this.refs),
      pulls: [...this.pulls.values()],
      issues: [...this.issues],
      comments: [...this.comments.values()],
      checks: [...this.checks.values()],
      runners: this.runners,
      accounts: Object.fromEntries(this.accounts),
      runs: [...this.runs],
      workflowRuns: [...this.workflowRuns.values()],
      dispatches: this.dispatches,
      merges: this.merges,
      outbox: this.outbox,
      counters: { nextId: this.nextId, nextRunId: this.nextRunId, nextDelivery: this.nextDelivery },
    };
  }

  /** Replaces this fake's state with a snapshot's. */
  restore(s: FakeSnapshot): void {
    if (s.version !== 1) throw new Error(`fake GitHub state version ${s.version} is not 1; start from an empty state folder`);
    this.blobs = new Map(Object.entries(s.blobs).map(([sha, b]) => [sha, new Uint8Array(Buffer.from(b, 'base64'))]));
    this.trees = new Map(Object.entries(s.trees).map(([sha, files]) => [sha, new Map(Object.entries(files).map(([p, b]) => [p, this.blobs.get(b)!]))]));
    this.commits = new Map(Object.entries(s.commits));
    this.refs = new Map(Object.entries(s.refs));
    this.pulls = new Map(s.pulls.map((p) => [p.number, p]));
    this.issues = new Map(s.issues);
    this.comments = new Map(s.comments.map((c) => [c.id, c]));
    this.checks = new Map(s.checks.map((c) => [c.id, c]));
    this.runners = s.runners;
    this.accounts = new Map(Object.entries(s.accounts));
    this.runs = new Map(s.runs);
    this.workflowRuns = new Map(s.workflowRuns.map((r) => [r.id, r]));
    this.dispatches = s.dispatches;
    this.merges = s.merges;
    this.outbox = s.outbox;
    ({ nextId: this.nextId, nextRunId: this.nextRunId, nextDelivery: this.nextDelivery } = s.counters);
  }

  // --- the transport-agnostic entry point ---

  /** Answers one request as GitHub would (a fault first, when one matches). */
  handle(req: FakeRequest): FakeResponse {
    const url = new URL(req.url);
    const method = req.method.toUpperCase();
    const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.served++;
    const i = this.faults.findIndex((f) => f.method === method && f.path.test(url.pathname) && (!f.when || f.when()));
    const drawn = i < 0 && this.chaos ? this.chaos(method, url.pathname) : null;
    if (i >= 0 || drawn) {
      const f = drawn ?? this.faults.splice(i, 1)[0];
      if (f.timeout && f.landed) {
        this.answer(req, url, method, headers);
        return { status: 0, body: '', headers: {}, timeout: true };
      }
      if (f.timeout) return { status: 0, body: '', headers: {}, timeout: true };
      return { status: f.status, body: f.body ?? { message: 'Server Error' }, headers: f.headers ?? {} };
    }
    return this.answer(req, url, method, headers);
  }

  /** The answer to a request no fault stopped: a rate limit, else its route's. */
  private answer(req: FakeRequest, url: URL, method: string, headers: Record<string, string>): FakeResponse {
    const limited = url.origin === API ? this.rateLimit(method, url.pathname) : null;
    if (limited) return limited;
    const route = this.routes.find((r) => r.method === method && r.host === url.origin && r.re.test(url.pathname));
    if (!route) return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }, headers: {} };
    let body: unknown;
    if (req.body) {
      try {
        body = JSON.parse(req.body);
      } catch {
        return { status: 400, body: { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/rest' }, headers: {} };
      }
    }
    const [status, out, h] = route.fn({ method, url, path: url.pathname, body, headers });
    const full = url.origin === API && status < 300 && out && typeof out === 'object' && !(out instanceof Uint8Array) ? this.complete(method, url.pathname, status, out) : out;
    return { status, body: full ?? '', headers: { ...(url.origin === API ? this.limitHeaders() : {}), ...(h ?? {}) } };
  }

  private readonly examples = new Map<string, unknown>();

  /**
   * The answer in GitHub's full shape: the fields the fake models, laid over the description's
   * own example answer of the operation (so every field GitHub always sends is there, with a
   * plausible value). Items of a list are laid over the example's first item.
   */
  private complete(method: string, pathname: string, status: number, out: unknown): unknown {
    const op = findOperation(method, pathname)?.op;
    if (!op) return out;
    const key = `${method} ${op.template} ${status}`;
    if (!this.examples.has(key)) this.examples.set(key, exampleResponse(method, op.template, status));
    const ex = this.examples.get(key);
    return ex === null || ex === undefined ? out : overlay(ex, out);
  }

  // --- rate limits (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api) ---

  /** the installation's primary limit: 5,000 requests per hour (more for large installations) */
  primaryLimit = 5000;
  private hour = { start: 0, used: 0 };
  private points: { t: number; pts: number; endpoint: string }[] = [];
  private content: number[] = [];

  private limitHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(this.primaryLimit),
      'x-ratelimit-remaining': String(Math.max(0, this.primaryLimit - this.hour.used)),
      'x-ratelimit-reset': String(Math.ceil((this.hour.start + 3_600_000) / 1000)),
      'x-ratelimit-used': String(this.hour.used),
      'x-ratelimit-resource': 'core',
    };
  }

  /**
   * The documented limits: a primary budget per hour (answered 403 with x-ratelimit-remaining 0
   * until x-ratelimit-reset); secondary: at most 900 points per minute per endpoint (GET 1 point,
   * POST/PATCH/PUT/DELETE 5) and at most 80 content-generating requests per minute and 500 per
   * hour (answered 403 with retry-after). Token creation is not counted.
   */
  private rateLimit(method: string, path: string): FakeResponse | null {
    if (!this.rateLimits || path.endsWith('/access_tokens')) return null;
    const t = this.now();
    if (t - this.hour.start >= 3_600_000) this.hour = { start: t, used: 0 };
    if (this.hour.used >= this.primaryLimit) {
      return { status: 403, body: { message: 'API rate limit exceeded for installation.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' }, headers: this.limitHeaders() };
    }
    const endpoint = `${method} ${path.replace(/\/\d+(?=\/|$)/g, '/{n}')}`;
    const pts = method === 'GET' || method === 'HEAD' ? 1 : 5;
    this.points = this.points.filter((p) => p.t > t - 60_000);
    const used = this.points.reduce((n, p) => n + (p.endpoint === endpoint ? p.pts : 0), 0);
    const creates = method === 'POST' && /\/(comments|issues|pulls)$/.test(path);
    this.content = this.content.filter((c) => c > t - 3_600_000);
    const lastMinute = this.content.filter((c) => c > t - 60_000).length;
    const secondary = (retry: number) => ({
      status: 403,
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
      headers: { ...this.limitHeaders(), 'retry-after': String(retry) },
    });
    if (used + pts > 900) return secondary(60);
    if (creates && lastMinute >= 80) return secondary(60);
    if (creates && this.content.length >= 500) return secondary(Math.ceil((this.content[0] + 3_600_000 - t) / 1000));
    this.hour.used++;
    this.points.push({ t, pts, endpoint });
    if (creates) this.content.push(t);
    return null;
  }

  // --- Actions: dispatch, concurrency, runners picking up jobs, completion ---

  /** Whether a scheduled workflow's schedule fires now (not disabled). */
  fires(name: string): boolean {
    return (this.workflowStates.get(name) ?? 'active') === 'active';
  }

  private readonly workflows = new WeakMap<Uint8Array, any>();
  /** The workflow file at `ref` (parsed, once per file version), or null. */
  private workflowAt(commit: string, name: string): any | null {
    const b = this.fileAt(commit, `.github/workflows/${name}`);
    if (!b) return null;
    if (!this.workflows.has(b)) {
      let wf: any = null;
      try {
        wf = parseYaml(new TextDecoder().decode(b));
      } catch {
        wf = null;
      }
      this.workflows.set(b, wf);
    }
    return this.workflows.get(b);
  }

  /**
   * `workflow_dispatch`: GitHub answers 422 when the workflow has no such trigger or the inputs
   * are not the ones it declares (docs: "Create a workflow dispatch event": "You must configure
   * your GitHub Actions workflow to run when the workflow_dispatch webhook event occurs. The
   * inputs are configured in the workflow file"). Defaults fill inputs left out.
   */
  dispatch(workflow: string, ref: string, given: Record<string, unknown>, actor = APP_BOT): Reply {
    // `ref`: a branch or tag name, or a full ref (refs/heads/x, refs/tags/x). A short name that is
    // both a branch's and a tag's may run either on GitHub: the fake takes the tag, the worse case
    const full = /^refs\/(heads|tags)\/(.+)$/.exec(ref);
    const key = full ? `${full[1]}/${full[2]}` : this.refs.has(`tags/${ref}`) ? `tags/${ref}` : `heads/${ref}`;
    const commit = this.refs.get(key) ?? (this.commits.has(ref) ? ref : null);
    if (!commit) return [422, { message: `No ref found for: ${ref}` }];
    const wf = this.workflowAt(commit, workflow);
    const inputs: Record<string, string> = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, String(v)]));
    if (!wf) {
      // a repository without the workflow file (most scenario tests): record the dispatch as asked
      this.dispatches.push({ workflow, ref, inputs, commit });
      return [204, ''];
    }
    const on = wf.on ?? wf[true as any];
    const declared = on && typeof on === 'object' && 'workflow_dispatch' in on ? (on.workflow_dispatch?.inputs ?? {}) : null;
    if (!declared) return [422, { message: "Workflow does not have 'workflow_dispatch' trigger" }];
    const unexpected = Object.keys(inputs).filter((k) => !(k in declared));
    if (unexpected.length) return [422, { message: `Unexpected inputs provided: ${JSON.stringify(unexpected)}`, documentation_url: "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event" }];
    for (const [k, d] of Object.entries<any>(declared)) {
      if (!(k in inputs) && d?.default !== undefined) inputs[k] = String(d.default);
      if (d?.required && (inputs[k] === undefined || inputs[k] === '')) return [422, { message: `Required input '${k}' not provided` }];
      if (d?.type === 'choice' && inputs[k] !== undefined && !(d.options ?? []).includes(inputs[k])) return [422, { message: `Provided value '${inputs[k]}' for input '${k}' not in the list of allowed values` }];
    }
    const id = this.nextRunId++;
    const ctx = { inputs, github: { event: { inputs }, ref: `refs/${key}`, sha: commit, workflow: wf.name ?? workflow, run_id: String(id) } };
    const conc = wf.concurrency ?? null;
    const group = conc ? String(evalTemplate(typeof conc === 'string' ? conc : conc.group, ctx)).toLowerCase() : null;
    const job: any = Object.values(wf.jobs ?? {})[0] ?? {};
    const runsOn = (Array.isArray(job['runs-on']) ? job['runs-on'] : [job['runs-on']]).map((l: unknown) => String(evalTemplate(String(l), ctx)));
    // the job's name (jobs.<job_id>.name, expressions evaluated; the job's id without one)
    const jobName = job.name !== undefined ? String(evalTemplate(String(job.name), ctx)) : String(Object.keys(wf.jobs ?? {})[0] ?? 'build');
    const run: WorkflowRun = {
      id,
      workflow,
      path: `.github/workflows/${workflow}`,
      event: 'workflow_dispatch',
      inputs,
      head_sha: commit,
      display_title: wf['run-name'] ? String(evalTemplate(wf['run-name'], ctx)) : (wf.name ?? workflow),
      group,
      cancelInProgress: Boolean(typeof conc === 'object' && conc?.['cancel-in-progress'] === true),
      runsOn,
      jobName,
      status: 'queued',
      conclusion: null,
      runner_name: null,
      created_at: this.now(),
      started_at: null,
      completed_at: null,
      actor,
    };
    this.workflowRuns.set(id, run);
    this.dispatches.push({ workflow, ref, inputs, run_id: id, commit });
    this.enterGroup(run);
    if (run.status === 'queued') this.emitJob(run, 'queued');
    return [204, ''];
  }

  /**
   * GitHub's concurrency rule (docs: "Control the concurrency of workflows and jobs"): "at most
   * one running and one pending job in a concurrency group at any time ... Any existing pending
   * job or workflow in the same concurrency group, if it exists, will be canceled and the new
   * queued job or workflow will take its place." Group names are case-insensitive.
   */
  private enterGroup(run: WorkflowRun): void {
    if (!run.group) return;
    const same = [...this.workflowRuns.values()].filter((r) => r !== run && r.group === run.group && r.status !== 'completed');
    const holder = same.find((r) => r.status === 'queued' || r.status === 'in_progress');
    for (const p of same.filter((r) => r.status === 'pending')) this.finishRun(p, 'cancelled');
    if (holder && run.cancelInProgress) this.finishRun(holder, 'cancelled');
    else if (holder) run.status = 'pending';
  }

  /** Queued runs a runner with these labels could take (runs-on labels all among the runner's). */
  queuedFor(labels: string[]): WorkflowRun[] {
    const have = new Set(labels.map((l) => l.toLowerCase()));
    return [...this.workflowRuns.values()].filter((r) => r.status === 'queued' && r.runner_name === null && r.runsOn.every((l) => have.has(l.toLowerCase())));
  }

  /** A runner takes a queued run (its job starts). */
  startRun(runId: number, runnerName: string): WorkflowRun {
    const run = this.workflowRuns.get(runId)!;
    if (run.status !== 'queued') throw new Error(`run ${runId} is ${run.status}, not queued`);
    run.status = 'in_progress';
    run.runner_name = runnerName;
    run.started_at = this.now();
    const r = this.runners.find((x) => x.name === runnerName);
    if (r) r.busy = true;
    this.emitJob(run, 'in_progress');
    return run;
  }

  /**
   * The run's one job as the jobs API and the workflow_job webhook describe it: "runner_name ...
   * will be null as long as workflow_job[status] is queued"; a queued job's started_at is the time
   * it was queued (as in GitHub's own example payloads), a started one's when a runner took it.
   */
  jobJson(run: WorkflowRun): Record<string, unknown> {
    const t = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const r = run.runner_name ? this.runners.find((x) => x.name === run.runner_name) : undefined;
    return {
      id: run.id,
      run_id: run.id,
      workflow_name: run.workflow.replace(/\.ya?ml$/, ''),
      head_branch: 'main',
      run_url: `${API}${P}/actions/runs/${run.id}`,
      run_attempt: 1,
      node_id: `J_${run.id}`,
      head_sha: run.head_sha,
      url: `${API}${P}/actions/jobs/${run.id}`,
      html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${run.id}/job/${run.id}`,
      status: run.status === 'pending' ? 'queued' : run.status,
      conclusion: run.conclusion,
      created_at: t(run.created_at),
      started_at: t(run.started_at ?? run.created_at),
      completed_at: t(run.completed_at),
      name: run.jobName ?? 'experiment',
      steps: [],
      check_run_url: `${API}${P}/check-runs/${run.id}`,
      labels: run.runsOn,
      runner_id: run.runner_name ? (r?.id ?? 0) : null,
      runner_name: run.runner_name,
      runner_group_id: run.runner_name ? 1 : null,
      runner_group_name: run.runner_name ? 'Default' : null,
    };
  }

  /** workflow_job `action` for the run's job (docs: webhook events, workflow_job: queued, in_progress, completed). */
  private emitJob(run: WorkflowRun, action: 'queued' | 'in_progress' | 'completed'): void {
    this.emit('workflow_job', { action, workflow_job: this.jobJson(run), repository: repositoryJson(), installation: { id: 1 }, sender: userJson('github-actions[bot]') });
  }

  /** The run's job ends: its artifact (if any) is stored and workflow_run.completed is sent. */
  finishRun(run: WorkflowRun, conclusion: NonNullable<WorkflowRun['conclusion']>, artifact: RunArtifacts['artifact'] = null): void {
    if (run.status === 'completed') return;
    const wasQueued = run.status === 'queued';
    run.status = 'completed';
    run.conclusion = conclusion;
    run.completed_at = this.now();
    if (run.runner_name) {
      const r = this.runners.find((x) => x.name === run.runner_name);
      if (r) r.busy = false;
      // "The runner accepts one job, then is automatically removed" (just-in-time runners)
      if (r?.ephemeral) this.runners = this.runners.filter((x) => x !== r);
      this.runs.set(run.id, { runner_name: run.runner_name, job_seconds: (run.completed_at - (run.started_at ?? run.completed_at)) / 1000, artifact });
    }
    // a job that never left `pending` (a concurrency group's waiting run) was never queued: no job event
    if (run.started_at !== null || wasQueued) this.emitJob(run, 'completed');
    const payload = this.workflowRunPayload(run);
    const stored = this.runs.get(run.id);
    if (stored) stored.workflow_run = payload.workflow_run;
    else this.runs.set(run.id, { runner_name: '', artifact: null, workflow_run: payload.workflow_run });
    this.emit('workflow_run', payload);
    // the pending run of the group, if any, now holds it
    if (run.group) {
      const next = [...this.workflowRuns.values()].find((r) => r.group === run.group && r.status === 'pending');
      if (next) {
        next.status = 'queued';
        this.emitJob(next, 'queued');
      }
    }
  }

  workflowRunPayload(run: WorkflowRun): any {
    return {
      action: 'completed',
      workflow_run: {
        id: run.id,
        name: run.workflow.replace(/\.ya?ml$/, ''),
        path: run.path,
        event: run.event,
        status: 'completed',
        conclusion: run.conclusion,
        head_branch: 'main',
        head_sha: run.head_sha,
        display_title: run.display_title,
        run_attempt: 1,
        actor: userJson(run.actor),
        triggering_actor: userJson(run.actor),
        html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${run.id}`,
        head_repository: { full_name: `${OWNER}/${REPO}` },
        created_at: new Date(run.created_at).toISOString(),
        updated_at: new Date(run.completed_at ?? run.created_at).toISOString(),
        // "The start time of the latest run": the run attempt's, not a runner's (the App does not use it)
        run_started_at: new Date(run.created_at).toISOString(),
      },
      repository: repositoryJson(),
      installation: { id: 1 },
      sender: userJson('github-actions[bot]'),
    };
  }

  /** A webhook GitHub sends now (each delivery has its own GUID; a redelivery reuses it). */
  emit(name: string, payload: any): Delivery {
    const d = { id: `d-${this.nextDelivery++}`, name, payload };
    this.outbox.push(d);
    return d;
  }

  // --- the routes ---

  private on(method: string, re: RegExp | string, fn: Handler, host = API): void {
    this.routes.push({ method, host, re: typeof re === 'string' ? new RegExp(`^${escape(re)}$`) : re, fn });
  }

  private install(): void {
    const notFound = (): Reply => [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }];
    const fileJson = (path: string, b: Uint8Array) => ({
      type: 'file',
      path,
      name: path.split('/').pop(),
      sha: blobSha(b),
      size: b.length,
      url: `${API}${P}/contents/${path}`,
      git_url: `${API}${P}/git/blobs/${blobSha(b)}`,
      html_url: `https://github.com/${OWNER}/${REPO}/blob/main/${path}`,
      download_url: `https://raw.githubusercontent.com/${OWNER}/${REPO}/main/${path}`,
      _links: { self: `${API}${P}/contents/${path}`, git: `${API}${P}/git/blobs/${blobSha(b)}`, html: `https://github.com/${OWNER}/${REPO}/blob/main/${path}` },
    });
    const commitOf = (ref: string) => (this.commits.has(ref) ? ref : (this.refs.get(`heads/${ref}`) ?? null));
    const seg = (c: Ctx, i: number) => decodeURIComponent(c.path.split('/')[i]);
    const gitCommitJson = (sha: string, c: { tree: string; parents: string[]; message: string }) => ({
      sha,
      node_id: `C_${sha.slice(0, 8)}`,
      url: `${API}${P}/git/commits/${sha}`,
      html_url: `https://github.com/${OWNER}/${REPO}/commit/${sha}`,
      author: { name: 'autoresearch[bot]', email: 'bot@example.com', date: new Date(this.now()).toISOString() },
      committer: { name: 'autoresearch[bot]', email: 'bot@example.com', date: new Date(this.now()).toISOString() },
      message: c.message,
      tree: { sha: c.tree, url: `${API}${P}/git/trees/${c.tree}` },
      parents: c.parents.map((s) => ({ sha: s, url: `${API}${P}/git/commits/${s}`, html_url: `https://github.com/${OWNER}/${REPO}/commit/${s}` })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    });
    const refJson = (ref: string, sha: string) => ({ ref: `refs/${ref}`, node_id: `REF_${ref}`, url: `${API}${P}/git/refs/${ref}`, object: { sha, type: 'commit', url: `${API}${P}/git/commits/${sha}` } });

    // GET /app, as the App (its JWT): the App learns its own slug, so its bot's login
    this.on('GET', /^\/app$/, () => [200, { id: 1, slug: APP_SLUG, node_id: 'A_1', client_id: 'Iv1.0', owner: userJson(OWNER), name: 'autoresearch-swarm', description: 'The swarm App', external_url: 'https://example.com', html_url: `https://github.com/apps/${APP_SLUG}`, created_at: '2020-01-01T00:00:00Z', updated_at: '2020-01-01T00:00:00Z', permissions: {}, events: [] }]);
    this.on('POST', /^\/app\/installations\/\d+\/access_tokens$/, () => [201, { token: 'ghs_test', expires_at: new Date(this.now() + 3600_000).toISOString(), permissions: {}, repository_selection: 'all' }]);
    this.on('GET', /^\/user$/, (c) => {
      const login = /^(?:bearer|token)\s+gho_(\S+)$/i.exec(c.headers.authorization ?? '')?.[1];
      return login ? [200, { ...userJson(login), created_at: this.accounts.get(login)?.created_at ?? '2020-01-01T00:00:00Z' }] : [401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' }];
    });
    // "Check a token", as the App's OAuth client (HTTP Basic): a `gho_<login>` token is the App's (its device flow)
    this.on('POST', /^\/applications\/[^/]+\/token$/, (c) => {
      const basic = Buffer.from(`${APP_CLIENT.clientId}:${APP_CLIENT.clientSecret}`).toString('base64');
      if (seg(c, 2) !== APP_CLIENT.clientId || /^basic\s+(\S+)$/i.exec(c.headers.authorization ?? '')?.[1] !== basic) return notFound();
      const token = c.body?.access_token;
      if (typeof token !== 'string' || !token) return [422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest' }];
      const login = /^gho_(\S+)$/.exec(token)?.[1];
      if (!login) return notFound();
      const at = new Date(this.now()).toISOString();
      return [200, { id: 1, url: `${API}/authorizations/1`, scopes: [], token, token_last_eight: token.slice(-8), hashed_token: sha1(token), app: { client_id: APP_CLIENT.clientId, name: 'autoresearch-swarm', url: `https://github.com/apps/${APP_SLUG}` }, note: null, note_url: null, fingerprint: null, created_at: at, updated_at: at, expires_at: null, user: userJson(login) }];
    });
    this.on('GET', /^\/users\/[^/]+$/, (c) => {
      const login = seg(c, 2);
      return [200, { ...userJson(login), created_at: this.accounts.get(login)?.created_at ?? '2020-01-01T00:00:00Z' }];
    });
    this.on('GET', /^\/repos\/[^/]+\/[^/]+\/installation$/, () => [200, { id: 1, account: userJson(OWNER), app_id: 1, target_type: 'User' }]);

    // --- git data (the ledger branch) ---
    this.on('GET', new RegExp(`^${P}/git/ref/`), (c) => {
      const ref = decodeURIComponent(c.path.split('/git/ref/')[1]);
      const sha = this.refs.get(ref);
      return sha ? [200, refJson(ref, sha)] : notFound();
    });
    this.on('GET', new RegExp(`^${P}/git/commits/`), (c) => {
      const sha = seg(c, 6);
      const commit = this.commits.get(sha);
      return commit ? [200, gitCommitJson(sha, commit)] : notFound();
    });
    this.on('GET', new RegExp(`^${P}/git/blobs/`), (c) => {
      const b = this.blobs.get(seg(c, 6));
      return b ? [200, { sha: seg(c, 6), node_id: `B_${seg(c, 6).slice(0, 8)}`, url: `${API}${P}/git/blobs/${seg(c, 6)}`, content: Buffer.from(b).toString('base64'), encoding: 'base64', size: b.length }] : notFound();
    });
    // Get a tree, one level (docs: "Get a tree"; a directory is an item of type `tree`, whose sha
    // lists it in turn), by tree sha or by branch name. The fake's trees are flat, so a directory
    // is stored as a tree of its own, content-addressed like any other.
    this.on('GET', new RegExp(`^${P}/git/trees/`), (c) => {
      const key = seg(c, 6);
      const branchCommit = this.refs.get(`heads/${key}`);
      const sha = this.trees.has(key) ? key : branchCommit ? this.commits.get(branchCommit)!.tree : null;
      if (!sha) return notFound();
      const files: unknown[] = [];
      const dirs = new Map<string, Files>();
      for (const [p, b] of this.trees.get(sha)!) {
        const cut = p.indexOf('/');
        if (cut < 0) files.push({ path: p, mode: '100644', type: 'blob', sha: blobSha(b), size: b.length, url: `${API}${P}/git/blobs/${blobSha(b)}` });
        else {
          const dir = dirs.get(p.slice(0, cut)) ?? new Map();
          dirs.set(p.slice(0, cut), dir.set(p.slice(cut + 1), b));
        }
      }
      const subtrees = [...dirs].map(([path, sub]) => {
        const s = this.putTree(sub);
        return { path, mode: '040000', type: 'tree', sha: s, url: `${API}${P}/git/trees/${s}` };
      });
      return [200, { sha, url: `${API}${P}/git/trees/${sha}`, tree: [...files, ...subtrees], truncated: false }];
    });
    this.on('POST', `${P}/git/trees`, (c) => {
      if (c.body.base_tree && !this.trees.has(c.body.base_tree)) return [422, { message: 'Invalid tree info', documentation_url: 'https://docs.github.com/rest/git/trees#create-a-tree' }];
      const files: Files = new Map(c.body.base_tree ? this.trees.get(c.body.base_tree)! : []);
      for (const t of c.body.tree) files.set(t.path, bytes(t.content));
      const sha = this.putTree(files);
      return [201, { sha, url: `${API}${P}/git/trees/${sha}`, truncated: false, tree: [] }];
    });
    this.on('POST', `${P}/git/commits`, (c) => {
      if (!this.trees.has(c.body.tree)) return [422, { message: 'Tree SHA does not exist', documentation_url: 'https://docs.github.com/rest/git/commits#create-a-commit' }];
      const sha = sha1(`commit ${c.body.tree} ${c.body.parents.join(',')} ${c.body.message} ${this.nextId++}`);
      const commit = { tree: c.body.tree, parents: c.body.parents, message: c.body.message };
      this.commits.set(sha, commit);
      return [201, gitCommitJson(sha, commit)];
    });
    this.on('PATCH', new RegExp(`^${P}/git/refs/`), (c) => {
      const ref = decodeURIComponent(c.path.split('/git/refs/')[1]);
      const cur = this.refs.get(ref);
      if (!cur) return [422, { message: 'Reference does not exist', documentation_url: 'https://docs.github.com/rest/git/refs#update-a-reference' }];
      if (!c.body.force && !this.commits.get(c.body.sha)?.parents.includes(cur)) return [422, { message: 'Update is not a fast forward', documentation_url: 'https://docs.github.com/rest/git/refs#update-a-reference' }];
      this.refs.set(ref, c.body.sha);
      return [200, refJson(ref, c.body.sha)];
    });
    this.on('POST', `${P}/git/refs`, (c) => {
      const ref = c.body.ref.replace(/^refs\//, '');
      if (this.refs.has(ref)) return [422, { message: 'Reference already exists', documentation_url: 'https://docs.github.com/rest/git/refs#create-a-reference' }];
      this.refs.set(ref, c.body.sha);
      return [201, refJson(ref, c.body.sha)];
    });

    // --- contents (config, train.ts, ledger shards) and archives ---
    this.on('GET', new RegExp(`^/repos/${OWNER}/\\.github/contents/`), notFound);
    // Answers as GitHub does: content inline up to 1 MB (above, encoding "none": read the blob); an
    // ETag on every 200 (a hash of the body) and 304 with no body to a matching If-None-Match.
    this.on('GET', new RegExp(`^${P}/contents/`), (c) => {
      const path = decodeURIComponent(c.path.split('/contents/')[1]);
      const commit = commitOf(c.url.searchParams.get('ref') ?? 'main');
      if (!commit) return notFound();
      const files = this.trees.get(this.commits.get(commit)!.tree)!;
      const raw = (c.headers.accept ?? '').includes('raw');
      const file = files.get(path);
      const listing = file ? [] : [...files].filter(([p]) => p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes('/'));
      if (!file && !listing.length) return notFound();
      const body = file
        ? raw
          ? new TextDecoder().decode(file)
          : { ...fileJson(path, file), ...(file.length > 1_000_000 ? { encoding: 'none', content: '' } : { encoding: 'base64', content: Buffer.from(file).toString('base64') }) }
        : listing.map(([p, b]) => fileJson(p, b));
      // a file's ETag changes with its blob; a listing's with its entries
      const etag = `W/"${createHash('sha1').update(`${raw}:${file ? blobSha(file) : listing.map(([p, b]) => p + blobSha(b)).join()}`).digest('hex')}"`;
      if (c.headers['if-none-match'] === etag) return [304, '', { etag }];
      return [200, body, { etag, 'content-type': raw ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8' }];
    });
    // A file written on a branch in one commit, compare-and-swap on the file's blob sha (the ledger's tail).
    this.on('PUT', new RegExp(`^${P}/contents/`), (c) => {
      const path = decodeURIComponent(c.path.split('/contents/')[1]);
      const branch = c.body.branch ?? 'main';
      const head = this.refs.get(`heads/${branch}`);
      if (!head) return [404, { message: `Branch ${branch} not found` }];
      const current = this.trees.get(this.commits.get(head)!.tree)!.get(path);
      if (current && c.body.sha === undefined) return [422, { message: 'Invalid request.\n\n"sha" wasn\'t supplied.' }];
      // GitHub: 409 "is at <the file's blob sha> but expected <the sha given>"
      if (current && c.body.sha !== blobSha(current)) return [409, { message: `is at ${blobSha(current)} but expected ${c.body.sha}`, documentation_url: 'https://docs.github.com/rest/repos/contents#create-or-update-file-contents' }];
      const content = typeof c.body.content === 'string' ? decodeBase64(c.body.content) : null;
      if (!content) return [422, { message: 'Invalid request.\n\ncontent is not valid Base64.' }];
      const sha = this.commit({ [path]: content }, head, c.body.message);
      this.refs.set(`heads/${branch}`, sha);
      const commit = this.commits.get(sha)!;
      return [current ? 200 : 201, { content: fileJson(path, content), commit: gitCommitJson(sha, commit) }];
    });
    this.on('GET', new RegExp(`^${P}/zipball/`), (c) => {
      const commit = commitOf(seg(c, 5));
      return commit ? [302, '', { location: `${CODELOAD}/${OWNER}/${REPO}/legacy.zip/${commit}` }] : notFound();
    });
    this.on('GET', new RegExp(`^/${OWNER}/${REPO}/legacy.zip/`), (c) => {
      const commit = c.path.split('/').pop()!;
      const files = this.trees.get(this.commits.get(commit)!.tree)!;
      const zip = zipSync(Object.fromEntries([...files].map(([p, b]) => [`${OWNER}-${REPO}-${commit.slice(0, 7)}/${p}`, b])));
      return [200, zip, { 'content-type': 'application/zip' }];
    }, CODELOAD);

    this.on('GET', P, () => [200, { ...repositoryJson(), private: false, fork: false, language: 'TypeScript', html_url: `https://github.com/${OWNER}/${REPO}`, source: undefined, parent: undefined }]);

    // --- pull requests, labels, comments ---
    this.on('GET', `${P}/pulls`, () => [200, [...this.pulls.values()].filter((p) => p.state === 'open').map((p) => this.pullJson(p))]);
    this.on('GET', new RegExp(`^${P}/pulls/\\d+/files$`), (c) => {
      const p = this.pulls.get(Number(seg(c, 5)));
      return p ? [200, p.files.map((f) => ({ sha: sha1(f.filename), additions: 1, deletions: 1, changes: 2, blob_url: '', raw_url: '', contents_url: '', ...f }))] : notFound();
    });
    this.on('GET', new RegExp(`^${P}/pulls/\\d+$`), (c) => {
      const p = this.pulls.get(Number(seg(c, 5)));
      return p ? [200, this.pullJson(p)] : notFound();
    });
    this.on('PATCH', new RegExp(`^${P}/pulls/\\d+$`), (c) => {
      const p = this.pulls.get(Number(seg(c, 5)));
      if (!p) return notFound();
      if (c.body.state) p.state = c.body.state;
      if (typeof c.body.body === 'string') p.body = c.body.body;
      return [200, this.pullJson(p)];
    });
    // Merge with the head guard (docs: "Merge a pull request": 405 "Method Not Allowed if merge
    // cannot be performed", 409 "Conflict if sha was provided and pull request head did not match").
    this.on('PUT', new RegExp(`^${P}/pulls/\\d+/merge$`), (c) => {
      const p = this.pulls.get(Number(seg(c, 5)));
      if (!p) return notFound();
      if (p.merged || p.state !== 'open') return [405, { message: 'Pull Request is not mergeable' }];
      if (c.body.sha && c.body.sha !== p.head) return [409, { message: 'Head branch was modified. Review and try the merge again.' }];
      const main = this.refs.get('heads/main')!;
      // a squash merge applies the PR's changes since its merge base to the default branch's head:
      // git's three-way merge of train.ts, and 405 where both sides changed the same lines
      const merged = this.threeWay(this.mergeBase(main, p.head), main, p.head, 'trainer/train.ts');
      if (merged === null) return [405, { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request' }];
      const merge_sha = this.commit({ 'trainer/train.ts': merged }, main, c.body.commit_title);
      this.refs.set('heads/main', merge_sha);
      p.merged = true;
      p.merge_commit_sha = merge_sha;
      p.state = 'closed';
      this.merges.push({ pr: p.number, sha: c.body.sha, title: c.body.commit_title, message: c.body.commit_message, merge_sha });
      return [200, { sha: merge_sha, merged: true, message: 'Pull Request successfully merged' }];
    });
    // Update branch: 202 while GitHub merges; 422 when the head is not the expected one, when the
    // branch has every commit of the base already, or on a merge conflict; 403 where the App may not
    // write to the head repository (a fork that does not allow edits by maintainers)
    this.on('PUT', new RegExp(`^${P}/pulls/\\d+/update-branch$`), (c) => {
      const p = this.pulls.get(Number(seg(c, 5)));
      if (!p) return notFound();
      const docs = 'https://docs.github.com/rest/pulls/pulls#update-a-pull-request-branch';
      if (p.state !== 'open') return [422, { message: 'Validation Failed', documentation_url: docs }];
      if (p.updatable === false) return [403, { message: 'Resource not accessible by integration', documentation_url: docs }];
      if (c.body?.expected_head_sha && c.body.expected_head_sha !== p.head) return [422, { message: "expected head sha didn't match current head ref.", documentation_url: docs }];
      if (this.ancestors(p.head).has(this.refs.get('heads/main')!)) return [422, { message: 'There are no new commits on the base branch.', documentation_url: docs }];
      if (this.updateBranch(p) === null) return [422, { message: 'merge conflict between base and head', documentation_url: docs }];
      return [202, { message: 'Updating pull request branch.', url: `https://github.com/repos/${OWNER}/${REPO}/pulls/${p.number}` }];
    });
    const issueOf = (c: Ctx) => this.pulls.get(Number(seg(c, 5))) ?? this.issues.get(Number(seg(c, 5)));
    this.on('PUT', new RegExp(`^${P}/issues/\\d+/labels$`), (c) => {
      const p = issueOf(c);
      if (!p) return notFound();
      p.labels = [...c.body.labels];
      return [200, p.labels.map(labelJson)];
    });
    // add labels (keeps the others) and remove one: each answers with all the issue's labels
    this.on('POST', new RegExp(`^${P}/issues/\\d+/labels$`), (c) => {
      const p = issueOf(c);
      if (!p) return notFound();
      p.labels = [...new Set([...p.labels, ...c.body.labels])];
      return [200, p.labels.map(labelJson)];
    });
    this.on('DELETE', new RegExp(`^${P}/issues/\\d+/labels/[^/]+$`), (c) => {
      const p = issueOf(c);
      const name = seg(c, 7);
      if (!p || !p.labels.includes(name)) return [404, { message: 'Label does not exist', documentation_url: 'https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue' }];
      p.labels = p.labels.filter((l) => l !== name);
      return [200, p.labels.map(labelJson)];
    });
    const commentJson = (c: { id: number; issue: number; body: string; user?: string }) => ({
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${API}${P}/issues/comments/${c.id}`,
      html_url: `https://github.com/${OWNER}/${REPO}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${API}${P}/issues/${c.issue}`,
      body: c.body,
      user: userJson(c.user ?? APP_BOT),
      created_at: new Date(this.now()).toISOString(),
      updated_at: new Date(this.now()).toISOString(),
      author_association: 'NONE',
      issue: c.issue,
    });
    this.on('GET', new RegExp(`^${P}/issues/\\d+/comments$`), (c) => [200, [...this.comments.values()].filter((x) => x.issue === Number(seg(c, 5))).map(commentJson)]);
    this.on('POST', new RegExp(`^${P}/issues/\\d+/comments$`), (c) => {
      if (!issueOf(c)) return notFound();
      if (typeof c.body.body === 'string' && c.body.body.length > 65536) return [422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }] }];
      const x = { id: this.nextId++, issue: Number(seg(c, 5)), body: c.body.body };
      this.comments.set(x.id, x);
      return [201, commentJson(x)];
    });
    this.on('PATCH', new RegExp(`^${P}/issues/comments/\\d+$`), (c) => {
      const x = this.comments.get(Number(seg(c, 6)));
      if (!x) return notFound();
      x.body = c.body.body;
      return [200, commentJson(x)];
    });

    // compare: whether a commit is an ancestor of the default branch (status behind / identical)
    this.on('GET', new RegExp(`^${P}/compare/[^/]+$`), (c) => {
      const [base, head] = seg(c, 5).split('...');
      const b = commitOf(base);
      const full = this.commits.has(head) ? [head] : [...this.commits.keys()].filter((sha) => sha.startsWith(head));
      if (!b || full.length !== 1) return notFound();
      const h = full[0];
      // "equivalent to running git log base..head"; `files`: what head changed since the merge base (three dots), at most 300
      const mb = this.mergeBase(b, h);
      // commits reachable from one side and not from the merge base
      const below = mb ? this.ancestors(mb) : new Set<string>();
      const depth = (from: string, _to: string | null) => [...this.ancestors(from)].filter((x) => !below.has(x)).length;
      const ahead = depth(h, mb);
      const behind = depth(b, mb);
      const status = !ahead && !behind ? 'identical' : !ahead ? 'behind' : !behind ? 'ahead' : 'diverged';
      const before = mb ? this.trees.get(this.commits.get(mb)!.tree)! : new Map<string, Uint8Array>();
      const after = this.trees.get(this.commits.get(h)!.tree)!;
      const files = [...new Set([...before.keys(), ...after.keys()])]
        .filter((f) => !before.has(f) || !after.has(f) || !Buffer.from(before.get(f)!).equals(Buffer.from(after.get(f)!)))
        .sort()
        .slice(0, 300)
        .map((filename) => ({ sha: sha1(after.get(filename) ?? new Uint8Array()), filename, status: !before.has(filename) ? 'added' : !after.has(filename) ? 'removed' : 'modified', additions: 0, deletions: 0, changes: 0, blob_url: '', raw_url: '', contents_url: '' }));
      return [200, { url: '', html_url: '', permalink_url: '', diff_url: '', patch_url: '', status, ahead_by: ahead, behind_by: behind, total_commits: ahead, base_commit: { sha: b }, merge_base_commit: { sha: mb ?? b }, commits: [], files }];
    });

    // --- check runs ---
    const checkJson = (x: CheckRun) => ({
      id: x.id,
      head_sha: x.head_sha,
      node_id: `CR_${x.id}`,
      external_id: '',
      url: `${API}${P}/check-runs/${x.id}`,
      html_url: `https://github.com/${OWNER}/${REPO}/runs/${x.id}`,
      details_url: null,
      status: x.status,
      conclusion: x.conclusion,
      started_at: new Date(this.now()).toISOString(),
      completed_at: x.status === 'completed' ? new Date(this.now()).toISOString() : null,
      output: { title: x.title || null, summary: x.summary || null, text: null, annotations_count: 0, annotations_url: `${API}${P}/check-runs/${x.id}/annotations` },
      name: x.name ?? 'val_bpb',
      check_suite: { id: 1 },
      app: null,
      pull_requests: [],
    });
    // "Required if you provide completed_at or a status of completed" (conclusion); "Providing
    // conclusion will automatically set the status parameter to completed" (docs: check runs).
    const checkProblem = (b: any): Reply | null =>
      (b.status === 'completed' || b.completed_at) && !b.conclusion ? [422, { message: 'Invalid request.\n\nNo subschema in "anyOf" matched.\n"conclusion" wasn\'t supplied.', documentation_url: 'https://docs.github.com/rest/checks/runs' }] : null;
    this.on('POST', `${P}/check-runs`, (c) => {
      const bad = checkProblem(c.body);
      if (bad) return bad;
      const x: CheckRun = { id: this.nextId++, head_sha: c.body.head_sha, status: c.body.conclusion ? 'completed' : (c.body.status ?? 'queued'), conclusion: c.body.conclusion ?? null, title: c.body.output?.title ?? '', summary: c.body.output?.summary ?? '', name: c.body.name };
      this.checks.set(x.id, x);
      return [201, checkJson(x)];
    });
    this.on('PATCH', new RegExp(`^${P}/check-runs/\\d+$`), (c) => {
      const x = this.checks.get(Number(seg(c, 5)));
      if (!x) return notFound();
      const bad = checkProblem(c.body);
      if (bad) return bad;
      x.status = c.body.conclusion ? 'completed' : (c.body.status ?? x.status);
      x.conclusion = c.body.conclusion ?? null;
      if (c.body.output) Object.assign(x, { title: c.body.output.title, summary: c.body.output.summary });
      return [200, checkJson(x)];
    });
    this.on('GET', new RegExp(`^${P}/commits/[0-9a-f]+/check-runs$`), (c) => {
      const all = this.checksOf(seg(c, 5)).sort((a, b) => b.id - a.id);
      const name = c.url.searchParams.get('check_name');
      const runs = name ? all.filter((x) => (x.name ?? 'val_bpb') === name) : all;
      const per = Number(c.url.searchParams.get('per_page') ?? 30);
      return [200, { total_count: runs.length, check_runs: runs.slice(0, per).map(checkJson) }];
    });

    // --- actions ---
    this.on('POST', new RegExp(`^${P}/actions/workflows/[^/]+/dispatches$`), (c) => {
      // the run's actor is whoever the token is: a user's (`gho_<login>`), else the App's installation's bot
      const user = /^(?:bearer|token)\s+gho_(\S+)$/i.exec(c.headers.authorization ?? '')?.[1];
      const [status, body] = this.dispatch(seg(c, 6), c.body.ref, c.body.inputs ?? {}, user ?? APP_BOT);
      return [status, body ?? ''];
    });
    // a workflow of the default branch, and enabling one (docs: "REST API endpoints for workflows")
    const workflowJson = (name: string) => ({
      id: 100 + [...name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 1_000_000, 0),
      node_id: `W_${name}`,
      name: name.replace(/\.ya?ml$/, ''),
      path: `.github/workflows/${name}`,
      state: this.workflowStates.get(name) ?? 'active',
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2020-01-01T00:00:00Z',
      url: `https://api.github.com/repos/${OWNER}/${REPO}/actions/workflows/${name}`,
      html_url: `https://github.com/${OWNER}/${REPO}/blob/main/.github/workflows/${name}`,
      badge_url: `https://github.com/${OWNER}/${REPO}/workflows/${name}/badge.svg`,
    });
    const hasWorkflow = (name: string) => this.fileAt(this.refs.get('heads/main')!, `.github/workflows/${name}`) !== undefined;
    this.on('GET', `${P}/actions/workflows`, () => {
      const main = this.commits.get(this.refs.get('heads/main')!)!;
      const names = [...this.trees.get(main.tree)!.keys()].filter((p) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(p)).map((p) => p.slice('.github/workflows/'.length)).sort();
      return [200, { total_count: names.length, workflows: names.map(workflowJson) }];
    });
    this.on('PUT', new RegExp(`^${P}/actions/workflows/[^/]+/enable$`), (c) => {
      if (!hasWorkflow(seg(c, 6))) return notFound();
      this.workflowStates.delete(seg(c, 6));
      return [204, ''];
    });
    const runnerJson = (r: Runner) => ({ id: r.id, name: r.name, os: 'Linux', status: r.status, busy: r.busy, labels: r.labels.map((name, i) => ({ id: i, name, type: 'custom' as const })) });
    this.on('GET', `${P}/actions/permissions/fork-pr-contributor-approval`, () => (this.forkApproval === null ? [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }] : [200, { approval_policy: this.forkApproval }]));
    this.on('GET', `${P}/actions/runners`, (c) => {
      const name = c.url.searchParams.get('name');
      const list = this.runners.filter((r) => !name || r.name === name);
      const per = Number(c.url.searchParams.get('per_page') ?? 30);
      const page = Number(c.url.searchParams.get('page') ?? 1);
      return [200, { total_count: list.length, runners: list.slice((page - 1) * per, page * per).map(runnerJson) }];
    });
    // a just-in-time runner (docs: "Create configuration for a just-in-time runner for a repository")
    this.on('POST', `${P}/actions/runners/generate-jitconfig`, (c) => {
      if (this.runners.some((r) => r.name === c.body.name)) return [409, { message: 'Conflict: a runner with this name already exists' }];
      // offline until a runner process starts with the configuration (runner join does, once it has it)
      const r: Runner = { id: this.nextId++, name: c.body.name, status: 'offline', busy: false, labels: [...new Set(['self-hosted', 'Linux', 'X64', ...c.body.labels])], ephemeral: true };
      this.runners.push(r);
      return [201, { runner: runnerJson(r), encoded_jit_config: Buffer.from(JSON.stringify({ name: r.name })).toString('base64') }];
    });
    this.on('DELETE', new RegExp(`^${P}/actions/runners/\\d+$`), (c) => {
      const i = this.runners.findIndex((r) => r.id === Number(seg(c, 6)));
      if (i < 0) return notFound();
      this.runners.splice(i, 1);
      return [204, ''];
    });
    // the runs of a workflow, newest first, filtered as the query asks (the App's reconcile pass
    // looks for completed runs whose result it never recorded)
    this.on('GET', new RegExp(`^${P}/actions/workflows/[^/]+/runs$`), (c) => {
      const wf = seg(c, 6);
      const q = c.url.searchParams;
      // every run of the workflow, queued, pending and in progress too (as GitHub lists them):
      // the App's reconcile pass tells a dispatch that reached GitHub from one that did not
      const byId = new Map<number, Record<string, unknown>>();
      for (const r of this.workflowRuns.values()) byId.set(r.id, { ...this.workflowRunPayload(r).workflow_run, status: r.status, conclusion: r.conclusion });
      for (const [id, r] of this.runs) if (r.workflow_run) byId.set(id, r.workflow_run); // completed, as recorded
      const runs = [...byId.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([, r]) => r)
        .filter((r) => String(r.path).endsWith(`/${wf}`))
        .filter((r) => (!q.get('status') || r.status === q.get('status') || r.conclusion === q.get('status')) && (!q.get('event') || r.event === q.get('event')) && (!q.get('branch') || r.head_branch === q.get('branch')))
        .reverse();
      const per = Number(q.get('per_page') ?? 30);
      const page = Number(q.get('page') ?? 1);
      return [200, { total_count: runs.length, workflow_runs: runs.slice((page - 1) * per, page * per) }];
    });
    const artifactJson = (runId: number, name: string, size = 1000) => ({
      id: runId * 10,
      node_id: `A_${runId}`,
      name,
      size_in_bytes: size,
      url: `${API}${P}/actions/artifacts/${runId * 10}`,
      archive_download_url: `${API}${P}/actions/artifacts/${runId * 10}/zip`,
      expired: false,
      created_at: null,
      expires_at: null,
      updated_at: null,
    });
    this.on('GET', new RegExp(`^${P}/actions/runs/\\d+/artifacts$`), (c) => {
      const run = this.runs.get(Number(seg(c, 6)));
      const arts = run?.artifact ? [artifactJson(Number(seg(c, 6)), run.artifact.name, run.artifact.size_in_bytes)] : [];
      return [200, { total_count: arts.length, artifacts: arts }];
    });
    this.on('GET', new RegExp(`^${P}/actions/artifacts/\\d+/zip$`), (c) => [302, '', { location: `${PIPELINES}/artifact/${Number(seg(c, 6)) / 10}.zip` }]);
    this.on('GET', /^\/artifact\/\d+\.zip$/, (c) => {
      const run = this.runs.get(Number(c.path.match(/(\d+)\.zip$/)![1]));
      if (!run?.artifact) return [404, ''];
      const zip = zipSync(Object.fromEntries(Object.entries(run.artifact.files).map(([p, t]) => [p, strToU8(t)])));
      return [200, zip, { 'content-type': 'application/zip' }];
    }, PIPELINES);
    this.on('GET', new RegExp(`^${P}/actions/runs/\\d+/jobs$`), (c) => {
      const id = Number(seg(c, 6));
      const run = this.runs.get(id);
      const wr = this.workflowRuns.get(id);
      // a run the fake dispatched: its job as it is now (queued, in progress or completed)
      if (wr) {
        const job: Record<string, unknown> = { ...this.jobJson(wr), ...(run?.runner_name && wr.status === 'completed' ? { runner_name: run.runner_name } : {}) };
        if (wr.status === 'completed' && run?.job_seconds !== undefined && wr.started_at !== null) job.completed_at = new Date(wr.started_at + run.job_seconds * 1000).toISOString();
        return [200, { total_count: 1, jobs: [job] }];
      }
      // a completed run a scenario test put in place (World.complete): its runner and job time
      const started = Date.parse('2026-11-24T12:00:00Z');
      const completed = started + (run?.job_seconds ?? 345) * 1000;
      return [200, { total_count: 1, jobs: [{ id, run_id: id, name: 'experiment', runner_name: run?.runner_name ?? null, status: 'completed', conclusion: 'success', created_at: new Date(started).toISOString(), started_at: new Date(started).toISOString(), completed_at: new Date(completed).toISOString(), head_sha: '', labels: [] }] }];
    });
    // a workflow run (docs: "Get a workflow run")
    this.on('GET', new RegExp(`^${P}/actions/runs/\\d+$`), (c) => {
      const id = Number(seg(c, 6));
      const wr = this.workflowRuns.get(id);
      const done = this.runs.get(id)?.workflow_run;
      if (done) return [200, done];
      if (!wr) return notFound();
      return [200, { ...this.workflowRunPayload(wr).workflow_run, status: wr.status, conclusion: wr.conclusion }];
    });
    // docs "Cancel a workflow run": 202 Accepted; 409 Conflict for a run that already completed
    this.on('POST', new RegExp(`^${P}/actions/runs/\\d+/cancel$`), (c) => {
      const wr = this.workflowRuns.get(Number(seg(c, 6)));
      if (!wr) return this.runs.has(Number(seg(c, 6))) ? [409, { message: 'Cannot cancel a workflow run that is completed.', documentation_url: 'https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run' }] : notFound();
      if (wr.status === 'completed') return [409, { message: 'Cannot cancel a workflow run that is completed.', documentation_url: 'https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run' }];
      this.finishRun(wr, 'cancelled');
      return [202, {}];
    });
  }
}

/**
 * Base64 content as GitHub accepts it, decoded; null when it is not Base64. Node's decoder skips
 * characters outside the alphabet, so a decoded length short of the text's says it was not.
 */
function decodeBase64(text: string): Uint8Array | null {
  const s = /[\r\n ]/.test(text.slice(0, 200)) ? text.replace(/[\r\n ]+/g, '') : text;
  if (s.length % 4 !== 0) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = Buffer.from(s, 'base64');
  if (out.length !== (s.length / 4) * 3 - pad) return null;
  if (pad === 0 ? s.includes('=') : s.indexOf('=') !== s.length - pad) return null;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** `ours` over `template`: objects merged key by key (ours wins), list items over the template's first item. */
function overlay(template: unknown, ours: unknown): unknown {
  if (Array.isArray(ours)) {
    const item = Array.isArray(template) ? template[0] : undefined;
    return item !== undefined && item !== null && typeof item === 'object' ? ours.map((o) => overlay(item, o)) : ours;
  }
  if (ours && typeof ours === 'object' && template && typeof template === 'object' && !Array.isArray(template) && !(ours instanceof Uint8Array)) {
    const out: Record<string, unknown> = { ...(template as Record<string, unknown>) };
    for (const [k, v] of Object.entries(ours)) {
      if (v === undefined) delete out[k]; // a field the example has and this answer must not
      else out[k] = k in out ? overlay(out[k], v) : v;
    }
    return out;
  }
  return ours;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The account id GitHub answers for `login` (each login its own account, unless a test says otherwise). */
export function userIdOf(login: string): number {
  return Math.abs(hashInt(login));
}
function userJson(login: string) {
  return { login, id: userIdOf(login), node_id: `U_${login}`, type: login.endsWith('[bot]') ? 'Bot' : 'User', site_admin: false, avatar_url: '', html_url: `https://github.com/${login}`, url: `${API}/users/${login}` };
}
function labelJson(name: string, i: number) {
  return { id: i + 1, node_id: `L_${i + 1}`, url: `${API}${P}/labels/${encodeURIComponent(name)}`, name, color: 'ededed', default: false, description: '' };
}
export function repositoryJson() {
  return { id: 1, node_id: 'R_1', name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: 'main', owner: userJson(OWNER) };
}
function hashInt(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}

/** A workflow string with `${{ }}` expressions, evaluated as Actions does (contexts: inputs, github). */
export function evalTemplate(template: string, ctx: Record<string, unknown>): string {
  return String(template).replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => {
    const lexed = new Lexer(expr.trim()).lex();
    const parsed = new Parser(lexed.tokens, Object.keys(ctx), []).parse();
    const result = new Evaluator(parsed, toData(ctx) as any).evaluate();
    return result.coerceString();
  });
}

function toData(v: unknown): unknown {
  if (v === null || v === undefined) return new data.Null();
  if (typeof v === 'string') return new data.StringData(v);
  if (typeof v === 'number') return new data.NumberData(v);
  if (typeof v === 'boolean') return new data.BooleanData(v);
  if (Array.isArray(v)) {
    const a = new data.Array();
    for (const x of v) a.add(toData(x) as any);
    return a;
  }
  const d = new data.Dictionary();
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) d.add(k, toData(x) as any);
  return d;
}
