// The scored code is the code a merge writes. Runners train the PR head's train.ts; a squash merge
// applies the PR's changes since its merge base to the default branch. When the default branch
// changed train.ts since the PR branched (another merge), the two files differ: a run of the head
// scores code no merge would write. Session 14 refused such a merge after the runs (PR 8 below had
// merged as its LR change plus the WARMUP change no run trained); the runs were spent for nothing,
// and in the saturated simulator three quarters of all PRs ran outdated. Now the App checks before
// it runs a commit (and again before it merges): an outdated one is not run; the App asks GitHub to
// merge the default branch into the PR's branch ("Update branch", PUT /pulls/{n}/update-branch,
// guarded on the head), and the new head keeps the old one's queue place and payment. Where GitHub
// refuses (a conflict, a fork that does not allow maintainers' edits), the PR is labelled
// experiment:conflict and its author asked to update it. Attack first: against the App before this
// change PR 8 was dispatched on its outdated file (test 1), and the race case (test 2) ended in
// experiment:conflict with nothing updated. GitHub's side is faked as it behaves: the squash merge
// and the branch update are git's three-way merge of the file (git merge-file), 405 / 422 on a
// conflict; compare head...base lists the files base changed since the merge base.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, World, CLASS } from './world.js';
import { OWNER, REPO } from './fake-github.js';

auditEachWorld();

const T0 = 'export const LR = 3e-4;\nexport const WD = 0.1;\n// one\n// two\n// three\nexport const WARMUP = 100;\n';
const withWarmup = T0.replace('WARMUP = 100', 'WARMUP = 200');
const withLr = T0.replace('LR = 3e-4', 'LR = 6e-4');
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString();

