// A stateful stand-in for GitHub's Git Data and contents APIs on one repository, served through
// nock so the real Octokit request path runs. Objects are content-addressed like git's (sha1 over
// a typed header, so a file's sha is its git blob id), trees are flat path maps, and the ref moves
// only by fast-forward unless forced, answering 422 "Update is not a fast forward" as GitHub does.
// The contents API answers as GitHub does: a PUT with a stale `sha` is 409 "<path> does not match
// <sha>", one without `sha` on an existing file 422; content comes inline up to 1 MB (above,
// encoding "none": read the blob); every GET carries an ETag (a hash of the body) and answers 304
// with no body to a matching If-None-Match. Every route is checked against GitHub's REST
// description by test/helpers/openapi.ts.
import { createHash } from 'node:crypto';
import { gitHubApi } from '../helpers/openapi.js';

type Tree = Map<string, string>; // path -> blob sha

export class FakeGitRepo {
  readonly blobs = new Map<string, string>();
  readonly trees = new Map<string, Tree>();
  readonly commits = new Map<string, { tree: string; parents: string[]; message: string }>();
  readonly refs = new Map<string, string>(); // "heads/ledger" -> commit sha
  /** called before a ref update or a contents PUT is applied: lets a test move the branch "meanwhile" */
  beforeWrite: ((ref: string) => void) | null = null;
  /** the status to answer once after applying a contents PUT, as when its answer is lost (a 502 from a proxy) */
  failAfterPut: number | null = null;

  constructor(
    readonly owner = 'octo-org',
    readonly repo = 'swarm',
  ) {}

  private hash(kind: string, body: string): string {
    return createHash('sha1').update(`${kind} ${Buffer.byteLength(body)}\0${body}`).digest('hex');
  }

  putBlob(text: string): string {
    const sha = this.hash('blob', text);
    this.blobs.set(sha, text);
    return sha;
  }

  putTree(tree: Tree): string {
    const sha = this.hash('tree', JSON.stringify([...tree].sort()));
    this.trees.set(sha, tree);
    return sha;
  }

  putCommit(tree: string, parents: string[], message: string): string {
    const sha = this.hash('commit', JSON.stringify({ tree, parents, message, n: this.commits.size }));
    this.commits.set(sha, { tree, parents, message });
    return sha;
  }

  /** The files at the tip of a branch. */
  filesAt(branch = 'ledger'): Record<string, string> {
    const commit = this.refs.get(`heads/${branch}`);
    if (!commit) return {};
    const tree = this.trees.get(this.commits.get(commit)!.tree)!;
    return Object.fromEntries([...tree].map(([p, sha]) => [p, this.blobs.get(sha)!]));
  }

  private descends(commit: string, ancestor: string): boolean {
    const seen = new Set<string>();
    const stack = [commit];
    while (stack.length) {
      const c = stack.pop()!;
      if (c === ancestor) return true;
      if (seen.has(c)) continue;
      seen.add(c);
      stack.push(...(this.commits.get(c)?.parents ?? []));
    }
    return false;
  }

  /** Installs the nock routes (persisted until nock.cleanAll()). */
  serve(): void {
    const base = `/repos/${this.owner}/${this.repo}`;
    const api = gitHubApi().persist();
    const notFound = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };
    const refPath = (uri: string, prefix: string) => decodeURIComponent(new URL(uri, 'https://api.github.com').pathname.slice(prefix.length));

    api.get((u) => u.startsWith(`${base}/git/ref/`)).reply(async (req: Request) => {
      const uri = req.url;
      const ref = refPath(uri, `${base}/git/ref/`);
      const sha = this.refs.get(ref);
      if (!sha) return [404, notFound];
      return [200, { ref: `refs/${ref}`, node_id: 'REF', url: `https://api.github.com${base}/git/refs/${ref}`, object: { sha, type: 'commit', url: `https://api.github.com${base}/git/commits/${sha}` } }];
    });

    api.get((u) => u.startsWith(`${base}/git/commits/`)).reply(async (req: Request) => {
      const uri = req.url;
      const sha = refPath(uri, `${base}/git/commits/`);
      const c = this.commits.get(sha);
      if (!c) return [404, notFound];
      return [200, this.commitJson(sha)];
    });

    api.get((u) => u.startsWith(`${base}/git/blobs/`)).reply(async (req: Request) => {
      const uri = req.url;
      const sha = refPath(uri, `${base}/git/blobs/`);
      const text = this.blobs.get(sha);
      if (text === undefined) return [404, notFound];
      return [200, { sha, node_id: 'BLOB', size: Buffer.byteLength(text), url: `https://api.github.com${base}/git/blobs/${sha}`, content: Buffer.from(text).toString('base64'), encoding: 'base64' }];
    });

