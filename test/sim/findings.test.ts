// Simulator findings, each pinned to the seed that found it (sim/swarm.ts). `it.failing` marks a
// defect the App still has: the test passes while the defect is there, and fails, so someone turns
// it into a plain `it`, on the day the defence lands (issues 11 and 14).
import { spawnSync } from 'node:child_process';
import { describe, it, expect } from '@jest/globals';
import { Swarm } from '../../sim/swarm.js';
import { World } from '../app/world.js';

describe('simulator findings (seeded)', () => {
  // every run: "workflow run ... uploaded no result artifact" for 3 of the 5 baselines dispatched on
  // install: experiment.yml puts all baselines of a class in one concurrency group, and GitHub keeps
  // one running and one pending run per group and cancels the rest.
  it('issue 14: every baseline run dispatched on install runs; none is cancelled by its concurrency group', async () => {
    // two registered runners of the class and no baseline yet
    const w = new World({ seed: new World().entries('runner_registered').map((e) => ({ type: e.type, data: e.data })) });
    await w.install();
    const runs = [...w.gh.workflowRuns.values()];
    expect(runs.filter((r) => r.inputs.role === 'baseline')).toHaveLength(10); // baseline_runs (default 10)
    expect(runs.filter((r) => r.conclusion === 'cancelled').map((r) => r.inputs.nonce)).toEqual([]);
  });

  // seed 1, 30 PRs, faults at 5%: two App processes and a redelivery dispatched the same job twice and
  // charged its author twice; PRs were left queued, verifying or waiting for a baseline for a day.
  // Fixed (issue 14): a stale view closed another process's job as a stray, the tick stopped at its
  // first failed request, both processes re-sent a lost dispatch, waiting PRs trained again, re-runs
  // were charged again (test/app/durable.test.ts has a scenario for each).
  //
  // The run is a process of its own (`npm run simulate`), as a seed replays exactly only there: in a
  // jest worker, timers another test file left running drew from the seeded random sources this
  // run patches in (sim/determinism.ts), so the same seed injected other faults there (15 refused
  // registrations against 19) and this test met another run than the one it pins.
  it('issue 14: under faults no job is dispatched or charged twice and no PR is left without a final state', () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', '--seed', '1', '--experiments', '30', '--faults', '--check-every', '0', '--max-days', '2', '--json'], { encoding: 'utf8', timeout: 300_000 });
    const last = out.stdout.trim().split('\n').at(-1) ?? '';
    expect(last.startsWith('{') ? null : `exit ${out.status}: ${out.stderr.slice(-2000)}`).toBeNull();
    const f = JSON.parse(last) as Awaited<ReturnType<Swarm['run']>>;
    // a fault run reports its invariants and the faults it injected (once a run of its own in
    // test/sim/simulate.test.ts: this run shows the same, and the invariants' values below)
    expect(Object.keys(f)).toEqual(expect.arrayContaining(['lost_merges', 'double_dispatches', 'double_charges', 'stuck_prs', 'ledger_verifies']));
    expect(Object.values(f.faults_injected ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect({ lost_merges: f.lost_merges, double_dispatches: f.double_dispatches, double_charges: f.double_charges, stuck_prs: f.stuck_prs, ledger_verifies: f.ledger_verifies }).toEqual({ lost_merges: 0, double_dispatches: 0, double_charges: 0, stuck_prs: 0, ledger_verifies: true });
  }, 600_000);

  // The same swarm under other patterns of faults (`--fault-seed`, session 19). On session 18's App,
  // fault seed 19 left a merge unrecorded (a discarded commit re-tried after a ban merged on GitHub,
  // never in the ledger) and fault seed 21 trained a commit's first run twice (its claim, waiting
  // for the replay of a verify run with no job open, was queued again); 2 of 40 fault seeds failed
  // so, none now (docs/trust.md section 7, session 19; each fix has its scenario test in test/app).
  it('issue 11 and 14: under other patterns of faults no merge is lost and no first run trained twice', () => {
    for (const faultSeed of ['19', '21']) {
      const out = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', '--seed', '1', '--experiments', '30', '--faults', '--fault-seed', faultSeed, '--check-every', '0', '--max-days', '2', '--json'], { encoding: 'utf8', timeout: 300_000 });
      const last = out.stdout.trim().split('\n').at(-1) ?? '';
      expect(last.startsWith('{') ? null : `exit ${out.status}: ${out.stderr.slice(-2000)}`).toBeNull();
      const f = JSON.parse(last) as Awaited<ReturnType<Swarm['run']>>;
      expect({ faultSeed, lost_merges: f.lost_merges, double_dispatches: f.double_dispatches, double_charges: f.double_charges, stuck_prs: f.stuck_prs, ledger_verifies: f.ledger_verifies, invariant_failures: f.invariant_failures }).toEqual({ faultSeed, lost_merges: 0, double_dispatches: 0, double_charges: 0, stuck_prs: 0, ledger_verifies: true, invariant_failures: [] });
    }
  }, 600_000);

  // seed 2, 40 PRs, every adversarial owner a forger or a Sybil. The Sybils' days-old accounts are
  // refused at registration. The forgers' claims (2-3 sigma below the truth) never merged (the mean
  // of independent runs refutes them) but agreed with honest replicas within the class's tolerance
  // (3.5 * sqrt(2) sigma), so they earned ~17% of the credit: val_bpb alone cannot tell a 3-sigma lie
  // from noise (docs/trust.md "What a score alone cannot catch"). Fixed (issue 11, session 6): every
  // run of an owner on probation is replayed with its own seeds by other owners before it earns
  // (docs/trust.md 2b), so a score the training did not produce is outvoted; the forgers are banned
  // and earn nothing (adversary_credit_share 0 at this seed).
  it('issue 11: forgers and Sybil pairs earn under 1% of the credits', async () => {
    const f = await new Swarm({ seed: 2, experiments: 40, adversaries: 0.3, mix: { forger: 1, sybil: 2, lazy: 0, saboteur: 0, class_liar: 0, colluder: 0 }, checkEvery: 0 }).run();
    expect(f.adversary_credit_share).toBeLessThan(0.01);
    expect(f.adversaries_banned).toBeGreaterThan(0);
  }, 300_000);
});