/** A world whose default branch moved from `m0` (T0) to `m1` (WARMUP 200) before PR 8, branched from m0, runs; a baseline of m1 is recorded. */
function movedWorld(config?: string, m0Baseline = false): { w: World; m0: string; m1: string } {
  const w = new World(config === undefined ? {} : { config });
  const m0 = w.gh.commit({ 'trainer/train.ts': T0 }, w.main, 'a longer train.ts');
  const m1 = w.gh.commit({ 'trainer/train.ts': withWarmup }, m0, 'Experiment 5 (#5)');
  w.gh.refs.set('heads/main', m1);
  w.main = m1;
  w.seedLedger([
    { type: 'runner_registered', data: { runner_name: 'runner-a', owner: 'alice', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-alice'], owner_created_at: '2015-01-01T00:00:00Z' } },
    { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'bob', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-bob'], owner_created_at: '2015-01-01T00:00:00Z' } },
    { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: m1, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } },
    ...(m0Baseline ? [{ type: 'baseline_recorded' as const, data: { hardware_class: CLASS, sha: m0, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b6', 'b7', 'b8', 'b9', 'b10'] } }] : []),
  ]);
  return { w, m0, m1 };
}

describe('a PR branched before the default branch changed train.ts', () => {
  it('is not run on its outdated file: its branch is updated and the update is scored and merged as scored', async () => {
    const { w, m0, m1 } = movedWorld();
    w.main = m0; // PR 8 branches from m0
    const head = await w.push(8, 'octo-agent', { 'trainer/train.ts': withLr });
    w.main = m1;
    // before: dispatched at once on LR 6e-4 over WARMUP 100, a file no merge onto m1 writes
    expect(w.gh.dispatches).toEqual([]);
    expect(w.entries('experiment_outdated').map((e) => e.data)).toEqual([expect.objectContaining({ pr: 8, sha: head, default_sha: m1, path: 'trainer/train.ts', update: 'requested' })]);
    const updated = w.gh.pulls.get(8)!.head;
    expect(w.gh.commits.get(updated)!.parents).toEqual([head, m1]);
    const both = withWarmup.replace('LR = 3e-4', 'LR = 6e-4');
    expect(text(w.gh.fileAt(updated, 'trainer/train.ts'))).toBe(both);
    // the outdated commit's check run says why; the comment and label wait for the update's synchronize
    expect(w.gh.checksOf(head).map((c) => [c.conclusion, c.title])).toEqual([['neutral', 'Outdated: updating the branch']]);
    expect(w.gh.checksOf(head)[0].summary).toContain('The App asked GitHub to merge `main` into this branch');
    // GitHub sends synchronize for the update: that commit runs, paid by its author once
    await w.synchronize(8);
    const claim = w.gh.dispatches[0];
    expect(claim.inputs).toMatchObject({ role: 'candidate', sha: updated });
    expect(w.gh.stickyOf(8)[0]).toContain('so the App merged `main` into it ("Update branch")');
    await w.complete(claim, 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
    expect(w.gh.merges).toHaveLength(1);
    const merged = w.gh.refs.get('heads/main')!;
    expect(text(w.gh.fileAt(merged, 'trainer/train.ts'))).toBe(both);
    expect(w.entries('credit_spent').filter((e) => (e.data as { login: string }).login === 'octo-agent')).toHaveLength(1);
  });

  it('outdated by a merge while it was verified (the verify run saw the new head): that run judges nothing, the branch is updated, and the update runs at the swarm\'s cost', async () => {
    const { w, m0, m1 } = movedWorld(undefined, true);
    w.gh.refs.set('heads/main', m0);
    w.main = m0;
    const head = await w.push(8, 'octo-agent', { 'trainer/train.ts': withLr });
    const claim = w.gh.dispatches[0];
    expect(claim.inputs).toMatchObject({ role: 'candidate', sha: head });
    // another merge changes WARMUP while the claim is out; the verify run is created on the new head
    w.gh.refs.set('heads/main', m1);
    w.main = m1;
    await w.complete(claim, 'runner-a', 1.9, { headSha: m0 });
    const verify = w.gh.dispatches[1];
    expect(verify.inputs).toMatchObject({ role: 'verify', sha: head });
    await w.complete(verify, 'runner-b', 1.905, { headSha: m1 });
    // before: the verify run (PR 8's file against m1's baseline) was judged, the claim verified, and
    // the merge refused as experiment:conflict with the author asked to update the branch. Now the
    // run is recorded but judges nothing: the commit is outdated against the head it ran on.
    expect(w.gh.merges).toEqual([]);
    expect(w.entries('merge_intended')).toEqual([]);
    expect(w.entries('result_recorded').map((e) => (e.data as { job_id: string }).job_id)).toContain(verify.inputs.nonce);
    expect(w.entries('experiment_outdated')[0].data).toMatchObject({ pr: 8, sha: head, default_sha: m1, update: 'requested' });
    const updated = w.gh.pulls.get(8)!.head;
    expect(updated).not.toBe(head);
    await w.synchronize(8);
    expect(w.gh.labelsOf(8)).toEqual([]); // running: no experiment:* label (it said verifying)
    const again = w.gh.dispatches[2];
    expect(again.inputs).toMatchObject({ role: 'candidate', sha: updated });
    // its author paid for the first commit's run; the update runs at the swarm's cost
    expect(w.entries('credit_spent')).toHaveLength(1);
    expect(w.entries('job_dispatched').at(-1)!.data).toMatchObject({ sha: updated, author: null });
  });

  it('where GitHub cannot update the branch (a conflict), nothing runs, the author is asked, and the reconcile pass leaves it be', async () => {
    const { w, m0, m1 } = movedWorld();
    w.main = m0;
    const clash = T0.replace('WARMUP = 100', 'WARMUP = 50');
    const head = await w.push(8, 'octo-agent', { 'trainer/train.ts': clash });
    w.main = m1;
    expect(w.gh.dispatches).toEqual([]);
    expect(w.gh.pulls.get(8)!.head).toBe(head);
    expect(w.entries('experiment_outdated')[0].data).toMatchObject({ pr: 8, sha: head, update: 'refused' });
    expect(w.gh.labelsOf(8)).toEqual(['experiment:conflict']);
    expect(w.gh.stickyOf(8)[0]).toContain('GitHub did not update the branch (merge conflict between base and head)');
    expect(w.gh.stickyOf(8)[0]).toContain('Merge `main` into it (or rebase on it) and push');
    await w.tick();
    w.clock = new Date(w.clock.getTime() + 60 * 60_000);
    await w.tick();
    expect(w.gh.dispatches).toEqual([]);
    expect(w.entries('experiment_queued')).toEqual([]);
    // the author merges main and pushes: that commit runs
    const fixed = await w.push(8, 'octo-agent', { 'trainer/train.ts': withWarmup.replace('WARMUP = 200', 'WARMUP = 250') }, 'synchronize');
    expect(w.gh.dispatches[0].inputs).toMatchObject({ role: 'candidate', sha: fixed });
  });

  it('an update GitHub accepted but never made: 15 minutes on, the reconcile pass queues the commit again and asks again', async () => {
    const { w, m0, m1 } = movedWorld();
    w.main = m0;
    const gh = w.gh as unknown as { updateBranch: (p: unknown) => string | null };
    gh.updateBranch = () => 'accepted'; // 202, and then nothing (a lost update)
    const head = await w.push(8, 'octo-agent', { 'trainer/train.ts': withLr });
    w.main = m1;
    expect(w.entries('experiment_outdated').map((e) => (e.data as { update: string }).update)).toEqual(['requested']);
    w.clock = new Date(w.clock.getTime() + 10 * 60_000);
    await w.tick();
    expect(w.entries('experiment_queued')).toEqual([]);
    w.clock = new Date(w.clock.getTime() + 6 * 60_000);
    await w.tick();
    // queued again and, being outdated still, sent to be updated again (not run)
    expect(w.entries('experiment_queued').map((e) => e.data)).toEqual([expect.objectContaining({ pr: 8, sha: head })]);
    expect(w.entries('experiment_outdated').map((e) => (e.data as { update: string }).update)).toEqual(['requested', 'requested']);
    expect(w.gh.dispatches).toEqual([]);
  });

  it('closed while its branch is being updated, a PR gives back the runner slot it held', async () => {
    const { w, m0, m1 } = movedWorld('max_in_flight: 1\nclose_on_discard: false\n');
    w.main = m0;
    await w.push(8, 'octo-agent', { 'trainer/train.ts': withLr });
    w.main = m1;
    expect(w.entries('experiment_outdated')).toHaveLength(1);
    const nine = await w.push(9, 'other-agent', { 'trainer/train.ts': withWarmup.replace('// one', '// uno') });
    expect(w.gh.dispatches).toEqual([]); // PR 8's update holds the one slot
    await w.close(8);
    expect(w.gh.dispatches.map((d) => d.inputs.sha)).toEqual([nine]);
  });

  it('a fork that does not allow maintainers\' edits (403) is asked to update; a queued outdated PR keeps its place through the update', async () => {
    const { w, m0, m1 } = movedWorld('max_in_flight: 1\nclose_on_discard: false\n');
    const seven = await w.push(7, 'busy-agent', { 'trainer/train.ts': withWarmup.replace('// three', '// tres') });
    expect(w.gh.dispatches.map((d) => d.inputs.sha)).toEqual([seven]);
    w.main = m0;
    await w.push(9, 'forker', { 'trainer/train.ts': withLr });
    const eight = await w.push(8, 'octo-agent', { 'trainer/train.ts': withLr.replace('// one', '// uno') });
    w.main = m1;
    const ten = await w.push(10, 'late-agent', { 'trainer/train.ts': withWarmup.replace('// two', '// dos') });
    w.gh.pulls.get(9)!.updatable = false;
    expect(w.entries('experiment_queued').map((e) => (e.data as { pr: number }).pr)).toEqual([9, 8, 10]);
    // PR 7 is no better: its slot goes to the queue, oldest first
    w.clock = new Date(w.clock.getTime() + 60_000);
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05);
    const outdated = () => w.entries('experiment_outdated').map((e) => [(e.data as { pr: number }).pr, (e.data as { update: string }).update]);
    expect(outdated()).toEqual([[8, 'requested']]);
    // PR 8's update holds the slot its outdated commit was about to take: PR 10 waits
    expect(w.gh.dispatches.map((d) => d.inputs.sha)).toEqual([seven]);
    w.clock = new Date(w.clock.getTime() + 60_000);
    const eleven = await w.push(11, 'later-agent', { 'trainer/train.ts': withWarmup.replace('// one', '// eins') });
    expect(w.gh.dispatches).toHaveLength(1);
    // GitHub's synchronize for the update: it runs at once, in the slot it held
    w.clock = new Date(w.clock.getTime() + 60_000);
    await w.synchronize(8);
    const updated = w.gh.pulls.get(8)!.head;
    expect(updated).not.toBe(eight);
    expect(w.gh.dispatches.map((d) => d.inputs.sha)).toEqual([seven, updated]);
    // then the queue in its order: 9, outdated, whose fork GitHub may not update (its slot goes on), 10 before 11
    await w.complete(w.gh.dispatches[1], 'runner-b', 2.05);
    expect(outdated()).toEqual([[8, 'requested'], [9, 'refused']]);
    expect(w.gh.labelsOf(9)).toEqual(['experiment:conflict']);
    expect(w.gh.stickyOf(9)[0]).toContain('GitHub did not update the branch (Resource not accessible by integration)');
    expect(w.gh.dispatches.map((d) => d.inputs.sha)).toEqual([seven, updated, ten]);
    void eleven;
  });
});

describe("the fake's squash merge is git's", () => {
  it('combines hunks that do not touch, refuses a conflict, and compare lists what base changed since the merge base', () => {
    const { w, m0, m1 } = movedWorld();
    const lr = w.gh.commit({ 'trainer/train.ts': withLr }, m0, 'lr');
    const clash = w.gh.commit({ 'trainer/train.ts': T0.replace('WARMUP = 100', 'WARMUP = 50') }, m0, 'clash');
    expect(text(w.gh.threeWay(w.gh.mergeBase(m1, lr), m1, lr, 'trainer/train.ts') ?? undefined)).toBe(withWarmup.replace('LR = 3e-4', 'LR = 6e-4'));
    expect(w.gh.threeWay(w.gh.mergeBase(m1, clash), m1, clash, 'trainer/train.ts')).toBeNull();
    expect(w.gh.mergeBase(m1, lr)).toBe(m0);
    const res = w.gh.handle({ method: 'GET', url: `https://api.github.com/repos/${OWNER}/${REPO}/compare/${lr}...${m1}`, headers: {} });
    expect(res.status).toBe(200);
    const data = res.body as { status: string; ahead_by: number; behind_by: number; merge_base_commit: { sha: string }; files: { filename: string }[] };
    expect(data).toMatchObject({ status: 'diverged', ahead_by: 1, behind_by: 1, merge_base_commit: { sha: m0 } });
    expect(data.files.map((f) => f.filename)).toEqual(['trainer/train.ts']);
  });
});