    api.get((u) => u.startsWith(`${base}/contents/`)).reply(async (req: Request) => {
      const url = new URL(req.url, 'https://api.github.com');
      const path = decodeURIComponent(url.pathname.slice(`${base}/contents/`.length));
      const ref = url.searchParams.get('ref') ?? 'main';
      const commit = this.refs.get(`heads/${ref}`) ?? ref;
      const c = this.commits.get(commit);
      if (!c) return [404, { ...notFound, message: `No commit found for the ref ${ref}` }];
      const tree = this.trees.get(c.tree)!;
      const blob = tree.get(path);
      if (blob !== undefined && (req.headers.get('accept') ?? '').includes('raw')) {
        return [200, this.blobs.get(blob)!, { 'content-type': 'application/vnd.github.raw; charset=utf-8' }];
      }
      const body =
        blob !== undefined
          ? this.fileJson(path, blob, ref, true)
          : [...tree].filter(([p]) => p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes('/')).map(([p, sha]) => this.fileJson(p, sha, ref, false));
      if (Array.isArray(body) && body.length === 0) return [404, notFound];
      const etag = `W/"${createHash('sha256').update(JSON.stringify(body)).digest('hex')}"`;
      if (req.headers.get('if-none-match') === etag) return [304, '', { etag }];
      return [200, body, { etag }];
    });

    api.put((u) => u.startsWith(`${base}/contents/`)).reply(async (req: Request) => {
      const url = new URL(req.url, 'https://api.github.com');
      const path = decodeURIComponent(url.pathname.slice(`${base}/contents/`.length));
      const b = (await req.json()) as { message: string; content: string; sha?: string; branch?: string };
      const branch = b.branch ?? 'main';
      this.beforeWrite?.(`heads/${branch}`);
      const head = this.refs.get(`heads/${branch}`);
      if (!head) return [404, { ...notFound, message: `Branch ${branch} not found` }];
      const tree = new Map(this.trees.get(this.commits.get(head)!.tree)!);
      const current = tree.get(path);
      if (current !== undefined && b.sha === undefined) return [422, { message: 'Invalid request.\n\n"sha" wasn\'t supplied.', documentation_url: 'https://docs.github.com/rest', status: '422' }];
      if (current !== undefined && b.sha !== current) return [409, { message: `${path} does not match ${b.sha}`, documentation_url: 'https://docs.github.com/rest', status: '409' }];
      const blob = this.putBlob(Buffer.from(b.content, 'base64').toString('utf8'));
      tree.set(path, blob);
      const commit = this.putCommit(this.putTree(tree), [head], b.message);
      this.refs.set(`heads/${branch}`, commit);
      if (this.failAfterPut !== null) {
        const failed = this.failAfterPut;
        this.failAfterPut = null;
        return [failed, { message: 'Server Error' }];
      }
      return [current === undefined ? 201 : 200, { content: this.fileJson(path, blob, branch, false), commit: this.commitJson(commit) }];
    });

    // Get a tree, one level, by tree sha or branch name (a directory is an item of type `tree`).
    api.get((u) => u.startsWith(`${base}/git/trees/`)).reply(async (req: Request) => {
      const key = refPath(req.url, `${base}/git/trees/`);
      const head = this.refs.get(`heads/${key}`);
      const sha = this.trees.has(key) ? key : head ? this.commits.get(head)!.tree : null;
      if (!sha) return [404, notFound];
      const items: { path: string; mode: string; type: string; sha: string; size?: number; url: string }[] = [];
      const dirs = new Map<string, Tree>();
      for (const [p, blob] of this.trees.get(sha)!) {
        const cut = p.indexOf('/');
        if (cut < 0) items.push({ path: p, mode: '100644', type: 'blob', sha: blob, size: Buffer.byteLength(this.blobs.get(blob)!), url: `https://api.github.com${base}/git/blobs/${blob}` });
        else dirs.set(p.slice(0, cut), (dirs.get(p.slice(0, cut)) ?? new Map()).set(p.slice(cut + 1), blob));
      }
      for (const [path, sub] of dirs) {
        const s = this.putTree(sub);
        items.push({ path, mode: '040000', type: 'tree', sha: s, url: `https://api.github.com${base}/git/trees/${s}` });
      }
      return [200, { sha, url: `https://api.github.com${base}/git/trees/${sha}`, tree: items, truncated: false }];
    });

