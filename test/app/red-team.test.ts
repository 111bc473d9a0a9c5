// Red-team attacks on the App (session: PR authors, runner owners, and both together), each
// written as a scenario against the real App with GitHub faked. Each test here succeeded against
// the App before its fix (see the comment on each), unless it says otherwise.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, World } from './world.js';
import { OWNER, REPO } from './fake-github.js';
import { appendEntries, GitHubLedgerStore } from '../../ledger/index.js';
import { pendingMerges } from '../../app/merge.js';
import type { Octo } from '../../app/github/octokit.js';
import { viewOf } from '../../app/ledger-view.js';
import { schedule } from '../../app/scheduler.js';
import { clocked, configOf, type Session } from '../../app/session.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const OTHER = 'export const LR = 1e-3;\n';

auditEachWorld();

/** A session of the App on the World's repository, as a handler gets one (for a handler's step run by hand). */
async function sessionOf(w: World): Promise<Session> {
  const octokit = (await w.probot.auth(1)) as unknown as Octo;
  const repo = { owner: OWNER, repo: REPO };
  const now = () => w.clock;
  const ledger = clocked(new GitHubLedgerStore(octokit, { ...repo, branch: 'ledger', retryDelayMs: 1 }), now);
  return { octokit, repo, fullName: `${OWNER}/${REPO}`, defaultBranch: 'main', cfg: await configOf(octokit, repo, 'main'), ledger, log: w.probot.log as unknown as Session['log'], now, seal: null, botLogin: async () => null };
}

/** Rewrites GitHub's answers to GET /pulls/{pr} (a field the fake does not model, e.g. the base branch). */
function editPull(w: World, pr: number, edit: (body: any) => void): void {
  const handle = w.gh.handle.bind(w.gh);
  w.gh.handle = (req: Parameters<typeof handle>[0]) => {
    const res = handle(req);
    if (req.method === 'GET' && new RegExp(`/repos/${OWNER}/${REPO}/pulls/${pr}(\\?|$)`).test(req.url) && res.status === 200 && res.body && typeof res.body === 'object') edit(res.body);
    return res;
  };
}

