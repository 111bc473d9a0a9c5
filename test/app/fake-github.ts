// A stateful stand-in for the part of api.github.com the App uses, served through nock on the
// shared `gitHubApi()` scope (so every request is checked against GitHub's REST description and
// counted). Scenarios assert on what a user would see: labels, the sticky comment, the check
// run, dispatched workflows, merges, and the ledger branch the App wrote.
import { createHash } from 'node:crypto';
import nock from 'nock';
import { zipSync, strToU8 } from 'fflate';
import { gitHubApi } from '../helpers/openapi.js';

type Reply = [number, unknown?, Record<string, string>?];
export interface Fault {
  method: string;
  path: RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** only once this holds (e.g. after a merge); until then the fault waits its turn */
  when?: () => boolean;
}

export const OWNER = 'Codertocat';
export const REPO = 'Hello-World';
const P = `/repos/${OWNER}/${REPO}`;

type Files = Map<string, Uint8Array>;
const sha1 = (s: string | Uint8Array) => createHash('sha1').update(s).digest('hex');
const bytes = (c: string | Uint8Array) => (typeof c === 'string' ? strToU8(c) : c);
/** git's blob id, which GitHub reports as a file's sha (and checks a contents PUT's `sha` against) */
const blobSha = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export interface Pull {
  number: number;
  title: string;
  user: string;
  head: string;
  files: { filename: string; status: string; previous_filename?: string }[];
  labels: string[];
  state: 'open' | 'closed';
  merged: boolean;
  created_at: string;
  merge_commit_sha?: string;
}
export interface CheckRun {
  id: number;
  head_sha: string;
  status: string;
  conclusion: string | null;
  title: string;
  summary: string;
}
export interface Runner {
  id: number;
  name: string;
  status: 'online' | 'offline';
  busy: boolean;
  labels: string[];
}
export interface RunArtifacts {
  runner_name: string;
  /** how long the job ran by GitHub's clock (default 345 s: a 300 s budget plus setup and evaluation) */
  job_seconds?: number;
  artifact: { name: string; files: Record<string, string>; size_in_bytes?: number } | null;
  /** the run as the workflow_run webhook and the runs listing describe it, once completed */
  workflow_run?: Record<string, unknown>;
}

export class FakeGitHub {
  commits = new Map<string, { tree: string; parents: string[]; message: string }>();
  trees = new Map<string, Files>();
  blobs = new Map<string, Uint8Array>();
  refs = new Map<string, string>();
  pulls = new Map<number, Pull>();
  /** labels of issues that are not PRs (long-run requests) */
  issues = new Map<number, { labels: string[] }>();
  comments = new Map<number, { id: number; issue: number; body: string }>();
  checks = new Map<number, CheckRun>();
  runners: Runner[] = [];
  runs = new Map<number, RunArtifacts>();
  dispatches: { workflow: string; ref: string; inputs: Record<string, string> }[] = [];
  merges: { pr: number; sha: string; title: string; message: string; merge_sha: string }[] = [];
  /** answers to give instead of the real one, once each, in order (5xx, rate limits) */
  faults: Fault[] = [];
  /** Settings → Actions → fork PR approval (the App dispatches only under all_external_contributors); null: 403 */
  forkApproval: string | null = 'all_external_contributors';
  private nextId = 1000;

  constructor() {
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
    const sha = sha1([...files].sort(([a], [b]) => a.localeCompare(b)).map(([p, b]) => `${p}:${blobSha(b)}`).join('\n'));
    this.trees.set(sha, files);
    for (const b of files.values()) this.blobs.set(blobSha(b), b);
    return sha;
  }

  private pullJson(p: Pull) {
    return {
      number: p.number,
      title: p.title,
      state: p.state,
      merged: p.merged,
      merge_commit_sha: p.merge_commit_sha ?? null,
      created_at: p.created_at,
      user: { login: p.user },
      head: { sha: p.head, ref: `pr-${p.number}` },
      base: { ref: 'main' },
      labels: p.labels.map((name) => ({ name })),
    };
  }