    api.post(`${base}/git/trees`).reply(async (req: Request) => {
      const body: unknown = await req.json();
      const b = body as { base_tree?: string; tree: { path: string; mode: string; type: string; content?: string; sha?: string | null }[] };
      if (b.base_tree && !this.trees.has(b.base_tree)) return [422, { message: 'Invalid tree info', status: '422' }];
      const tree: Tree = new Map(b.base_tree ? this.trees.get(b.base_tree) : []);
      for (const item of b.tree) {
        if (item.content !== undefined) tree.set(item.path, this.putBlob(item.content));
        else if (item.sha === null) tree.delete(item.path);
        else if (item.sha) tree.set(item.path, item.sha);
      }
      const sha = this.putTree(tree);
      return [201, { sha, url: `https://api.github.com${base}/git/trees/${sha}`, truncated: false, tree: [...tree].map(([path, s]) => ({ path, mode: '100644', type: 'blob', sha: s })) }];
    });

    api.post(`${base}/git/commits`).reply(async (req: Request) => {
      const body: unknown = await req.json();
      const b = body as { message: string; tree: string; parents?: string[] };
      if (!this.trees.has(b.tree) || (b.parents ?? []).some((p) => !this.commits.has(p))) return [422, { message: 'Invalid tree or parent', status: '422' }];
      const sha = this.putCommit(b.tree, b.parents ?? [], b.message);
      return [201, this.commitJson(sha)];
    });

    api.patch((u) => u.startsWith(`${base}/git/refs/`)).reply(async (req: Request) => {
      const uri = req.url;
      const body: unknown = await req.json();
      const ref = refPath(uri, `${base}/git/refs/`);
      this.beforeWrite?.(ref);
      const b = body as { sha: string; force?: boolean };
      const current = this.refs.get(ref);
      if (!current) return [422, { message: 'Reference does not exist', status: '422' }];
      if (!this.commits.has(b.sha)) return [422, { message: 'Object does not exist', status: '422' }];
      if (!b.force && !this.descends(b.sha, current)) return [422, { message: 'Update is not a fast forward', status: '422' }];
      this.refs.set(ref, b.sha);
      return [200, { ref: `refs/${ref}`, node_id: 'REF', url: '', object: { sha: b.sha, type: 'commit', url: '' } }];
    });

    api.post(`${base}/git/refs`).reply(async (req: Request) => {
      const body: unknown = await req.json();
      const b = body as { ref: string; sha: string };
      const ref = b.ref.replace(/^refs\//, '');
      if (this.refs.has(ref)) return [422, { message: 'Reference already exists', status: '422' }];
      if (!this.commits.has(b.sha)) return [422, { message: 'Object does not exist', status: '422' }];
      this.refs.set(ref, b.sha);
      return [201, { ref: b.ref, node_id: 'REF', url: '', object: { sha: b.sha, type: 'commit', url: '' } }];
    });
  }

  /** A file as the contents API describes it; `content` inline up to 1 MB, as GitHub sends it. */
  private fileJson(path: string, sha: string, ref: string, content: boolean) {
    const text = this.blobs.get(sha)!;
    const size = Buffer.byteLength(text);
    const url = `https://api.github.com/repos/${this.owner}/${this.repo}/contents/${path}?ref=${ref}`;
    const git_url = `https://api.github.com/repos/${this.owner}/${this.repo}/git/blobs/${sha}`;
    const html_url = `https://github.com/${this.owner}/${this.repo}/blob/${ref}/${path}`;
    return {
      type: 'file',
      name: path.split('/').pop()!,
      path,
      sha,
      size,
      url,
      git_url,
      html_url,
      download_url: `https://raw.githubusercontent.com/${this.owner}/${this.repo}/${ref}/${path}`,
      _links: { self: url, git: git_url, html: html_url },
      ...(content ? (size > 1_000_000 ? { content: '', encoding: 'none' } : { content: Buffer.from(text).toString('base64').replace(/.{60}/g, '$&\n'), encoding: 'base64' }) : {}),
    };
  }

  private commitJson(sha: string) {
    const c = this.commits.get(sha)!;
    const who = { name: 'autoresearch-swarm[bot]', email: 'bot@example.com', date: '2026-01-01T00:00:00Z' };
    return {
      sha,
      node_id: 'COMMIT',
      url: `https://api.github.com/repos/${this.owner}/${this.repo}/git/commits/${sha}`,
      html_url: '',
      author: who,
      committer: who,
      message: c.message,
      tree: { sha: c.tree, url: '' },
      parents: c.parents.map((p) => ({ sha: p, url: '', html_url: '' })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }
}
