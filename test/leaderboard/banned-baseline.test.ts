// The leaderboard shows the baseline the App judged a result against: once an owner is banned (or
// a run outvoted), the App leaves those runs out of baselines recorded before (app/baselines.ts
// judgedBaseline), and so does each later experiment's baseline and delta here. Before, the page
// showed the recorded mean, which a banned saboteur's low runs had dragged down.
import { describe, it, expect } from '@jest/globals';
import { appendEntries, type NewEntry } from '../../ledger/index.js';
import { readExperiments } from '../../leaderboard/src/experiments.js';
import { result as fixtureResult } from '../ledger/fixtures.js';

const CLS = 'gpu-test';
const MAIN = 'e'.repeat(40);
const HONEST: [string, string, number][] = [['b1', 'alice', 2.0], ['b2', 'bob', 2.01], ['b3', 'carol', 1.99]];
const MALLORY: [string, string, number][] = [['m1', 'mallory', 1.95], ['m2', 'mallory', 1.955]];

function run(job: string, owner: string, bpb: number, role: 'baseline' | 'candidate' = 'baseline', pr: number | null = null): NewEntry[] {
  const sha = pr === null ? MAIN : String(pr).padStart(40, 'a');
  return [
    { type: 'job_dispatched', data: { job_id: job, role, repo: 'o/r', pr, sha, author: pr === null ? null : 'agent', hardware_class: CLS, eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null } },
    { type: 'result_recorded', data: { job_id: job, role, pr, sha, title: pr === null ? null : `Experiment ${pr}`, author: pr === null ? null : 'agent', runner_name: `runner-${owner}`, runner_owner: owner, run_url: null, validated: true, reason: null, result: fixtureResult({ hardware_class: CLS, train_seconds: 300, val_bpb: bpb, job_id: job }), diff_path: null, diff_sha256: null, log_excerpt: null } },
  ];
}

describe('the baseline an experiment shows', () => {
  it('leaves out the runs of an owner banned before the experiment\'s result, as the App judged it', () => {
    const all = [...HONEST, ...MALLORY];
    const mean = all.reduce((a, [, , v]) => a + v, 0) / all.length;
    const sigma = Math.sqrt(all.reduce((a, [, , v]) => a + (v - mean) ** 2, 0) / (all.length - 1));
    const news: NewEntry[] = [
        ...all.flatMap(([j, o, v]) => run(j, o, v)),
        { type: 'baseline_recorded', data: { hardware_class: CLS, sha: MAIN, mean, sigma, n: all.length, tokens_per_second: 20_000, job_ids: all.map(([j]) => j) } },
        ...run('c7', 'alice', 1.98, 'candidate', 7), // before the ban: against the recorded baseline
        ...[1, 2].map((i): NewEntry => ({ type: 'owner_faulted', data: { login: 'mallory', job_id: `m${i}`, claim_job_id: `m${i}`, agreed_job_ids: ['b1', 'b2', 'b3'], reason: 'outvoted' } })),
        { type: 'owner_banned', data: { login: 'mallory', reason: '2 faults' } },
        ...run('c8', 'bob', 1.98, 'candidate', 8), // after: against the honest runs
    ];
    const entries = appendEntries([], news.map((e) => ({ ...e, time: '2026-12-05T10:00:00.000Z' })));
    const { experiments } = readExperiments(entries);
    const by = new Map(experiments.map((x) => [x.pr, x]));
    expect(by.get(7)!.baseline_mean).toBeCloseTo(mean, 12);
    expect(by.get(8)!.baseline_mean).toBeCloseTo(2.0, 12);
    expect(by.get(8)!.delta).toBeCloseTo(-0.02, 12);
  });
});