describe('a PR author', () => {
  // Before: a commit is paid for once, so a discarded commit whose PR was closed and reopened ran
  // again at the swarm's cost, as often as its author liked: free runs, and a fresh draw at the
  // merge rule each time. Now a verdict uses the payment up: a reopened, judged commit is a new
  // experiment and is paid again (here: no credits and no free-tier run left, so it waits).
  it('cannot get a discarded commit run again for free by closing and reopening the PR', async () => {
    const w = new World({ config: 'max_in_flight: 2\nclose_on_discard: false\nfree_runs_per_day: 1\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    for (let k = 0; k < 3; k++) {
      await w.close(7);
      await w.reopen(7);
    }
    await w.tick();
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.entries('job_dispatched').filter((j) => j.data.pr === 7 && j.data.sha === head)).toHaveLength(1);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:queued']);
    expect(w.gh.stickyOf(7)[0]).toMatch(/no free-tier run left today/);
  });

  it('gets a discarded commit run again on reopening only by paying for it again', async () => {
    const w = new World({ config: 'max_in_flight: 2\nclose_on_discard: false\nfree_runs_per_day: 2\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    await w.close(7);
    await w.reopen(7);
    expect(w.gh.dispatches.map((d) => d.inputs.sha)).toEqual([head, head]);
    expect(w.entries('credit_spent').map((e) => [e.data.login, e.data.reason])).toEqual([['octo-agent', 'free_tier'], ['octo-agent', 'free_tier']]);
  });

  // A commit run again after its discard (reopened and paid again, or re-tried once a ban voided
  // the runs it rested on: app/retrials.ts) that then merged was merged on GitHub but never in the
  // ledger: the merge's record was skipped for a commit already decided, the earlier discard
  // counting. The fault run found it (seed 1, 30 PRs, the App's draws shifted: a lost merge).
  // Attack first: before, GitHub merged PR 7 and the ledger said nothing.
  it('records the merge of a discarded commit run again', async () => {
    const w = new World({ config: 'max_in_flight: 2\nclose_on_discard: false\nfree_runs_per_day: 2\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    await w.close(7);
    await w.reopen(7);
    await w.complete(w.gh.dispatches[1], 'runner-a', 1.9);
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify')!;
    await w.complete(verify, verify.inputs.runner_label === 'owner-bob' ? 'runner-b' : 'runner-c', 1.905);
    expect(w.gh.merges.map((m) => m.pr)).toEqual([7]);
    expect(w.entries('experiment_merged').map((e) => [e.data.pr, e.data.sha])).toEqual([[7, head]]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:merged']);
  });

  // With that record resting on the pending intent, an intent a second process records after the
  // merge (its view older: it judged the claim merged already) must not be pending, or the reconcile
  // pass would find the PR merged on GitHub and record the merge a second time.
  it('leaves no intent pending for a commit merged already', () => {
    const intent = { pr: 7, sha: 'a'.repeat(40), base_sha: 'b'.repeat(40), hardware_class: 'gpu-test', val_bpb: 1.9, baseline_mean: 2, job_ids: ['j1', 'j2'] };
    const merged = { pr: 7, sha: intent.sha, merge_sha: 'c'.repeat(40), hardware_class: 'gpu-test', val_bpb: 1.9, baseline_mean: 2, job_ids: ['j1', 'j2'] };
    const chain = appendEntries([], [{ type: 'merge_intended', data: intent }, { type: 'experiment_merged', data: merged }, { type: 'merge_intended', data: { ...intent, job_ids: ['j1', 'j3'] } }]);
    expect(pendingMerges(chain)).toEqual([]);
    expect(pendingMerges(chain.slice(0, 1)).map((p) => p.pr)).toEqual([7]);
  });

  it('still gets a commit closed before it was judged run when the PR is reopened (paid once)', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.close(7);
    await w.reopen(7);
    expect(w.gh.dispatches.map((d) => [d.inputs.pr, d.inputs.sha])).toEqual([['7', head], ['7', head]]);
    expect(w.entries('credit_spent')).toHaveLength(1);
  });

  // Before: the App never looked at the PR's base. A PR into another branch of the repository
  // (a release or an old feature branch) was scored against the default branch's baseline,
  // verified, and merged by the App into that other branch, recorded as `experiment_merged`: a
  // merge into the default branch that never happened, and baselines of a commit not on it.
  it('cannot get a PR into a branch other than the default branch merged', async () => {
    const w = new World();
    editPull(w, 7, (p) => (p.base = { ...p.base, ref: 'old-release', label: `${OWNER}:old-release` }));
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
    expect(w.gh.merges).toEqual([]);
    expect(w.entries('merge_intended')).toEqual([]);
    expect(w.entries('experiment_merged')).toEqual([]);
    expect(w.entries('experiment_discarded').map((e) => e.data)).toEqual([expect.objectContaining({ pr: 7, sha: head, reason: 'PR #7 targets `old-release`, not the default branch `main`; only a PR into `main` is merged' })]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.checksOf(head)[0].summary).toMatch(/targets `old-release`, not the default branch `main`/);
    expect(w.gh.stickyOf(7)[0]).toMatch(/targets `old-release`, not the default branch `main`/);
  });

  // Before: the payment was decided on the view read when the event came in and appended as it
  // was, so an author with one free run left who opened two PRs at once (two webhooks handled
  // concurrently, by one process or two) was charged the free tier twice: two free runs for one.
  it('cannot spend one free-tier run twice by opening two PRs at once', async () => {
    const w = new World({ config: 'max_in_flight: 4\nclose_on_discard: false\nfree_runs_per_day: 1\n' });
    const other = w.makeProbot();
    const a = w.prepare(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const b = w.prepare(8, 'octo-agent', { 'trainer/train.ts': OTHER });
    await Promise.all([a.deliver(w.probot), b.deliver(other)]);
    const spent = w.entries('credit_spent').filter((e) => e.data.login === 'octo-agent');
    expect(spent).toHaveLength(1);
    expect(w.gh.dispatches).toHaveLength(1);
    // the other PR waits for credits, saying so
    const waiting = [7, 8].find((n) => String(n) !== w.gh.dispatches[0].inputs.pr)!;
    expect(w.gh.labelsOf(waiting)).toEqual(['experiment:queued']);
    expect(w.gh.checksOf(w.gh.pulls.get(waiting)!.head).at(-1)).toMatchObject({ status: 'queued' });
    expect(w.gh.stickyOf(waiting)[0]).toMatch(/no free-tier run left today/);
  });

  // The same race through the queue: the drain decided the payment of a queued commit on the view
  // it read, and appended it on a chain where another process had charged the author's free run to
  // a new PR meanwhile (its check on the chain looked only at the queue).
  it('cannot spend one free-tier run twice through the queue and a new PR at once', async () => {
    const w = new World({ config: 'max_in_flight: 4\nclose_on_discard: false\nfree_runs_per_day: 1\n' });
    await w.push(6, 'octo-agent', { 'trainer/train.ts': GOOD }); // today's free run
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER }); // none left: queued
    expect(w.gh.labelsOf(7)).toEqual(['experiment:queued']);
    w.clock = new Date(w.clock.getTime() + 86_400_000); // a day later: one free run again
    const day = w.clock.getTime();
    // one process reads the ledger to drain the queue; another charges the free run to a new PR; then the drain goes on
    const s = await sessionOf(w);
    const read = viewOf(await s.ledger.read());
    await w.push(8, 'octo-agent', { 'trainer/train.ts': 'export const LR = 2e-3;\n' }, 'opened', { processes: [w.makeProbot()] });
    await schedule(s, read);
    const spent = w.entries('credit_spent').filter((e) => e.data.login === 'octo-agent' && Date.parse(e.time) >= day);
    expect(spent.map((e) => e.data.reason)).toEqual(['free_tier']);
    expect(w.entries('job_dispatched').filter((e) => e.data.pr === 7)).toEqual([]);
  });
});

describe('a runner owner', () => {
  // Before: strings the runner writes into result.json (its nonce, device, backend, failure
  // message, ...) went verbatim into the App's own sticky comment and check run: a runner could
  // make the App post a heading saying "Merged", a link, or @-mention anyone, in the App's voice.
  it('cannot write markdown or @-mentions into the App\'s comment and check run through result.json', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const evil = 'x1234567\n\n### Merged\nVerified by @octocat, see [the proof](https://evil.example) <img src=x>';
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { tamper: (r) => (r.job.nonce = evil) });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false });
    await w.complete(w.gh.dispatches[1], 'runner-b', null, { tamper: (r) => Object.assign(r, { device: evil, backend: evil, failure: { kind: 'nan', message: evil } }) });
    const said = [...w.gh.stickyOf(7), ...w.gh.checksOf(head).map((c) => `${c.title}\n${c.summary}`)].join('\n');
    // the values are still shown, as inline code on one line (where nothing renders)
    expect(said).toContain('`x1234567 ### Merged Verified by @octocat, see [the proof](https://evil.example) <img src=x>`');
    const rendered = said.replace(/`[^`\n]*`/g, '');
    expect(rendered).not.toMatch(/^#+ Merged/m);
    expect(rendered).not.toMatch(/@octocat/);
    expect(rendered).not.toMatch(/evil\.example/);
    expect(rendered).not.toMatch(/<img/);
  });
});

describe('the update of an outdated commit (app/outdated.ts)', () => {
  const T0 = 'export const LR = 3e-4;\nexport const WD = 0.1;\n// one\n// two\n// three\nexport const WARMUP = 100;\n';
  // Before: the new head after an update the App asked for kept the outdated commit's queue place
  // and payment (carriedPlace), whoever made it. An author whose paid commit was set aside as
  // outdated during verification pushed a commit of their own (any train.ts: a new experiment)
  // instead of waiting for GitHub's merge commit, and it ran at the swarm's cost, in the old
  // commit's place. Now only GitHub's update is carried: the synchronize whose sender is the App's
  // bot and whose `before` is the outdated commit.
  /** PR 8's paid commit, verified while another PR merged: set aside as outdated, GitHub asked to update its branch. */
  async function outdatedWhileVerified(): Promise<{ w: World; head: string; m1: string }> {
    const w = new World();
    const m0 = w.gh.commit({ 'trainer/train.ts': T0 }, w.main, 'a longer train.ts');
    const m1 = w.gh.commit({ 'trainer/train.ts': T0.replace('WARMUP = 100', 'WARMUP = 200') }, m0, 'Experiment 5 (#5)');
    w.gh.refs.set('heads/main', m0);
    w.main = m0;
    w.seedLedger([
      ...w.entries('runner_registered').map((e) => ({ type: e.type, data: e.data })),
      { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: m0, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } },
      { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: m1, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b6', 'b7', 'b8', 'b9', 'b10'] } },
    ] as Parameters<World['seedLedger']>[0]);
    const head = await w.push(8, 'octo-agent', { 'trainer/train.ts': T0.replace('LR = 3e-4', 'LR = 6e-4') });
    w.gh.refs.set('heads/main', m1);
    w.main = m1;
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9, { headSha: m0 });
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905, { headSha: m1 });
    expect(w.entries('experiment_outdated')[0].data).toMatchObject({ pr: 8, sha: head, update: 'requested' });
    return { w, head, m1 };
  }

  it('cannot get an own push in place of the App-requested update run at the swarm\'s cost', async () => {
    const { w } = await outdatedWhileVerified();
    // before GitHub's update is handled, the author pushes a different experiment on top of main
    const mine = await w.push(8, 'octo-agent', { 'trainer/train.ts': 'export const LR = 9e-4;\n// something else entirely\n' }, 'synchronize');
    const run = w.gh.dispatches.find((d) => d.inputs.sha === mine)!;
    expect(run).toBeDefined();
    // a new experiment is paid for by its author
    expect(w.entries('job_dispatched').find((j) => j.data.sha === mine)!.data.author).toBe('octo-agent');
  });

  // The same, with the author's own merge commit made to look like GitHub's: the outdated commit and
  // the default branch as its parents, pushed onto the outdated commit (before), other code in it.
  // Parents can be crafted; the sender of the push cannot.
  it('cannot pass its own merge commit off as GitHub\'s update of the branch', async () => {
    // the App asks GitHub to update the branch; before that synchronize arrives, the author pushes a merge of their own
    const { w, head, m1 } = await outdatedWhileVerified();
    const evil = w.gh.commit({ 'trainer/train.ts': 'export const LR = 9e-4;\n// something else entirely\n' }, m1, "Merge branch 'main' into pr-8");
    w.gh.commits.get(evil)!.parents = [head, m1];
    w.gh.pulls.get(8)!.head = evil;
    await w.synchronize(8, { sender: 'octo-agent', before: head });
    const job = w.entries('job_dispatched').find((j) => j.data.sha === evil);
    // dispatched (a slot is free) and charged to its author, not carried as the App's update
    expect(job?.data.author).toBe('octo-agent');
    expect(w.entries('experiment_queued').filter((e) => e.data.sha === evil && e.data.prepaid)).toEqual([]);
    // and GitHub's own update, by the App's bot, is carried: the outdated-commit tests (test/app/outdated.test.ts)
  });
});