  private install(): void {
    const api = gitHubApi().persist();
    // nock 15 hands a reply function the fetch Request; this gives it the path and the JSON body.
    const h = (fn: (uri: string, body: any, req: Request) => Reply | readonly [number, unknown]) => async (req: Request) => {
      const u = new URL(req.url);
      const i = this.faults.findIndex((f) => f.method === req.method && f.path.test(u.pathname) && (!f.when || f.when()));
      if (i >= 0) {
        const [f] = this.faults.splice(i, 1);
        return [f.status, f.body ?? { message: 'Server Error' }, f.headers ?? {}];
      }
      const text = await req.clone().text();
      return fn(u.pathname + u.search, text ? JSON.parse(text) : undefined, req);
    };
    api.post(/^\/app\/installations\/\d+\/access_tokens$/).reply(
      h(() => [201, { token: 'ghs_test', expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {}, repository_selection: 'all' }]),
    );
    
    const notFound = [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }] as const;
    const fileJson = (path: string, b: Uint8Array) => ({ type: 'file', path, name: path.split('/').pop(), sha: blobSha(b), size: b.length });
    const commitOf = (ref: string) => (this.commits.has(ref) ? ref : (this.refs.get(`heads/${ref}`) ?? null));
    const seg = (uri: string, i: number) => decodeURIComponent(new URL(uri, 'https://api.github.com').pathname.split('/')[i]);

