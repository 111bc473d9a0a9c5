// The pre-flight pace check, App side, against the real App with GitHub faked: each job is sent its
// classes' floors; a job given back (status off_pace) is run elsewhere without scoring it, without
// faulting or crediting its owner; a give-back that claims a score, a pace above its floor or a floor
// it was not sent is rejected with one reason; and a runner that skips the check is still caught
// after training. Every test here failed against the App before the check (see the commit message).
import { describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { givingBack } from '../../app/policy/pace.js';
import { auditEachWorld, CLASS, online, reg, World } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const WORKLOAD = 'matmul-256x256x256x20@tensorflow';

auditEachWorld();

const cal = (before: number, after: number) => (r: any) => (r.calibration = { workload: WORKLOAD, before_gflops: before, after_gflops: after });
/** What the harness writes when its calibration (`gflops`) is below `floor`: no training, no score. */
const giveBack = (gflops: number, floor: number) => (r: any) => {
  Object.assign(r, { status: 'off_pace', failure: null, val_bpb: null, steps: 0, tokens: 0, train_seconds: 0, total_seconds: 9, tokens_per_second: 0, params: 0, loss_curve: [], replay: null, unigram_bpb: 0, bigram_bpb: 0, eval_bytes: 0 });
  r.calibration = { workload: WORKLOAD, before_gflops: gflops, after_gflops: 0 };
  r.preflight = { workload: WORKLOAD, gflops, floor_gflops: floor };
};

/** Three PRs scored at pace 107-109 on the class (median 108, floor 86.4 at the default tolerance 0.2), then PR 10 dispatched. */
async function withHistory(): Promise<World> {
  const w = new World({ config: 'max_in_flight: 10\n' });
  for (const pr of [7, 8, 9]) {
    await w.push(pr, `agent-${pr}`, { 'trainer/train.ts': `export const LR = ${pr}e-4;\n` });
    await w.complete(w.gh.dispatches.at(-1)!, pr % 2 ? 'runner-a' : 'runner-b', 1.99, { tamper: cal(100 + pr, 100 + pr) });
  }
  await w.push(10, 'octo-agent', { 'trainer/train.ts': GOOD });
  return w;
}

describe('the pre-flight pace check (App side)', () => {
  it('sends each job its classes\' floors once the class has a usual pace, and records them with the job', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.dispatches[0].inputs.pace_floors ?? '').toBe(''); // no history yet: no check (the workflow's default)
    const v = await withHistory();
    const d = v.gh.dispatches.at(-1)!;
    expect(JSON.parse(d.inputs.pace_floors)).toEqual({ [CLASS]: { [WORKLOAD]: 86.4 } });
    expect(v.entries('job_dispatched').find((e) => e.data.job_id === d.inputs.nonce)!.data.pace_floors).toEqual({ [CLASS]: { [WORKLOAD]: 86.4 } });
  });

  it('runs a job given back elsewhere: not scored, no fault, no credit, the PR still open', async () => {
    const w = await withHistory();
    const d = w.gh.dispatches.at(-1)!;
    await w.complete(d, 'runner-b', null, { tamper: giveBack(50, 86.4) });
    const rec = w.entries('result_recorded').at(-1)!;
    expect(rec.data).toMatchObject({
      job_id: d.inputs.nonce,
      validated: false,
      runner_owner: 'bob',
      reason: `off pace before training: the calibration workload ran at 50 GFLOP/s, 42% below the floor of 86.4 for ${CLASS}; the job was given back after 9 s without training`,
    });
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.entries('credit_reversed')).toEqual([]);
    expect(w.gh.labelsOf(10)).not.toContain('experiment:discarded');
    // elsewhere: to a runner of another owner, as the same job's next attempt
    const again = w.gh.dispatches.at(-1)!;
    expect(again.inputs).toMatchObject({ pr: '10', role: 'candidate', runner_label: 'owner-alice' });
    expect(w.entries('job_dispatched').at(-1)!.data).toMatchObject({ pr: 10, attempt: 2 });
    await w.complete(again, 'runner-a', 1.99, { tamper: cal(105, 105) });
    expect(w.gh.labelsOf(10)).toEqual(['experiment:discarded']);
    // credits: the given-back job earns nothing, alice's scored run does
    const granted = w.entries('credit_granted').map((g) => g.data.job_id);
    expect(granted).not.toContain(d.inputs.nonce);
    expect(granted).toContain(again.inputs.nonce);
  });

  it('rejects a give-back that claims a score, a pace above its floor, or a floor it was not sent, with one reason each', async () => {
    const cases: [(r: any) => void, RegExp, boolean][] = [
      [(r) => (giveBack(50, 86.4)(r), (r.val_bpb = 1.5)), /an off_pace result was given back before training and must carry no val_bpb and no failure/, false],
      [giveBack(90, 86.4), /an off_pace result's calibration 90 GFLOP\/s is not below its floor 86\.4; only a machine below the floor gives a job back/, false],
      [giveBack(90, 1000), /preflight floor 1000 GFLOP\/s is not the floor 86\.4 the App sent for gpu-test \(matmul-256x256x256x20@tensorflow\)/, true],
    ];
    for (const [tamper, reason, forged] of cases) {
      const w = await withHistory();
      await w.complete(w.gh.dispatches.at(-1)!, 'runner-b', null, { tamper });
      const rec = w.entries('result_recorded').at(-1)!;
      expect(rec.data).toMatchObject({ pr: 10, validated: false });
      expect(rec.data.reason).toMatch(reason);
      // a made-up floor is a forgery (its owner's pending credits reversed); the others merely unreadable
      expect(w.entries('credit_reversed').length > 0).toBe(forged);
    }
  });

  it('a runner that skips the check is still caught after training, and so is load that starts mid-run', async () => {
    for (const [before, after, reason] of [
      [50, 50, /^off pace: the calibration workload ran at 50 GFLOP\/s, 54% below gpu-test's usual 108/],
      [108, 60, /^off pace: the calibration workload ran at 60 GFLOP\/s after training, 44% below the 108 before/],
    ] as const) {
      const w = await withHistory();
      await w.complete(w.gh.dispatches.at(-1)!, 'runner-b', 2.4, { tamper: cal(before, after) });
      expect(w.entries('result_recorded').at(-1)!.data).toMatchObject({ pr: 10, validated: false, reason: expect.stringMatching(reason) });
      expect(w.gh.dispatches.at(-1)!.inputs).toMatchObject({ pr: '10', runner_label: 'owner-alice' });
    }
  });
});

