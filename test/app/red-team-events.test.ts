// Red-team attacks through webhook events (session: a PR author's pushes, bases, titles and
// labels; events the App does not handle; a repository that is not the swarm's), each written as
// a scenario against the real App with GitHub faked. A test that succeeded against the App before
// its fix says so (and what the fix was); the others pin an attack class found safe.
import { createRequire } from 'node:module';
import { describe, it, expect, beforeEach } from '@jest/globals';
import { auditEachWorld, World } from './world.js';
import { OWNER, REPO } from './fake-github.js';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples') as { name: string; examples: any[] }[];
const example = (name: string, action: string) => structuredClone(examples.find((e) => e.name === name)!.examples.find((x) => x.action === action));

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const EVIL_HARNESS = 'export const bits = 0; // the scorer, rewritten\n';

beforeEach(() => {
  World.last = null;
});
auditEachWorld();

const repository = () => ({ id: 1, name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: 'main', owner: { login: OWNER, id: 1, type: 'User' } });

/** GitHub's answer to GET .../contents/{path}?ref={sha} replaced by `body` (what the fake does not model: symlinks, submodules). */
function serveContent(w: World, sha: string, path: string, body: Record<string, unknown>): void {
  const handle = w.gh.handle.bind(w.gh);
  w.gh.handle = (req: Parameters<typeof handle>[0]) => {
    const url = new URL(req.url);
    if (req.method.toUpperCase() === 'GET' && decodeURIComponent(url.pathname) === `/repos/${OWNER}/${REPO}/contents/${path}` && url.searchParams.get('ref') === sha) {
      return { status: 200, body, headers: { 'content-type': 'application/json; charset=utf-8' } };
    }
    return handle(req);
  };
}

/** The contents API's object for `path` (its links), of the given type. */
const contentObject = (path: string, type: string, extra: Record<string, unknown>) => {
  const api = `https://api.github.com/repos/${OWNER}/${REPO}`;
  return {
    type,
    size: 0,
    name: path.split('/').at(-1),
    path,
    sha: 'b'.repeat(40),
    url: `${api}/contents/${path}`,
    git_url: `${api}/git/blobs/${'b'.repeat(40)}`,
    html_url: `https://github.com/${OWNER}/${REPO}/blob/main/${path}`,
    download_url: null,
    _links: { self: `${api}/contents/${path}`, git: `${api}/git/blobs/${'b'.repeat(40)}`, html: `https://github.com/${OWNER}/${REPO}/blob/main/${path}` },
    ...extra,
  };
}

/** PR 7 (a real improvement) with `edit` made to it once opened, run, verified and merged by the App. */
async function merged(edit: (pull: { title: string; body?: string | null }) => void): Promise<World> {
  const w = new World();
  await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
  edit(w.gh.pulls.get(7)!);
  await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
  await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
  expect(w.gh.merges).toHaveLength(1);
  return w;
}

