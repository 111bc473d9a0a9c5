// After a merge, the runs the merge rests on are the first samples of the new default branch's
// baseline on their class (docs/trust.md 2a): the App dispatches only the rest of `baseline_runs`,
// and the baseline the next PR is judged against includes them. The real App against the faked GitHub.
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { appendEntries, auditLedger, type EntryDataOf, type NewEntry } from '../../ledger/index.js';
import { baselineRunsOf, reusedSamples } from '../../app/baselines.js';
import { viewOf } from '../../app/ledger-view.js';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { sha256 } from '../../trainer/harness-version.js';
import { result as fixtureResult } from '../ledger/fixtures.js';
import { CLASS, reg, trustWorld, World } from './world.js';

/** A recorded, validated baseline result of `owner` at `sha` (the ledger's fixture result). */
function ledgerResult(job: string, owner: string, bpb: number, sha: string): EntryDataOf<'result_recorded'> {
  return { job_id: job, role: 'baseline', pr: null, sha, title: null, author: null, runner_name: `${owner}-rig`, runner_owner: owner, run_url: null, validated: true, reason: null, result: fixtureResult({ hardware_class: CLASS, train_seconds: 300, val_bpb: bpb, job_id: job }), diff_path: null, diff_sha256: null, log_excerpt: null };
}

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
type Dispatch = World['gh']['dispatches'][number];
const runnerFor = (w: World, d: Dispatch) => w.gh.runners.find((r) => r.labels.includes(d.inputs.runner_label))!.name;
const NAMES = ['runner-a', 'runner-b', 'runner-c', 'runner-d', 'runner-e'];

