// Red team, hostile runner owners (alone, two together, or with a PR author) against the real App
// with GitHub faked. Each test is an attack; those that succeeded against the App before its fix
// say so (see the report of this change), the others hold a class of attack no other test covers.
import { describe, expect, it } from '@jest/globals';
import { spotDraw } from '../../ledger/index.js';
import { auditEachWorld, busy, CLASS, online, reg, World } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const WORKLOAD = 'matmul-256x256x256x20@tensorflow';

auditEachWorld();

const cal = (before: number, after = before) => (r: any) => (r.calibration = { workload: WORKLOAD, before_gflops: before, after_gflops: after });
/** What the harness writes when its calibration (`gflops`) is below `floor`: no training, no score. */
const giveBack = (gflops: number, floor: number) => (r: any) => {
  Object.assign(r, { status: 'off_pace', failure: null, val_bpb: null, steps: 0, tokens: 0, train_seconds: 0, total_seconds: 9, tokens_per_second: 0, params: 0, loss_curve: [], replay: null, unigram_bpb: 0, bigram_bpb: 0, eval_bytes: 0 });
  r.calibration = { workload: WORKLOAD, before_gflops: gflops, after_gflops: 0 };
  r.preflight = { workload: WORKLOAD, gflops, floor_gflops: floor };
};

/** A world of alice and bob (honest) and mallory and mel (colluding), all online on the class. */
function fourOwners(config = 'max_in_flight: 10\n'): World {
  const w = new World({ config });
  w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-m', 'mallory'), reg('runner-n', 'mel'), { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
  online(w, 'runner-m', 'mallory');
  online(w, 'runner-n', 'mel');
  return w;
}

/** PRs from `first` on, each scored once on `runner` with calibration `gflops` (a null-ish score). */
async function scoreInTurn(w: World, runs: [string, number][], first = 100): Promise<void> {
  let pr = first;
  for (const [runner, gflops] of runs) {
    await w.push(pr, `agent-${pr}`, { 'trainer/train.ts': `export const LR = ${pr}e-5;\n` });
    const d = w.gh.dispatches.filter((x) => x.inputs.pr === String(pr)).at(-1)!;
    await w.complete(d, runner, 1.999, { tamper: cal(gflops) });
    pr++;
  }
}

describe('the class\'s usual pace cannot be raised by half of its owners', () => {
  // Attack: made-up fast calibrations in every result. The class's usual pace was the median of its
  // owners' usual paces, and with an even count that is the mean of the middle two: one owner of two,
  // or two of four, lifted it as far as they liked, and every honest run fell below it: refused as
  // off pace (no credit for work done), run again, and a PR whose runs all landed on honest runners
  // given up after max_attempts.
  it('two colluders of four owners do not get every honest run refused (a real improvement given up)', async () => {
    const w = fourOwners();
    // (while the colluders are two of the first three owners to report, they are the class: alice's and bob's first runs are refused)
    await scoreInTurn(w, [['runner-m', 1e6], ['runner-n', 1e6], ['runner-a', 100], ['runner-b', 100], ['runner-a', 100], ['runner-b', 100]]);
    // once as many honest owners have reported, their results are scored and credited, not refused as off pace
    const honest = w.entries('result_recorded').filter((r) => ['alice', 'bob'].includes(r.data.runner_owner ?? '')).slice(2);
    expect(honest.map((r) => [r.data.runner_owner, r.data.validated, r.data.reason])).toEqual([['alice', true, null], ['bob', true, null]]);
    // a real improvement run on honest runners is scored, not given up
    busy(w, 'runner-m', 'runner-n');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches.at(-1)!;
    await w.complete(d, 'runner-a', 1.9, { tamper: cal(100) });
    expect(w.entries('result_recorded').at(-1)!.data).toMatchObject({ pr: 7, validated: true, runner_owner: 'alice' });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    // and the floor sent to every runner is the honest pace's, not the colluders'
    expect(JSON.parse(w.gh.dispatches.at(-1)!.inputs.pace_floors)).toEqual({ [CLASS]: { [WORKLOAD]: 80 } });
  });

  it('one owner of two cannot lock the other out of the class', async () => {
    const w = new World({ config: 'max_in_flight: 10\n' });
    await scoreInTurn(w, [['runner-b', 1e300], ['runner-a', 100], ['runner-a', 100]]);
    expect(w.entries('result_recorded').map((r) => [r.data.runner_owner, r.data.validated])).toEqual([['bob', true], ['alice', true], ['alice', true]]);
  });
});