    // --- git data (the ledger branch) ---
    api.get(new RegExp(`^${P}/git/ref/`)).optionally().reply(h((uri: string) => {
      const ref = decodeURIComponent(uri.split('/git/ref/')[1]);
      const sha = this.refs.get(ref);
      return sha ? [200, { ref: `refs/${ref}`, object: { sha, type: 'commit' } }] : [...notFound];
    }));
    api.get(new RegExp(`^${P}/git/commits/`)).optionally().reply(h((uri: string) => {
      const c = this.commits.get(seg(uri, 6));
      return c ? [200, { sha: seg(uri, 6), message: c.message ?? '', tree: { sha: c.tree }, parents: c.parents.map((sha) => ({ sha })) }] : [...notFound];
    }));
    api.get(new RegExp(`^${P}/git/blobs/`)).optionally().reply(h((uri: string) => {
      const b = this.blobs.get(seg(uri, 6));
      return b ? [200, { sha: seg(uri, 6), content: Buffer.from(b).toString('base64'), encoding: 'base64', size: b.length }] : [...notFound];
    }));
    api.post(`${P}/git/trees`).optionally().reply(h((_u: string, body: any) => {
      const files: Files = new Map(body.base_tree ? this.trees.get(body.base_tree)! : []);
      for (const t of body.tree) files.set(t.path, bytes(t.content));
      return [201, { sha: this.putTree(files), tree: [] }];
    }));
    api.post(`${P}/git/commits`).optionally().reply(h((_u: string, body: any) => {
      const sha = sha1(`commit ${body.tree} ${body.parents.join(',')} ${body.message} ${this.nextId++}`);
      this.commits.set(sha, { tree: body.tree, parents: body.parents, message: body.message });
      return [201, { sha, tree: { sha: body.tree } }];
    }));
    api.patch(new RegExp(`^${P}/git/refs/`)).optionally().reply(h((uri: string, body: any) => {
      const ref = decodeURIComponent(uri.split('/git/refs/')[1]);
      const cur = this.refs.get(ref);
      if (!cur) return [422, { message: 'Reference does not exist' }];
      if (!body.force && !this.commits.get(body.sha)?.parents.includes(cur)) return [422, { message: 'Update is not a fast forward' }];
      this.refs.set(ref, body.sha);
      return [200, { ref: `refs/${ref}`, object: { sha: body.sha, type: 'commit' } }];
    }));
    api.post(`${P}/git/refs`).optionally().reply(h((_u: string, body: any) => {
      const ref = body.ref.replace(/^refs\//, '');
      if (this.refs.has(ref)) return [422, { message: 'Reference already exists' }];
      this.refs.set(ref, body.sha);
      return [201, { ref: body.ref, object: { sha: body.sha, type: 'commit' } }];
    }));

    // --- contents (config, train.ts, ledger shards) and archives ---
    api.get(new RegExp(`^/repos/${OWNER}/\\.github/contents/`)).optionally().reply(...notFound);
    // Answers as GitHub does: content inline up to 1 MB (above, encoding "none": read the blob); an
    // ETag on every 200 (a hash of the body) and 304 with no body to a matching If-None-Match.
    api.get(new RegExp(`^${P}/contents/`)).optionally().reply(h((uri: string, _body: any, req: Request) => {
      const u = new URL(uri, 'https://api.github.com');
      const path = decodeURIComponent(u.pathname.split('/contents/')[1]);
      const commit = commitOf(u.searchParams.get('ref') ?? 'main');
      if (!commit) return [...notFound];
      const files = this.trees.get(this.commits.get(commit)!.tree)!;
      const raw = (req.headers.get('accept') ?? '').includes('raw');
      const file = files.get(path);
      const listing = [...files].filter(([p]) => p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes('/'));
      if (!file && !listing.length) return [...notFound];
      const body = file
        ? raw
          ? new TextDecoder().decode(file)
          : { ...fileJson(path, file), ...(file.length > 1_000_000 ? { encoding: 'none', content: '' } : { encoding: 'base64', content: Buffer.from(file).toString('base64') }) }
        : listing.map(([p, b]) => fileJson(p, b));
      const etag = `W/"${createHash('sha256').update(typeof body === 'string' ? body : JSON.stringify(body)).digest('hex')}"`;
      if (req.headers.get('if-none-match') === etag) return [304, '', { etag }];
      return [200, body, { etag, 'content-type': raw ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8' }];
    }));
    // A file written on a branch in one commit, compare-and-swap on the file's blob sha (the ledger's tail).
    api.put(new RegExp(`^${P}/contents/`)).optionally().reply(h((uri: string, body: any) => {
      const path = decodeURIComponent(new URL(uri, 'https://api.github.com').pathname.split('/contents/')[1]);
      const branch = body.branch ?? 'main';
      const head = this.refs.get(`heads/${branch}`);
      if (!head) return [404, { message: `Branch ${branch} not found` }];
      const current = this.trees.get(this.commits.get(head)!.tree)!.get(path);
      if (current && body.sha === undefined) return [422, { message: 'Invalid request.\n\n"sha" wasn\'t supplied.' }];
      if (current && body.sha !== blobSha(current)) return [409, { message: `${path} does not match ${body.sha}` }];
      const content = new Uint8Array(Buffer.from(body.content, 'base64'));
      const sha = this.commit({ [path]: content }, head, body.message);
      this.refs.set(`heads/${branch}`, sha);
      const tree = this.commits.get(sha)!.tree;
      return [current ? 200 : 201, { content: fileJson(path, content), commit: { sha, tree: { sha: tree }, parents: [{ sha: head }], message: body.message } }];
    }));
    api.get(new RegExp(`^${P}/zipball/`)).optionally().reply(h((uri: string) => {
      const commit = commitOf(seg(uri, 5));
      return commit ? [302, '', { location: `https://codeload.github.com/${OWNER}/${REPO}/legacy.zip/${commit}` }] : [...notFound];
    }));
    nock('https://codeload.github.com')
      .persist()
      .get(new RegExp(`^/${OWNER}/${REPO}/legacy.zip/`))
      .optionally().reply(h((uri: string) => {
        const commit = uri.split('/').pop()!;
        const files = this.trees.get(this.commits.get(commit)!.tree)!;
        const zip = zipSync(Object.fromEntries([...files].map(([p, b]) => [`${OWNER}-${REPO}-${commit.slice(0, 7)}/${p}`, b])));
        return [200, Buffer.from(zip), { 'content-type': 'application/zip' }];
      }));

    api.get(P).optionally().reply(h(() => [200, { id: 1, name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: 'main', owner: { login: OWNER } }]));
    api.get(`${P}/actions/permissions/fork-pr-contributor-approval`).optionally().reply(h(() => (this.forkApproval === null ? [403, { message: 'Resource not accessible by integration' }] : [200, { approval_policy: this.forkApproval }])));

    // --- pull requests, labels, comments ---
    api.get(`${P}/pulls`).query(true).optionally().reply(h(() => [200, [...this.pulls.values()].filter((p) => p.state === 'open').map((p) => this.pullJson(p))]));
    api.get(new RegExp(`^${P}/pulls/\\d+/files`)).optionally().reply(h((uri: string) => [200, this.pulls.get(Number(seg(uri, 5)))!.files.map((f) => ({ sha: sha1(f.filename), additions: 1, deletions: 1, changes: 2, ...f }))]));
    api.get(new RegExp(`^${P}/pulls/\\d+$`)).optionally().reply(h((uri: string) => {
      const p = this.pulls.get(Number(seg(uri, 5)));
      return p ? [200, this.pullJson(p)] : [...notFound];
    }));
    api.patch(new RegExp(`^${P}/pulls/\\d+$`)).optionally().reply(h((uri: string, body: any) => {
      const p = this.pulls.get(Number(seg(uri, 5)))!;
      if (body.state) p.state = body.state;
      return [200, this.pullJson(p)];
    }));
    api.put(new RegExp(`^${P}/pulls/\\d+/merge$`)).optionally().reply(h((uri: string, body: any) => {
      const p = this.pulls.get(Number(seg(uri, 5)))!;
      if (p.merged) return [405, { message: 'Pull Request is not mergeable' }];
      if (body.sha && body.sha !== p.head) return [409, { message: 'Head branch was modified. Review and try the merge again.' }];
      const main = this.refs.get('heads/main')!;
      const candidate = this.fileAt(p.head, 'trainer/train.ts')!;
      const merge_sha = this.commit({ 'trainer/train.ts': candidate }, main, body.commit_title);
      this.refs.set('heads/main', merge_sha);
      p.merged = true;
      p.merge_commit_sha = merge_sha;
      p.state = 'closed';
      this.merges.push({ pr: p.number, sha: body.sha, title: body.commit_title, message: body.commit_message, merge_sha });
      return [200, { sha: merge_sha, merged: true, message: 'Pull Request successfully merged' }];
    }));
    api.put(new RegExp(`^${P}/issues/\\d+/labels$`)).optionally().reply(h((uri: string, body: any) => {
      const p = this.pulls.get(Number(seg(uri, 5))) ?? this.issues.get(Number(seg(uri, 5)))!;
      p.labels = [...body.labels];
      return [200, p.labels.map((name: string, i: number) => ({ id: i + 1, name }))];
    }));
    // add labels (keeps the others) and remove one: each answers with all the issue's labels
    const labelsJson = (names: string[]) => names.map((name, i) => ({ id: i + 1, name }));
    api.post(new RegExp(`^${P}/issues/\\d+/labels$`)).optionally().reply(h((uri: string, body: any) => {
      const p = this.pulls.get(Number(seg(uri, 5))) ?? this.issues.get(Number(seg(uri, 5)));
      if (!p) return [...notFound];
      p.labels = [...new Set([...p.labels, ...body.labels])];
      return [200, labelsJson(p.labels)];
    }));
    api.delete(new RegExp(`^${P}/issues/\\d+/labels/[^/]+$`)).optionally().reply(h((uri: string) => {
      const p = this.pulls.get(Number(seg(uri, 5))) ?? this.issues.get(Number(seg(uri, 5)));
      const name = seg(uri, 7);
      if (!p || !p.labels.includes(name)) return [404, { message: 'Label does not exist', documentation_url: 'https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue' }];
      p.labels = p.labels.filter((l) => l !== name);
      return [200, labelsJson(p.labels)];
    }));
    api.get(new RegExp(`^${P}/issues/\\d+/comments`)).optionally().reply(h((uri: string) => [200, [...this.comments.values()].filter((c) => c.issue === Number(seg(uri, 5)))]));
    api.post(new RegExp(`^${P}/issues/\\d+/comments$`)).optionally().reply(h((uri: string, body: any) => {
      const c = { id: this.nextId++, issue: Number(seg(uri, 5)), body: body.body };
      this.comments.set(c.id, c);
      return [201, c];
    }));
    api.patch(new RegExp(`^${P}/issues/comments/\\d+$`)).optionally().reply(h((uri: string, body: any) => {
      const c = this.comments.get(Number(seg(uri, 6)))!;
      c.body = body.body;
      return [200, c];
    }));

    // compare: whether a commit is an ancestor of the default branch (status behind / identical)
    api.get(new RegExp(`^${P}/compare/[^/]+$`)).query(true).optionally().reply(h((uri: string) => {
      const [base, head] = seg(uri, 5).split('...');
      const b = commitOf(base);
      const full = [...this.commits.keys()].filter((sha) => sha.startsWith(head));
      if (!b || full.length !== 1) return [...notFound];
      const ancestors: string[] = [];
      for (let c: string | undefined = b; c; c = this.commits.get(c)!.parents[0]) ancestors.push(c);
      const at = ancestors.indexOf(full[0]);
      const status = at === 0 ? 'identical' : at > 0 ? 'behind' : 'diverged';
      return [200, { status, ahead_by: 0, behind_by: Math.max(at, 0), total_commits: 0, merge_base_commit: { sha: at >= 0 ? full[0] : ancestors[ancestors.length - 1] }, commits: [], files: [] }];
    }));

    // --- check runs ---
    api.post(`${P}/check-runs`).optionally().reply(h((_u: string, body: any) => {
      const c: CheckRun = { id: this.nextId++, head_sha: body.head_sha, status: body.status ?? 'queued', conclusion: body.conclusion ?? null, title: body.output?.title ?? '', summary: body.output?.summary ?? '' };
      this.checks.set(c.id, c);
      return [201, { id: c.id, head_sha: c.head_sha, status: c.status, conclusion: c.conclusion, name: body.name }];
    }));
    api.patch(new RegExp(`^${P}/check-runs/\\d+$`)).optionally().reply(h((uri: string, body: any) => {
      const c = this.checks.get(Number(seg(uri, 5)))!;
      c.status = body.status ?? c.status;
      c.conclusion = body.conclusion ?? null;
      if (body.output) Object.assign(c, { title: body.output.title, summary: body.output.summary });
      return [200, { id: c.id, status: c.status, conclusion: c.conclusion }];
    }));
    api.get(new RegExp(`^${P}/commits/[0-9a-f]+/check-runs`)).query(true).optionally().reply(h((uri: string) => {
      const runs = this.checksOf(seg(uri, 5)).sort((a, b) => b.id - a.id);
      return [200, { total_count: runs.length, check_runs: runs.slice(0, 1).map((c) => ({ id: c.id, status: c.status, conclusion: c.conclusion })) }];
    }));

    // --- actions ---
    api.post(new RegExp(`^${P}/actions/workflows/[^/]+/dispatches$`)).optionally().reply(h((uri: string, body: any) => {
      this.dispatches.push({ workflow: seg(uri, 6), ref: body.ref, inputs: body.inputs });
      // the run GitHub queues for it, titled by experiment.yml's run-name (it stays queued here;
      // World.complete reports a run of it finishing)
      const i = body.inputs ?? {};
      const id = this.nextId++;
      const display_title = `${i.role} ${i.pr ? `#${i.pr}` : 'main'} @ ${i.sha} [${i.nonce}]`;
      this.runs.set(id, { runner_name: '', artifact: null, workflow_run: { id, path: `.github/workflows/${seg(uri, 6)}`, event: 'workflow_dispatch', head_branch: body.ref, head_sha: this.refs.get(`heads/${body.ref}`), status: 'queued', conclusion: null, display_title, created_at: new Date().toISOString(), html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${id}` } });
      return [204, ''];
    }));
    api.get(`${P}/actions/runners`).query(true).optionally().reply(h((uri) => [
      200,
      { total_count: this.runners.length, runners: this.runners.filter((r) => !new URL(uri, 'https://x').searchParams.get('name') || r.name === new URL(uri, 'https://x').searchParams.get('name')).map((r) => ({ id: r.id, name: r.name, os: 'Linux', status: r.status, busy: r.busy, labels: r.labels.map((name, i) => ({ id: i, name, type: 'custom' })) })) },
    ]));
    // the runs of a workflow, newest first (the App's reconcile pass looks for results it never heard of)
    api.get(new RegExp(`^${P}/actions/workflows/[^/]+/runs`)).query(true).optionally().reply(h((uri: string) => {
      const wf = seg(uri, 6);
      const runs = [...this.runs.values()].map((r) => r.workflow_run).filter((r): r is Record<string, unknown> => Boolean(r) && String(r!.path).endsWith(`/${wf}`)).reverse();
      return [200, { total_count: runs.length, workflow_runs: runs }];
    }));
    api.get(new RegExp(`^${P}/actions/runs/\\d+/artifacts`)).query(true).optionally().reply(h((uri: string) => {
      const run = this.runs.get(Number(seg(uri, 6)));
      const arts = run?.artifact ? [{ id: Number(seg(uri, 6)) * 10, name: run.artifact.name, expired: false, size_in_bytes: run.artifact.size_in_bytes ?? 1000 }] : [];
      return [200, { total_count: arts.length, artifacts: arts }];
    }));
    api.get(new RegExp(`^${P}/actions/artifacts/\\d+/zip$`)).optionally().reply(h((uri: string) => [
      302,
      '',
      { location: `https://pipelinesghubeus2.actions.githubusercontent.com/artifact/${Number(seg(uri, 6)) / 10}.zip` },
    ]));
    nock('https://pipelinesghubeus2.actions.githubusercontent.com')
      .persist()
      .get(/^\/artifact\/\d+\.zip$/)
      .optionally().reply(h((uri: string) => {
        const run = this.runs.get(Number(uri.match(/(\d+)\.zip$/)![1]))!;
        const zip = zipSync(Object.fromEntries(Object.entries(run.artifact!.files).map(([p, t]) => [p, strToU8(t)])));
        return [200, Buffer.from(zip), { 'content-type': 'application/zip' }];
      }));
    api.get(new RegExp(`^${P}/actions/runs/\\d+/jobs`)).query(true).optionally().reply(h((uri: string) => {
      const run = this.runs.get(Number(seg(uri, 6)));
      const started = Date.parse('2026-11-24T12:00:00Z');
      const completed_at = new Date(started + (run?.job_seconds ?? 345) * 1000).toISOString();
      return [200, { total_count: 1, jobs: [{ id: 1, run_id: Number(seg(uri, 6)), name: 'experiment', runner_name: run?.runner_name ?? null, status: 'completed', started_at: new Date(started).toISOString(), completed_at }] }];
    }));
  }
}