describe('a PR author', () => {
  // Before: the App validated a PR's files once, as GitHub listed them against the PR's base when
  // the push came in, and merged whatever the head was at merge time under the `sha` guard. A PR
  // opened against another branch of the repository (here `dev`, which carries a change to the
  // harness nobody reviewed) lists only train.ts; its author then edits the PR's base to the
  // default branch (pull_request.edited, which the App does not handle): the run and the verify
  // run use only train.ts and score honestly, the merge-time base check passes, and the squash
  // merge brought the harness change into the default branch. Now the merge compares the exact
  // commits it merges (default-branch head...PR head, what a squash merge applies) and merges
  // only a change to the editable paths.
  it('cannot get a harness change merged by validating against another base and retargeting the PR to the default branch', async () => {
    const w = new World();
    const dev = w.gh.commit({ 'trainer/bpb.ts': EVIL_HARNESS }, w.main, 'work in progress on the scorer');
    w.gh.refs.set('heads/dev', dev);
    // the head is dev plus a train.ts change: against `dev`, GitHub lists train.ts alone
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD }, 'opened', { parent: dev, listed: [{ filename: 'trainer/train.ts', status: 'modified' }] });
    expect(w.gh.dispatches).toHaveLength(1);
    // ... and the base is edited to main (GET /pulls/7 says main from here on)
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
    expect(w.gh.merges).toEqual([]);
    expect(w.entries('experiment_merged')).toEqual([]);
    expect(w.gh.refs.get('heads/main')).toBe(w.main);
    expect(w.entries('experiment_discarded').map((e) => e.data)).toEqual([expect.objectContaining({ pr: 7, sha: head, reason: expect.stringContaining('`trainer/bpb.ts`') })]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.stickyOf(7)[0]).toMatch(/trainer\/bpb\.ts/);
  });

  // The same merge check when GitHub's file list was simply wrong or stale at the push (GitHub
  // computes a PR's diff after the push; the App read it as the synchronize came in): what is
  // merged is what the commits say, not what a listing said once.
  it('cannot get a second file merged through a file list that named only train.ts', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD, '.gitattributes': 'trainer/*.ts filter=evil\n' }, 'opened', { listed: [{ filename: 'trainer/train.ts', status: 'modified' }] });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
    expect(w.gh.merges).toEqual([]);
    expect(w.entries('experiment_discarded')[0].data.reason).toContain('`.gitattributes`');
  });

  // The tick's merge of a pending intent (an intent recorded before this check existed, its merge
  // request failed with a 5xx) compares the commits too, and discards the commit instead of merging.
  it('cannot get a pending merge intent merged by the tick with more than train.ts in it', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD, 'trainer/bpb.ts': EVIL_HARNESS }, 'opened', { listed: [{ filename: 'trainer/train.ts', status: 'modified' }] });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    // as an App without the merge-time comparison: the compare answered train.ts alone, once
    const handle = w.gh.handle.bind(w.gh);
    let older = true;
    w.gh.handle = (req: Parameters<typeof handle>[0]) => {
      const res = handle(req);
      if (older && req.method.toUpperCase() === 'GET' && req.url.includes(`/compare/${w.main}...${head}`)) {
        older = false;
        (res.body as any).files = (res.body as any).files.filter((f: any) => f.filename === 'trainer/train.ts');
      }
      return res;
    };
    w.gh.faults.push({ method: 'PUT', path: /\/pulls\/7\/merge$/, status: 502 });
    await expect(w.complete(w.gh.dispatches[1], 'runner-b', 1.905)).rejects.toThrow();
    expect(w.entries('merge_intended')).toHaveLength(1);
    w.gh.faults = [];
    w.clock = new Date(w.clock.getTime() + 3 * 60_000);
    await w.tick();
    await w.tick();
    expect(w.gh.merges).toEqual([]);
    expect(w.entries('merge_abandoned').map((e) => e.data.reason)).toEqual([expect.stringContaining('`trainer/bpb.ts`')]);
    expect(w.entries('experiment_discarded').map((e) => e.data.sha)).toEqual([head]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.dispatches).toHaveLength(2);
  });

  // Before: GitHub's contents API follows a symlink whose target is a file of the repository and
  // answers with that file (docs: "Get repository content", "If the content is a symlink"), so a
  // PR that replaced train.ts by a symlink to the harness's trainer/bpb.ts was validated as
  // bpb.ts's text and dispatched (the Action refuses a non-regular file, so the run only failed).
  // Now a file whose answer names another path than the one asked for is no regular file: rejected.
  it('cannot get a symlink committed as trainer/train.ts validated as the file it points to', async () => {
    const w = new World();
    const { head, deliver } = w.prepare(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const target = 'export const bits = 8;\n';
    serveContent(w, head, 'trainer/train.ts', contentObject('trainer/bpb.ts', 'file', { size: target.length, encoding: 'base64', content: Buffer.from(target).toString('base64') }));
    await deliver();
    expect(w.gh.dispatches).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:invalid']);
    expect(w.gh.stickyOf(7)[0]).toMatch(/not a regular file/);
    expect(w.entries('experiment_rejected').map((e) => e.data.sha)).toEqual([head]);
  });

  // Before: a symlink to something that is not a file of the repository, or a submodule, at
  // trainer/train.ts made fileAt throw: the pull_request delivery failed, the PR was never
  // labelled, and every tick's reconcile pass handled it again and failed again (the tick's
  // delivery reported as failed for good). Now it is rejected like any other invalid PR.
  it.each([
    ['a symlink out of the repository', contentObject('trainer/train.ts', 'symlink', { target: '../../../etc/passwd', size: 19 })],
    ['a submodule', contentObject('trainer/train.ts', 'submodule', { submodule_git_url: 'https://github.com/mallory/evil.git', git_url: `https://api.github.com/repos/mallory/evil/git/trees/${'c'.repeat(40)}` })],
  ])('cannot break the App\'s handling of the PR and of every later tick with %s at trainer/train.ts', async (_what, body) => {
    const w = new World();
    const { head, deliver } = w.prepare(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    serveContent(w, head, 'trainer/train.ts', body);
    await deliver();
    expect(w.gh.dispatches).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:invalid']);
    expect(w.gh.stickyOf(7)[0]).toMatch(/not a regular file/);
    await w.tick();
    await w.tick();
    expect(w.entries('experiment_rejected').map((e) => e.data.sha)).toEqual([head]);
  });

  // Before: the App's squash merge took the PR's title as the commit title on the default branch,
  // and GitHub closes the issues a commit on the default branch names with a closing keyword
  // ("fixes #3"): an author closed any issue (a long-run request, a bug report) by titling an
  // experiment so. The title is kept, with `#` and `@` made inert (no issue reference, no mention).
  it('cannot close issues or mention users through the merge commit the App writes', async () => {
    const w = await merged((p) => (p.title = 'Faster warmup, fixes #3 and closes octo-org/other#4, thanks @octocat\n\nResolves #5, closes https://github.com/octo-org/other/issues/6'));
    const title = w.gh.merges[0].title;
    expect(title.endsWith(' (#7)')).toBe(true);
    expect(title.slice(0, -' (#7)'.length)).not.toMatch(/#\s*\d|@\w|\n|:\/\//);
    expect(title).toContain('Faster warmup');
    expect(w.gh.merges[0].message).not.toMatch(/(close[sd]?|fix(e[sd])?|resolve[sd]?)\s*:?\s*[\w./-]*#\d/i);
  });

  // Before: GitHub closes every issue a merged PR's description names after a closing keyword;
  // the App merged the description as its author wrote it, so an experiment closed any issue of the
  // repository (or another one's it may write). Now the App makes those references inert first.
  it('cannot close issues through the description of the PR the App merges', async () => {
    const w = await merged((p) => (p.body = 'Warmup 2x longer.\n\nFixes #3, closes octo-org/other#4 and\nresolves: https://github.com/octo-org/other/issues/6 (see #8)'));
    const body = w.gh.pulls.get(7)!.body!;
    expect(body).not.toMatch(/\b(close[sd]?|fix(e[sd])?|resolve[sd]?)\s*:?\s+([\w.-]+\/[\w.-]+)?(#\d|https?:\/\/)/i);
    expect(body).toContain('Warmup 2x longer.');
    expect(body).toContain('(see #8)');
  });

  // Before: a commit is paid for once until its verdict, and a job closed because its PR was closed
  // is no verdict, so closing and reopening ran the commit again from a fresh first run, at the
  // swarm's cost, as often as its author liked. A run's log is public while it runs: an author
  // watching the loss (or the score, printed before the artifact is uploaded) closed the PR when
  // the run went badly and reopened it for a fresh seed, re-rolling the first run (the claim the
  // verify runs are averaged with) for free; and closing while a claim was being verified closed
  // the verify job (its runner credited nothing) and started over. Now a close that comes after a
  // run could have trained (PROMPT_START_MS after the dispatch), or while a verify job is open,
  // uses the payment up like a verdict: the reopened commit is a new experiment, paid again.
  it('cannot re-roll the first run for free by closing the PR while it trains and reopening it', async () => {
    const w = new World({ config: 'max_in_flight: 2\nclose_on_discard: false\nfree_runs_per_day: 1\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.start(w.gh.dispatches[0], 'runner-a');
    w.clock = new Date(w.clock.getTime() + 4 * 60_000); // training; the loss so far is in the run's log
    await w.close(7);
    await w.reopen(7);
    expect(w.entries('job_dispatched').filter((j) => j.data.pr === 7 && j.data.sha === head)).toHaveLength(1);
    expect(w.entries('credit_spent')).toHaveLength(1);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:queued']);
    expect(w.gh.stickyOf(7)[0]).toMatch(/no free-tier run left today/);
  });

  it('cannot start a claim over for free by closing the PR while it is verified and reopening it', async () => {
    const w = new World({ config: 'max_in_flight: 2\nclose_on_discard: false\nfree_runs_per_day: 1\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    expect(w.gh.dispatches.map((d) => d.inputs.role)).toEqual(['candidate', 'verify']);
    await w.close(7);
    await w.reopen(7);
    expect(w.entries('job_dispatched').filter((j) => j.data.pr === 7 && j.data.sha === head)).toHaveLength(2);
    expect(w.entries('credit_spent')).toHaveLength(1);
    expect(w.gh.stickyOf(7)[0]).toMatch(/no free-tier run left today/);
  });

  // Before: a push or a close closed the commit's job in the ledger (its late result is ignored)
  // but left its run alone: the volunteer whose runner had taken it trained it to the end, for no
  // credit. An author who pushes often (or closes and reopens) kept volunteers' GPUs busy for
  // nothing. Now the App cancels the runs in progress of the jobs it closes.
  it('cannot keep a volunteer training a superseded commit or a closed PR for nothing', async () => {
    const w = new World({ config: 'max_in_flight: 2\nclose_on_discard: false\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.push(8, 'octo-bot', { 'trainer/train.ts': GOOD });
    const [first, other] = w.gh.dispatches;
    await w.start(first, 'runner-a');
    await w.start(other, 'runner-b');
    // the same dispatch landed twice (a retried request whose answer was lost): the twin waits in the job's concurrency group
    w.gh.handle({ method: 'POST', url: `https://api.github.com/repos/${OWNER}/${REPO}/actions/workflows/experiment.yml/dispatches`, body: JSON.stringify({ ref: first.ref, inputs: first.inputs }) });
    const twin = w.gh.dispatches.pop()!;
    expect(w.gh.workflowRuns.get(twin.run_id!)?.status).toBe('pending');
    w.clock = new Date(w.clock.getTime() + 60_000);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': `${GOOD}// again\n` }, 'synchronize');
    expect(w.gh.workflowRuns.get(first.run_id!)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    // cancelled first: GitHub would start it the moment its twin ended
    expect(w.gh.workflowRuns.get(twin.run_id!)).toMatchObject({ status: 'completed', conclusion: 'cancelled', started_at: null });
    const second = w.gh.dispatches[2];
    expect(second.inputs.pr).toBe('7');
    await w.start(second, 'runner-a');
    w.clock = new Date(w.clock.getTime() + 60_000);
    await w.close(7);
    expect(w.gh.workflowRuns.get(second.run_id!)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    // another PR's run in progress is left alone
    expect(w.gh.workflowRuns.get(other.run_id!)?.status).toBe('in_progress');
  });

  // Before: the App found its sticky comment by the hidden marker alone, whoever wrote it. Anyone
  // who may comment on a PR (on a public repository: anyone) posted a comment starting with
  // `<!-- autoresearch:sticky -->` on a victim's PR before the App's own; the next report that looked
  // the comment up (a push, the reconcile pass, the queue) edited that comment instead: the App's
  // verdicts shown under the commenter's name, in a comment the commenter can edit back to say
  // anything, or delete, after which every report of the PR failed (its id travels in the job id)
  // and so did the tick's repair of it. Now only a comment by a bot account is the App's sticky.
  it('cannot take over the App\'s sticky comment on another author\'s PR with the hidden marker', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const bait = 999_001;
    const mine = `${'<!-- autoresearch:sticky -->'}\nnice experiment`;
    w.gh.comments.set(bait, { id: bait, issue: 7, body: mine });
    const handle = w.gh.handle.bind(w.gh);
    w.gh.handle = (req: Parameters<typeof handle>[0]) => {
      const res = handle(req);
      if (req.method.toUpperCase() === 'GET' && /\/issues\/7\/comments/.test(req.url) && Array.isArray(res.body)) {
        for (const c of res.body as any[]) if (c.id === bait) c.user = { ...c.user, login: 'mallory', id: 4242, node_id: 'U_mallory', type: 'User', html_url: 'https://github.com/mallory', url: 'https://api.github.com/users/mallory' };
      }
      return res;
    };
    // the author pushes again: dispatched at once, the sticky says so (looked up: the PR is not new)
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 7e-4;\n' }, 'synchronize');
    expect(w.gh.comments.get(bait)?.body).toBe(mine);
    // mallory deletes her comment; the App's reports of the PR go on
    w.gh.comments.delete(bait);
    const d = w.gh.dispatches.find((x) => x.inputs.sha === head)!;
    await w.complete(d, 'runner-a', 2.05);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.stickyOf(7)).toEqual([expect.stringContaining('Discarded')]);
    await w.tick();
    expect(w.gh.stickyOf(7)).toHaveLength(1);
  });

  // The App's own sticky deleted (by a maintainer) while its id travels in a job's id: the next
  // report writes a new one, and the ones after it edit that one (no comment per report).
  it('keeps one sticky comment when its own was deleted', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    const [id] = [...w.gh.comments.values()].filter((c) => c.issue === 7).map((c) => c.id);
    w.gh.comments.delete(id);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
    expect(w.gh.merges.map((m) => m.sha)).toEqual([head]);
    expect(w.gh.stickyOf(7)).toEqual([expect.stringContaining('Merged')]);
  });

  // Before: the App named a PR's files in its comment and check run as `name` in backticks, and a
  // file name may hold backticks (git allows them): a name that closes the code span rendered as
  // markdown in the App's voice, with an @-mention and a link. (An earlier pass fixed the strings a
  // runner writes; a PR's own strings were left.) Now names are shown as inline code that cannot close.
  it('cannot write markdown or @-mentions into the App\'s comment and check run through a file name', async () => {
    const w = new World();
    const evil = 'x` @octocat, see [the proof](https://evil.example) `y';
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD, [evil]: 'hi\n' });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:invalid']);
    const said = [...w.gh.stickyOf(7), ...w.gh.checksOf(head).map((c) => `${c.title}\n${c.summary}`)].join('\n');
    expect(said).toContain('octocat');
    const rendered = said.replace(/`[^`\n]*`/g, '');
    expect(rendered).not.toMatch(/@octocat/);
    expect(rendered).not.toMatch(/evil\.example/);
  });

  // Safe: labels, comments, check-run and check-suite re-requests, and edits are events the App
  // does not act on (app/index.ts registers only pull_request opened / synchronize / reopened /
  // closed, workflow_run completed, workflow_job in_progress, issues opened / labeled, and the
  // installation events). Its decisions come from the ledger, never from a label: an
  // `experiment:*` label someone else set is put back by the tick's reconcile pass. A "Re-run"
  // of the App's val_bpb check run (check_run.rerequested, sent to the App that made it) runs nothing.
  it('gets no run, merge or credit from labels, comments, re-requested checks or edits', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    const before = w.ledger().length;
    const check = w.gh.checksOf(head)[0];
    const deliver = async (name: string, action: string, edit: (p: any) => void) => {
      const payload = example(name, action) ?? example(name, 'opened');
      payload.action = action;
      edit(payload);
      payload.repository = { ...payload.repository, ...repository() };
      payload.installation = { id: 1 };
      payload.sender = { ...payload.sender, login: 'octo-agent', type: 'User' };
      await w.probot.receive({ id: `${name}-${action}`, name, payload } as any);
    };
    await deliver('check_run', 'rerequested', (p) => Object.assign(p.check_run, { id: check.id, name: 'val_bpb', head_sha: head, pull_requests: [] }));
    await deliver('check_suite', 'rerequested', (p) => Object.assign(p.check_suite, { head_sha: head, pull_requests: [] }));
    await deliver('issue_comment', 'created', (p) => {
      Object.assign(p.issue, { number: 7, pull_request: { url: '' } });
      p.comment.body = '/retry @autoresearch-swarm experiment:merged';
    });
    w.gh.pulls.get(7)!.labels = ['experiment:merged'];
    await deliver('pull_request', 'labeled', (p) => {
      Object.assign(p.pull_request, { number: 7, state: 'open', labels: [{ name: 'experiment:merged' }] });
      p.pull_request.head.sha = head;
      p.label = { ...p.label, name: 'experiment:merged' };
    });
    await deliver('pull_request', 'edited', (p) => {
      Object.assign(p.pull_request, { number: 7, state: 'open', labels: [] });
      p.pull_request.head.sha = head;
      p.changes = { base: { ref: { from: 'dev' }, sha: { from: 'a'.repeat(40) } } };
    });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.gh.merges).toEqual([]);
    expect(w.ledger()).toHaveLength(before);
    // the tick puts the label the ledger says back
    await w.tick();
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.dispatches).toHaveLength(1);
  });
});

describe('a workflow run the App did not dispatch', () => {
  // Safe: a completed run of experiment.yml counts only as a workflow_dispatch on the default
  // branch of this repository; one whose head repository is another (a fork's copy of the
  // workflow on its own `main`, whatever its title says) is ignored, before any read.
  it('from a fork, dispatched on its own main and titled with a real job\'s nonce, is ignored', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches[0];
    const before = w.ledger().length;
    const payload = example('workflow_run', 'completed');
    Object.assign(payload.workflow_run, {
      id: 9001,
      path: '.github/workflows/experiment.yml',
      event: 'workflow_dispatch',
      head_branch: 'main',
      display_title: `candidate #7 @ ${d.inputs.sha} [${d.inputs.nonce}]`,
      head_repository: { ...payload.workflow_run.head_repository, id: 2, name: REPO, full_name: `mallory/${REPO}` },
      head_sha: w.main,
      html_url: `https://github.com/mallory/${REPO}/actions/runs/9001`,
    });
    payload.repository = { ...payload.repository, ...repository() };
    payload.installation = { id: 1 };
    await w.probot.receive({ id: 'fork-run', name: 'workflow_run', payload } as any);
    expect(w.ledger()).toHaveLength(before);
    expect(w.gh.dispatches).toHaveLength(1);
  });
});

describe('a tag named like the default branch', () => {
  // Before: the App dispatched with the short ref `main`. A writer who pushes a tag `main` makes
  // it ambiguous, and GitHub may run either ref's workflow file (the fake takes the tag, the worse
  // case): the tag's copy of experiment.yml could run on any machine and upload a result titled
  // with the job's nonce, its run reading head_branch `main` like the real one. Now every
  // dispatch names the branch in full, `refs/heads/main`.
  it('does not decide which workflow file and code a dispatch runs', async () => {
    const w = new World();
    const tagged = w.gh.commit({ '.github/workflows/experiment.yml': 'name: experiment\non:\n  workflow_dispatch:\njobs:\n  forge:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo forged\n' }, w.main, 'a tag named main');
    w.gh.refs.set('tags/main', tagged);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches.at(-1)!;
    expect(d.ref).toBe('refs/heads/main');
    expect(d.commit).toBe(w.main);
  });
});