describe('give-backs cannot choose a PR\'s fate', () => {
  // Attack: a job given back before training (status off_pace, below the floor) costs its owner
  // nothing (no fault, no credit, ~10 s) and goes to another owner, excluding only the one who gave
  // it back. Two colluders passing a real improvement's first run back and forth used up its
  // max_attempts (3) and the App gave the PR up: discarded, nobody faulted.
  it('two owners bouncing a first run between them do not get a real improvement given up', async () => {
    const w = fourOwners();
    // a usual pace: floors are sent (both honest owners and both colluders ran at 100)
    await scoreInTurn(w, [['runner-a', 100], ['runner-b', 100], ['runner-m', 100], ['runner-n', 100]]);
    const floor = 80;
    busy(w, 'runner-a', 'runner-b'); // the honest owners are busy: the colluders are the idle ones
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    for (let k = 0; k < 6; k++) {
      const d = w.gh.dispatches.at(-1)!;
      if (d.inputs.pr !== '7' || d.inputs.role !== 'candidate') break;
      const target = d.inputs.runner_label;
      const mine = target === 'owner-mel' ? 'runner-n' : target === 'owner-mallory' ? 'runner-m' : target === CLASS || target === 'autoresearch' ? 'runner-m' : null;
      if (!mine) {
        // an honest owner got it: it runs it
        busy(w);
        await w.complete(d, target === 'owner-alice' ? 'runner-a' : 'runner-b', 1.9, { tamper: cal(100) });
        break;
      }
      await w.complete(d, mine, null, { tamper: giveBack(50, floor) });
      busy(w, 'runner-a', 'runner-b');
    }
    expect(w.entries('experiment_discarded').filter((e) => e.data.pr === 7).map((e) => e.data.reason)).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    const first = w.entries('result_recorded').filter((r) => r.data.pr === 7 && r.data.validated);
    expect(first.map((r) => r.data.runner_owner)).toEqual([expect.stringMatching(/^(alice|bob)$/)]);
  });
});

describe('numbers at the float extremes', () => {
  // JSON.parse reads 1e999 as Infinity: a score (or calibration) of Infinity would be a discard no
  // replay reproduces, and an Infinity calibration would be a class pace nobody reaches. The schema
  // refuses non-finite numbers, so it is an unreadable result: recorded, no fault, run again.
  it('a result.json whose val_bpb or calibration is 1e999 (Infinity once parsed) is refused and the job runs again', async () => {
    for (const [field, text] of [['val_bpb', '"val_bpb":1e999'], ['calibration', '"before_gflops":1e999']] as const) {
      const w = new World();
      await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
      const d = w.gh.dispatches[0];
      const honest = JSON.stringify(w.result(d, 'runner-a', 1, 2.5, cal(100)));
      const forged = field === 'val_bpb' ? honest.replace('"val_bpb":2.5', text) : honest.replace('"before_gflops":100', text);
      expect(forged).not.toBe(honest);
      await w.complete(d, 'runner-a', 2.5, { files: { 'result.json': forged, 'train.log': '' } });
      expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/result\.json/) });
      expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
      expect(w.entries('credit_granted')).toEqual([]);
    }
  });
});