describe('a class\'s usual pace is the median of its owners\' usual paces', () => {
  /** PRs scored in turn on `runs` ([runner, calibration]): the last result recorded */
  async function scoreInTurn(runs: [string, number][]): Promise<World> {
    const w = new World({ config: 'max_in_flight: 10\n' });
    w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol'), reg('runner-m', 'mallory'), { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    online(w, 'runner-c', 'carol');
    online(w, 'runner-m', 'mallory');
    let pr = 7;
    for (const [runner, gflops] of runs) {
      await w.push(pr, `agent-${pr}`, { 'trainer/train.ts': `export const LR = ${pr}e-4;\n` });
      const d = w.gh.dispatches.filter((x) => x.inputs.pr === String(pr)).at(-1)!;
      await w.complete(d, runner, 1.99, { tamper: cal(gflops, gflops) });
      pr++;
    }
    return w;
  }
  const last = (w: World) => w.entries('result_recorded').at(-1)!.data;

  it('catches a loaded run once two owners have reported (it used to take three runs, so a class\'s third run went unchecked)', async () => {
    const w = await scoreInTurn([['runner-a', 100], ['runner-b', 100], ['runner-c', 40]]);
    expect(last(w)).toMatchObject({ runner_owner: 'carol', validated: false, reason: "off pace: the calibration workload ran at 40 GFLOP/s, 60% below gpu-test's usual 100 (median of 2 owners)" });
  });

  it('one owner\'s made-up fast calibrations cannot lock the class: refused runs still count, and the owners outvote it', async () => {
    const w = await scoreInTurn([['runner-m', 1000], ['runner-m', 1000], ['runner-m', 1000], ['runner-a', 100], ['runner-b', 100], ['runner-a', 100]]);
    const recs = w.entries('result_recorded').map((e) => [e.data.runner_owner, e.data.validated]);
    // one owner is no class median (alice is scored); nor is half of the owners: the class's pace is
    // the lower median of theirs, so bob is scored too (before test/app/red-team-runners.test.ts, bob
    // was refused while mallory was half the owners, at the mean of the middle two, 550; and before
    // that, mallory's three runs were the class's usual pace and every honest run was refused)
    expect(recs).toEqual([['mallory', true], ['mallory', true], ['mallory', true], ['alice', true], ['bob', true], ['alice', true]]);
  });
});

describe('an owner that keeps giving jobs back', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  const at = (minutesAgo: number, status: 'ok' | 'off_pace', owner = 'bob') => ({
    type: 'result_recorded',
    time: new Date(now.getTime() - minutesAgo * 60_000).toISOString(),
    data: { runner_owner: owner, result: { status } },
  }) as any;

  it('gets no new runner while its give-backs in the last hour reach the limit and outnumber its other results', () => {
    expect(givingBack([at(50, 'off_pace'), at(20, 'off_pace'), at(5, 'off_pace')], 'Bob', now, 3)).toEqual({ count: 3, retryAfterSeconds: 600 });
    // fewer than the limit, as many other results as give-backs, or another owner's: it may take jobs
    expect(givingBack([at(20, 'off_pace'), at(5, 'off_pace')], 'bob', now, 3)).toBeNull();
    expect(givingBack([at(50, 'off_pace'), at(20, 'off_pace'), at(5, 'off_pace'), at(40, 'ok'), at(30, 'ok'), at(10, 'ok')], 'bob', now, 3)).toBeNull();
    expect(givingBack([at(50, 'off_pace', 'alice'), at(20, 'off_pace', 'alice'), at(5, 'off_pace', 'alice')], 'bob', now, 3)).toBeNull();
    // older than the window: forgotten
    expect(givingBack([at(70, 'off_pace'), at(20, 'off_pace'), at(5, 'off_pace')], 'bob', now, 3)).toBeNull();
  });
});
