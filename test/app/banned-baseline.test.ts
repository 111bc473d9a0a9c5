// A banned owner's baseline runs stop counting everywhere, not only in baselines recorded after
// the ban. Before, a baseline recorded while the owner was still in good standing kept its runs:
// the mean every PR on that commit was judged against and the class's pooled sigma (the unit of
// every screen, merge bound and agreement tolerance) stayed where the banned owner had put them.
// Found in the simulator (seed 3, 1,000 PRs, 20% adversarial): a lazy GPU owner's made-up
// baseline runs, 3-4 sigma high, sat in 5 of 10 GPU baselines, the class's sigma stayed at 0.0106
// against a true 0.0081 after the owner was banned, and 3 of 12 3-sigma improvements missed.
// The attack here is the saboteur's version: low baseline runs that hold real improvements back.
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { appendEntries, type EntryDataOf, type NewEntry } from '../../ledger/index.js';
import { classSigmaOf, judgedBaseline } from '../../app/baselines.js';
import { viewOf } from '../../app/ledger-view.js';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { result as fixtureResult } from '../ledger/fixtures.js';
import { CLASS, online, reg, World } from './world.js';

afterEach(() => {
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

const HONEST: [string, string, number][] = [
  ['b1', 'alice', 2.0],
  ['b2', 'bob', 2.01],
  ['b3', 'carol', 1.99],
  ['b4', 'dave', 2.005],
  ['b5', 'erin', 1.995],
];
// mallory's two runs: low enough to drag the mean down and widen the spread, close enough to pass the owners' agreement check
const MALLORY: [string, string, number][] = [
  ['m1', 'mallory', 1.95],
  ['m2', 'mallory', 1.955],
];

function baselineEntries(sha: string): NewEntry[] {
  const runs = [...HONEST, ...MALLORY];
  const values = runs.map(([, , v]) => v);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sigma = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  const result = (job: string, owner: string, bpb: number): EntryDataOf<'result_recorded'> => ({
    job_id: job, role: 'baseline', pr: null, sha, title: null, author: null, runner_name: `runner-${owner}`, runner_owner: owner, run_url: null, validated: true, reason: null,
    result: fixtureResult({ hardware_class: CLASS, train_seconds: 300, val_bpb: bpb, job_id: job }), diff_path: null, diff_sha256: null, log_excerpt: null,
  });
  return [
    ...runs.flatMap(([job, owner, bpb]): NewEntry[] => [
      { type: 'job_dispatched', data: { job_id: job, role: 'baseline', repo: 'o/r', pr: null, sha, author: null, hardware_class: CLASS, eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null } },
      { type: 'result_recorded', data: result(job, owner, bpb) },
    ]),
    { type: 'baseline_recorded', data: { hardware_class: CLASS, sha, mean, sigma, n: runs.length, tokens_per_second: 20_000, job_ids: runs.map(([j]) => j) } },
  ];
}

const honestMean = HONEST.reduce((a, [, , v]) => a + v, 0) / HONEST.length;
const honestSigma = Math.sqrt(HONEST.reduce((a, [, , v]) => a + (v - honestMean) ** 2, 0) / (HONEST.length - 1));
const stamp = (es: NewEntry[]) => appendEntries([], es.map((e) => ({ ...e, time: '2026-12-05T10:00:00.000Z' })));

describe('a banned owner\'s baseline runs', () => {
  it('leave the class sigma and the judged baseline once the owner is banned (or the run outvoted)', () => {
    const sha = 'e'.repeat(40);
    const before = viewOf(stamp(baselineEntries(sha)));
    // while mallory is in good standing her runs count, as recorded
    expect(judgedBaseline(before, CLASS, sha)!.mean).toBeLessThan(honestMean - 0.01);
    expect(classSigmaOf(before, CLASS)!.sigma).toBeGreaterThan(2 * honestSigma);

    const banned = viewOf(stamp([...baselineEntries(sha), { type: 'owner_banned', data: { login: 'mallory', reason: '2 faults, the last on job x1' } }]));
    expect(judgedBaseline(banned, CLASS, sha)).toMatchObject({ mean: expect.closeTo(honestMean, 12), sigma: expect.closeTo(honestSigma, 12), n: 5 });
    expect(classSigmaOf(banned, CLASS)).toEqual({ sigma: expect.closeTo(honestSigma, 12), df: 4 });

    // a run other owners outvoted stops counting the same way
    const outvoted = viewOf(stamp([...baselineEntries(sha), ...MALLORY.map(([job]): NewEntry => ({ type: 'owner_faulted', data: { login: 'mallory', job_id: job, claim_job_id: job, agreed_job_ids: ['b1', 'b2'], reason: 'outvoted' } }))]));
    expect(judgedBaseline(outvoted, CLASS, sha)!.n).toBe(5);
    expect(classSigmaOf(outvoted, CLASS)!.df).toBe(4);
  });

  it('no longer hold a real improvement back: its first run is a claim and goes to verification', async () => {
    const w = new World({ trust: 'policy', config: 'max_in_flight: 20\nverification:\n  quorum: 1\n', seed: [] });
    const regs = [reg('runner-alice', 'alice'), reg('runner-bob', 'bob'), reg('runner-carol', 'carol'), reg('runner-dave', 'dave'), reg('runner-erin', 'erin'), reg('runner-mallory', 'mallory')];
    for (const r of regs) online(w, r.data.runner_name, r.data.owner, r.data.hardware_class);
    w.seedLedger([...regs, ...baselineEntries(w.main), { type: 'owner_banned', data: { login: 'mallory', reason: '2 faults, the last on job x1' } }]);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n// a better schedule\n' });
    const first = w.gh.dispatches[0];
    expect(first.inputs).toMatchObject({ role: 'candidate', pr: '7' });
    // 1.98 beats the honest runs' 2.0 by ~2.3 standard errors; against the baseline mallory dragged
    // down (1.986, its spread three times the honest one) it scored 0.25 and was discarded
    await w.complete(first, 'runner-alice', 1.98);
    expect(w.entries('experiment_discarded')).toEqual([]);
    // a fresh-seed verify run by another owner (not a replay of alice's run: she is on probation either way)
    expect(w.gh.dispatches.slice(1).filter((d) => d.inputs.role === 'verify' && !d.inputs.replay)).toHaveLength(1);
    const check = w.gh.checksOf(w.gh.pulls.get(7)!.head)[0];
    expect(check.summary).toMatch(/^Claims an improvement/);
    expect(check.summary).toContain(`| baseline on ${CLASS} | ${honestMean.toFixed(4)} ± ${honestSigma.toFixed(4)} (n=5`);
  });
});