afterEach(() => {
  const audit = auditLedger(World.last!.ledger());
  expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

/** A world of five owners, quorum 2 (a merge rests on three owners' runs), the default baseline_runs (10). */
function world(extraConfig = ''): World {
  return trustWorld(`max_in_flight: 20\nverification:\n  quorum: 2\n  suspicious_jump: 10\n${extraConfig}`, [reg('runner-d', 'dave'), reg('runner-e', 'erin')]);
}

/**
 * PR 7 by `author`, its claim run on `claimRunner` and verified by the owners the App picks, until
 * it merges. A replay the App dispatches of a run (owners on probation: docs/trust.md 2b) is
 * completed honestly, with the score of the run whose seeds it was given.
 */
async function mergePr(w: World, author: string, claimRunner: string, scores = [1.9, 1.905, 1.902, 1.904]): Promise<{ runs: string[]; mergeSha: string }> {
  await w.push(7, author, { 'trainer/train.ts': GOOD });
  const runs: string[] = [];
  const bySeed = new Map<string, number>();
  const done = new Set<string>();
  const run = async (d: Dispatch, score: number) => {
    done.add(d.inputs.nonce);
    await w.complete(d, runnerFor(w, d), score);
  };
  const first = w.gh.dispatches[0];
  await run(first, scores[0]);
  bySeed.set(first.inputs.seed, scores[0]);
  runs.push(first.inputs.nonce);
  while (w.gh.merges.length === 0) {
    const d = w.gh.dispatches.find((x) => x.inputs.pr === '7' && !done.has(x.inputs.nonce));
    if (!d) throw new Error(`PR 7 did not merge and nothing is left to run: ${JSON.stringify(w.gh.dispatches.map((x) => x.inputs))}`);
    expect(d.inputs).toMatchObject({ role: 'verify', pr: '7' });
    if (d.inputs.replay) {
      await run(d, bySeed.get(d.inputs.seed)!);
      continue;
    }
    const score = scores[runs.length];
    if (score === undefined) throw new Error(`PR 7 asked for run ${runs.length + 1}, the test has ${scores.length} scores`);
    await run(d, score);
    bySeed.set(d.inputs.seed, score);
    runs.push(d.inputs.nonce);
  }
  return { runs, mergeSha: w.gh.merges[0].merge_sha };
}

/** Completes, honestly, every replay the App has dispatched and not yet seen run: the score `bySeed` gives the seeds it replays. */
async function replayAll(w: World, bySeed: Map<string, number>): Promise<void> {
  const done = new Set(w.entries('result_recorded').map((r) => r.data.job_id));
  for (;;) {
    const d = w.gh.dispatches.find((x) => x.inputs.replay && !done.has(x.inputs.nonce));
    if (!d) return;
    done.add(d.inputs.nonce);
    await w.complete(d, runnerFor(w, d), bySeed.get(d.inputs.seed)!);
  }
}

describe('the merged claim\'s runs as the new baseline\'s first samples', () => {
  it('after a merge on three owners\' runs, 7 baseline runs are dispatched, not 10, and the next PR is judged against a baseline of all ten', async () => {
    const w = world();
    const { runs, mergeSha } = await mergePr(w, 'octo-agent', 'runner-a');
    expect(runs).toHaveLength(3);
    const [merged] = w.entries('experiment_merged');
    expect(merged.data.baseline_job_ids).toEqual(runs);
    const baselines = w.gh.dispatches.filter((d) => d.inputs.role === 'baseline');
    expect(baselines).toHaveLength(7); // baseline_runs 10 less the claim's 3 runs
    expect(baselines.every((b) => b.inputs.sha === mergeSha && b.inputs.runner_label === CLASS)).toBe(true);

    const scores = [1.899, 1.903, 1.906, 1.901, 1.897, 1.904, 1.902];
    for (const [i, b] of baselines.entries()) await w.complete(b, NAMES[i % NAMES.length], scores[i]);
    await replayAll(w, new Map(baselines.map((b, i) => [b.inputs.seed, scores[i]]))); // owners on probation: their runs count once replayed
    const recorded = w.entries('baseline_recorded').filter((b) => b.data.sha === mergeSha);
    expect(recorded).toHaveLength(1);
    const all = [1.9, 1.905, 1.902, ...scores];
    expect(recorded[0].data).toMatchObject({ hardware_class: CLASS, n: 10 });
    expect(recorded[0].data.job_ids.slice().sort()).toEqual([...runs, ...baselines.map((b) => b.inputs.nonce)].sort());
    expect(recorded[0].data.mean).toBeCloseTo(all.reduce((a, b) => a + b) / 10, 12);

    // the next PR is judged against that baseline: n = 10, its mean over the claim's runs and the seven
    w.main = mergeSha; // PR 8 branches from the new default branch (one from the old is outdated: test/app/outdated.test.ts)
    await w.push(8, 'other-agent', { 'trainer/train.ts': 'export const LR = 5e-4;\n' });
    const next = w.gh.dispatches.at(-1)!;
    expect(next.inputs).toMatchObject({ role: 'candidate', pr: '8' });
    await w.complete(next, 'runner-b', 1.95);
    const check = w.gh.checksOf(w.gh.pulls.get(8)!.head)[0];
    expect(check.summary).toContain(`| baseline on gpu-test | ${recorded[0].data.mean.toFixed(4)} ± ${recorded[0].data.sigma.toFixed(4)} (n=10`);
  });

  it('the author\'s own run of the claim is not reused: only the runs of the other owners are', async () => {
    const w = world();
    // alice wrote the PR and her runner ran its first run: the merge needs three other owners
    const { runs } = await mergePr(w, 'alice', 'runner-a');
    expect(runs).toHaveLength(4);
    expect(w.entries('experiment_merged')[0].data.baseline_job_ids).toEqual(runs.slice(1));
    expect(w.gh.dispatches.filter((d) => d.inputs.role === 'baseline')).toHaveLength(7);
  });

  it('with baseline_runs 3, two of the claim\'s runs are reused and one run of the new head is dispatched: a baseline always has one', async () => {
    const w = world('baseline_runs: 3\n');
    const { runs, mergeSha } = await mergePr(w, 'octo-agent', 'runner-a');
    expect(w.entries('experiment_merged')[0].data.baseline_job_ids).toEqual(runs.slice(0, 2));
    const baselines = w.gh.dispatches.filter((d) => d.inputs.role === 'baseline');
    expect(baselines).toHaveLength(1);
    await w.complete(baselines[0], 'runner-e', 1.903);
    await replayAll(w, new Map([[baselines[0].inputs.seed, 1.903]]));
    const [b] = w.entries('baseline_recorded').filter((x) => x.data.sha === mergeSha);
    expect(b.data.n).toBe(3);
    expect(b.data.job_ids.slice().sort()).toEqual([...runs.slice(0, 2), baselines[0].inputs.nonce].sort());
  });

  it('runs that trained another train.ts, harness or budget than the merge commit\'s are not reused', async () => {
    const w = world();
    const { runs, mergeSha } = await mergePr(w, 'octo-agent', 'runner-a');
    const ledger = w.ledger();
    const at = ledger.findIndex((e) => e.type === 'experiment_merged');
    const view = viewOf(ledger.slice(0, at)); // the ledger the merge was recorded on
    const merged = ledger[at].data as Parameters<typeof reusedSamples>[1];
    const c = { baseline_runs: 10, budget_seconds: 300, verification: { min_sigma_df: 20 } };
    const atMerge = { harness_sha256: w.harnessOf(mergeSha), candidate_sha256: sha256(GOOD) };
    expect(reusedSamples(view, merged, atMerge, c)).toEqual(runs);
    // the merge commit's train.ts is not the PR's (a merge with another change), or its harness differs, or the budget changed
    expect(reusedSamples(view, merged, { ...atMerge, candidate_sha256: sha256(`${GOOD}// and another merged change\n`) }, c)).toEqual([]);
    expect(reusedSamples(view, merged, { ...atMerge, harness_sha256: 'f'.repeat(64) }, c)).toEqual([]);
    expect(reusedSamples(view, merged, atMerge, { ...c, budget_seconds: 600 })).toEqual([]);
    // at most baseline_runs - 1
    expect(reusedSamples(view, merged, atMerge, { ...c, baseline_runs: 2, verification: { min_sigma_df: 0 } })).toEqual(runs.slice(0, 1));
  });
});

describe('the runs a baseline counts', () => {
  it('never a run other owners outvoted, nor one of an owner banned since', () => {
    const sha = 'e'.repeat(40);
    const run = (job: string, owner: string, bpb: number): NewEntry[] => [
      { type: 'job_dispatched', data: { job_id: job, role: 'baseline', repo: 'o/r', pr: null, sha, author: null, hardware_class: CLASS, eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null } },
      { type: 'result_recorded', data: { ...ledgerResult(job, owner, bpb, sha) } },
    ];
    const runs = [...run('b1', 'erin', 2.0), ...run('b2', 'frank', 2.01), ...run('b3', 'grace', 2.0), ...run('x1', 'heidi', 2.3), ...run('x2', 'ivan', 2.3)];
    const view = (more: NewEntry[]) => baselineRunsOf(viewOf(appendEntries([], [...runs, ...more].map((e) => ({ ...e, time: '2026-11-24T11:00:00.000Z' })))), CLASS, sha).map((b) => b.job_id);
    expect(view([])).toEqual(['b1', 'b2', 'b3', 'x1', 'x2']);
    expect(view([{ type: 'owner_faulted', data: { login: 'erin', job_id: 'b1', claim_job_id: 'b1', agreed_job_ids: ['x1', 'x2'], reason: 'outvoted' } }])).toEqual(['b2', 'b3', 'x1', 'x2']);
    expect(view([{ type: 'owner_banned', data: { login: 'frank', reason: '2 faults' } }])).toEqual(['b1', 'b3', 'x1', 'x2']);
  });
});