describe('a verifier learns nothing of the claim from its dispatch', () => {
  // Timing attack: a verifier that waits to see the claim's score (or another verifier's) before it
  // reports. The score is public in the check run, the comment and the ledger (docs/trust.md 2b,
  // "What replays do not catch": blind verification is not built), but the run itself is told only
  // what it must run: no score travels in the workflow inputs.
  it('a verify job\'s inputs carry no score, only the job', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9371);
    const v = w.gh.dispatches.at(-1)!;
    expect(v.inputs.role).toBe('verify');
    expect(Object.keys(v.inputs).filter((k) => !['budget', 'eval_seed', 'nonce', 'pr', 'replay', 'role', 'runner_label', 'seal_key', 'seed', 'sha', 'pace_floors', 'data_pins', 'dataset'].includes(k))).toEqual([]);
    expect(JSON.stringify(v.inputs)).not.toMatch(/1\.937/);
  });
});

describe('a result for the right nonce uploaded twice', () => {
  // A second attempt of the same workflow run (run_attempt 2, or an artifact replaced after the
  // first completion was taken): the same run id and title. The first result recorded is the job's;
  // the second changes nothing, whatever it claims.
  it('a better second artifact of an already recorded run is ignored: no verify, no credit, no merge', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches[0];
    const runId = await w.complete(d, 'runner-a', 2.5);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    const before = w.ledger().length;
    const dispatched = w.gh.dispatches.length;
    w.gh.runs.get(runId)!.artifact!.files = { 'result.json': JSON.stringify(w.result(d, 'runner-a', runId, 1.5)), 'train.log': '' };
    await w.redeliver();
    expect(w.ledger().length).toBe(before);
    expect(w.gh.dispatches.length).toBe(dispatched);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });
});

describe('the spot-check draw cannot be gamed by timing the upload', () => {
  // A trusted owner who could tell when its discard would not be drawn would shade only those. The
  // draw hashes the millisecond the App stamps on the result entry with the job id: the nonce is
  // public from the dispatch, but the owner controls its upload only to within the App's latency
  // (tens of ms, varying); to dodge the draw it would have to know the App's stamp to the
  // millisecond: the draw flips from one millisecond to the next with no stretch it could aim at.
  it('at rate 0.1 no job has a long run of consecutive milliseconds that are all passed over', () => {
    const t0 = Date.parse('2026-11-24T12:00:00.000Z');
    for (const job of ['1-1-aaaaaaaaaaaaaaaaaaaaaaaa', '1-2-bbbbbbbbbbbbbbbbbbbbbbbb', '9-1-cccccccccccccccccccccccc']) {
      let drawn = 0;
      let run = 0;
      let longest = 0;
      for (let ms = 0; ms < 5000; ms++) {
        const hit = spotDraw(new Date(t0 + ms).toISOString(), job) < 0.1;
        drawn += hit ? 1 : 0;
        run = hit ? 0 : run + 1;
        longest = Math.max(longest, run);
      }
      expect(drawn / 5000).toBeGreaterThan(0.08);
      expect(drawn / 5000).toBeLessThan(0.12);
      // passes over consecutive milliseconds are a geometric run (~80 at most in 5,000), no pattern
      expect(longest).toBeLessThan(150);
    }
  });
});

describe('a runner owner who writes megabytes into result.json', () => {
  // Before: the App recorded the result as the runner wrote it, in the ledger entry itself (strings
  // unbounded up to the 8 MB artifact): each job of one runner grew the ledger, its branch, the
  // App's reads and the leaderboard's build by megabytes, refused or not. Now a result.json over
  // 128 KB (the harness writes ~30 KB) is refused unread, the job dispatched again.
  it('does not get them into the ledger', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 7e-4;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { tamper: (r) => (r.device = 'X'.repeat(2_000_000)) });
    const [rec] = w.entries('result_recorded');
    expect(rec.data.result).toBeNull();
    expect(rec.data.reason).toMatch(/over the limit of 131072: the harness writes about 30 KB/);
    expect(JSON.stringify(w.ledger()).length).toBeLessThan(200_000);
    // the job runs again, on another runner
    expect(w.gh.dispatches).toHaveLength(2);
  });
});
