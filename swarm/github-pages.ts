// The local swarm's "GitHub" pages. The leaderboard links each experiment to its PR's files, its
// workflow runs' logs, the docs on the default branch and the contributors' profiles on
// github.com; in the one-machine swarm those live in the faked GitHub, so the leaderboard server
// rewrites those links to /github/... and answers them from the fake: a PR with its comments and
// diff, a run with its train.log, a file of a commit, a login's PRs and runs. A click never lands
// on an unrelated real repository (the fake is named after GitHub's example one).
import { createTwoFilesPatch } from 'diff';
import type { FakeGitHub } from '../sim/github/fake.js';
import { OWNER, REPO } from '../sim/github/fake.js';

export interface LocalGitHub {
  /** rewrites github.com links of the built pages and API files (the repository's and the
   * swarm's logins') to this server's /github/ pages: `base` is where those are (default
   * `/github/`; the JSON API gets the absolute address, as its other links are absolute) */
  rewrite(text: string, base?: string): string;
  /** the page for a path below /github/, or null (404) */
  page(path: string): { type: string; body: string } | null;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : '');

function html(title: string, body: string): { type: string; body: string } {
  return {
    type: 'text/html; charset=utf-8',
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · local swarm</title><link rel="stylesheet" href="/assets/site.css"></head><body><main style="max-width:1100px;margin:1.5rem auto;padding:0 1rem">
<p><a href="/">← leaderboard</a> · this is the local swarm's faked GitHub (<code>npm run swarm</code>), not github.com</p>
<h1>${esc(title)}</h1>
${body}
</main></body></html>`,
  };
}

export function localGitHub(gh: FakeGitHub, who: { logins(): string[]; ownerOf(runnerName: string): string | undefined }): LocalGitHub {
  const repoBase = `https://github.com/${OWNER}/${REPO}/`;
  return {
    rewrite(page: string, base = '/github/'): string {
      let out = page.split(repoBase).join(base);
      for (const login of who.logins()) out = out.split(`"https://github.com/${login}"`).join(`"${base}users/${encodeURIComponent(login)}"`);
      return out;
    },
    page(path: string) {
      let m: RegExpExecArray | null;
      if ((m = /^pull\/(\d+)(\/files)?$/.exec(path))) {
        const p = gh.pulls.get(Number(m[1]));
        if (!p) return null;
        const head = gh.commits.get(p.head);
        const base = head?.parents[0] ?? '';
        const before = text(gh.fileAt(base, 'trainer/train.ts'));
        const after = text(gh.fileAt(p.head, 'trainer/train.ts'));
        const patch = createTwoFilesPatch('a/trainer/train.ts', 'b/trainer/train.ts', before, after, '', '', { context: 3 });
        const comments = [...gh.comments.values()].filter((c) => c.issue === p.number);
        return html(`PR #${p.number}: ${p.title}`, [
          `<p>by <a href="/github/users/${encodeURIComponent(p.user)}">${esc(p.user)}</a> · ${p.merged ? 'merged' : esc(p.state)} · labels: ${esc(p.labels.join(', ') || 'none')} · head ${esc(p.head.slice(0, 7))}</p>`,
          `<h2>Files changed</h2><pre>${esc(patch)}</pre>`,
          `<h2>The App's comments</h2>${comments.map((c) => `<pre style="white-space:pre-wrap">${esc(c.body)}</pre>`).join('\n') || '<p>none</p>'}`,
        ].join('\n'));
      }
      if ((m = /^actions\/runs\/(\d+)$/.exec(path))) {
        const id = Number(m[1]);
        const run = gh.workflowRuns.get(id);
        const art = gh.runs.get(id);
        if (!run && !art) return null;
        const head = run ? `${run.display_title}: ${run.status}${run.conclusion ? ` (${run.conclusion})` : ''}${run.runner_name ? ` on ${run.runner_name}` : ''}` : `run ${id}`;
        const log = art?.artifact?.files['train.log'];
        return html(`Workflow run ${id}`, `<p>${esc(head)}</p><h2>train.log</h2><pre style="white-space:pre-wrap">${esc(log ?? '(no log uploaded)')}</pre>`);
      }
      if ((m = /^(?:blob|commit)\/([^/]+)(?:\/(.+))?$/.exec(path))) {
        const ref = m[1] === 'HEAD' ? 'main' : m[1];
        if (m[2]) {
          const f = gh.fileAt(ref, m[2]);
          return f ? { type: 'text/plain; charset=utf-8', body: text(f) } : null;
        }
        const sha = gh.refs.get(`heads/${ref}`) ?? ref;
        const c = gh.commits.get(sha);
        if (!c) return null;
        const before = text(gh.fileAt(c.parents[0] ?? '', 'trainer/train.ts'));
        const after = text(gh.fileAt(sha, 'trainer/train.ts'));
        return html(`Commit ${sha.slice(0, 7)}`, `<pre style="white-space:pre-wrap">${esc(c.message)}</pre><pre>${esc(createTwoFilesPatch('a/trainer/train.ts', 'b/trainer/train.ts', before, after))}</pre>`);
      }
      if ((m = /^users\/([^/]+)$/.exec(path))) {
        const login = decodeURIComponent(m[1]);
        const prs = [...gh.pulls.values()].filter((p) => p.user === login);
        const runs = [...gh.workflowRuns.values()].filter((r) => r.runner_name && who.ownerOf(r.runner_name) === login);
        return html(login, [
          `<h2>PRs</h2><ul>${prs.map((p) => `<li><a href="/github/pull/${p.number}/files">#${p.number} ${esc(p.title)}</a> (${p.merged ? 'merged' : esc(p.labels.join(', ') || p.state)})</li>`).join('') || '<li>none</li>'}</ul>`,
          `<h2>Runs on its runners</h2><ul>${runs.map((r) => `<li><a href="/github/actions/runs/${r.id}">${esc(r.display_title)}</a> (${esc(r.conclusion ?? r.status)})</li>`).join('') || '<li>none</li>'}</ul>`,
        ].join('\n'));
      }
      return null;
    },
  };
}
