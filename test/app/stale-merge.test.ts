// The merged code is the code that was scored. Runners train the PR head's train.ts; a squash merge
// applies the PR's changes since its merge base to the default branch. When the default branch
// changed train.ts since the PR branched (another merge), git combines the two where the hunks do
// not touch, and the App merged a train.ts no run had scored: PR 8 below was scored on its own
// LR change over the old WARMUP and merged as both. Attack first: against the App before this
// change the merge went through and main's train.ts differed from the one scored. GitHub's side
// is faked as it behaves: the squash merge is git's three-way merge of the file (git merge-file),
// 405 "Pull Request is not mergeable" on a conflict; compare head...base lists the files base
// changed since the merge base.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, World, CLASS } from './world.js';
import { OWNER, REPO } from './fake-github.js';

auditEachWorld();

const T0 = 'export const LR = 3e-4;\nexport const WD = 0.1;\n// one\n// two\n// three\nexport const WARMUP = 100;\n';
const withWarmup = T0.replace('WARMUP = 100', 'WARMUP = 200');
const withLr = T0.replace('LR = 3e-4', 'LR = 6e-4');
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString();

/** A world whose default branch moved from `m0` (T0) to `m1` (WARMUP 200) before PR 8, branched from m0, runs; a baseline of m1 is recorded. */
function movedWorld(): { w: World; m0: string; m1: string } {
  const w = new World();
  const m0 = w.gh.commit({ 'trainer/train.ts': T0 }, w.main, 'a longer train.ts');
  const m1 = w.gh.commit({ 'trainer/train.ts': withWarmup }, m0, 'Experiment 5 (#5)');
  w.gh.refs.set('heads/main', m1);
  w.main = m1;
  w.seedLedger([
    { type: 'runner_registered', data: { runner_name: 'runner-a', owner: 'alice', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-alice'], owner_created_at: '2015-01-01T00:00:00Z' } },
    { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'bob', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-bob'], owner_created_at: '2015-01-01T00:00:00Z' } },
    { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: m1, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } },
  ]);
  return { w, m0, m1 };
}

describe('a PR branched before the default branch changed train.ts', () => {
  it('is verified but not merged: the merge would be a train.ts no run scored; the author is asked to update the branch', async () => {
    const { w, m0, m1 } = movedWorld();
    w.main = m0; // PR 8 branches from m0
    const head = await w.push(8, 'octo-agent', { 'trainer/train.ts': withLr });
    w.main = m1;
    expect(text(w.gh.fileAt(head, 'trainer/train.ts'))).toBe(withLr);
    const claim = w.gh.dispatches[0];
    expect(claim.inputs).toMatchObject({ role: 'candidate', sha: head });
    await w.complete(claim, 'runner-a', 1.9);
    const verify = w.gh.dispatches[1];
    await w.complete(verify, 'runner-b', 1.905);
    // before: merged, and main's train.ts was LR 6e-4 *and* WARMUP 200, which no run trained
    expect(w.gh.merges).toEqual([]);
    expect(text(w.gh.fileAt(w.gh.refs.get('heads/main')!, 'trainer/train.ts'))).toBe(withWarmup);
    expect(w.gh.labelsOf(8)).toEqual(['experiment:conflict']);
    expect(w.gh.stickyOf(8)[0]).toContain('`trainer/train.ts` changed on main since PR #8 branched from it, so a merge would not be the code that was scored. Update the branch from `main` and push');
    expect(w.entries('merge_abandoned')[0].data).toMatchObject({ pr: 8, sha: head, reason: expect.stringMatching(/code no run scored/) });
    expect(w.entries('experiment_merged')).toEqual([]);
  });

  it('updated from the default branch, it is scored again and merged as scored', async () => {
    const { w, m1 } = movedWorld();
    const head = await w.push(8, 'octo-agent', { 'trainer/train.ts': withLr.replace('WARMUP = 100', 'WARMUP = 200') });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
    expect(w.gh.merges).toHaveLength(1);
    const merged = w.gh.refs.get('heads/main')!;
    expect(w.gh.commits.get(merged)!.parents[0]).toBe(m1);
    expect(text(w.gh.fileAt(merged, 'trainer/train.ts'))).toBe(text(w.gh.fileAt(head, 'trainer/train.ts')));
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
