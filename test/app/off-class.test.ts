// A class liar: a runner registered as one hardware class, whose jobs run on a much faster machine
// (a GPU behind a runner registered as a 2-core CPU). It trains for real, so its scores look like
// training, but many times more steps than the class can: its schedule could not be replayed by a
// machine of the class within the budget, and its scores are not the class's. Attack first: before
// app/policy/pace.ts offClass, its result was validated and scored as the class's.
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { trustWorld, World } from './world.js';
import { auditLedger } from '../../ledger/index.js';
import { CLASS_RATE_FACTOR, offClass, trainingRate } from '../../app/policy/pace.js';

afterEach(() => {
  if (World.last) {
    const audit = auditLedger(World.last.ledger(), { freeRunsPerDay: 3 });
    expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  }
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });
const runnerFor = (w: World, d: { inputs: Record<string, string> }) => w.gh.runners.find((r) => r.labels.includes(d.inputs.runner_label))!.name;

describe('a run too fast for its class', () => {
  it('the rule: 6 x params x tokens over the dispatched budget, against the median of the class (once 3 runs exist)', () => {
    const r = { params: 100_000, tokens: 2_000_000, budget_seconds: 300, hardware_class: 'cpu-x' };
    expect(trainingRate(r)).toBe(4e9);
    const usual = [4e9, 3e9, 5e9];
    expect(offClass(r, usual.slice(0, 2))).toBeNull(); // too little history to judge
    expect(offClass({ ...r, tokens: 2_000_000 * CLASS_RATE_FACTOR }, usual)).toBeNull(); // a bigger model uses the machine better: within the band
    expect(offClass({ ...r, tokens: 2_000_000 * 50 }, usual)).toMatch(/^off class: the run trained at 200 GFLOP\/s .* 50 times cpu-x's usual 4 GFLOP\/s \(median of 3 runs\)/);
  });

  it('a class liar\'s result (a GPU\'s 50x the steps on a runner registered as the class) is not scored; it runs again on another owner\'s runner', async () => {
    const w = trustWorld();
    // three honest discards (each replayed: the owners are new) make the class's usual rate
    for (const [pr, runner] of [[7, 'runner-a'], [8, 'runner-b'], [9, 'runner-c']] as const) {
      await w.push(pr, `agent-${pr}`, { 'trainer/train.ts': `export const LR = ${pr}e-4;\n` });
      const d = w.gh.dispatches.at(-1)!;
      await w.complete(d, runner, 2.01, { tamper: WASM });
      const replay = w.gh.dispatches.at(-1)!;
      if (replay !== d) await w.complete(replay, runnerFor(w, replay), 2.01, { tamper: WASM });
    }
    expect(w.entries('result_recorded').filter((e) => e.data.validated).length).toBeGreaterThanOrEqual(3);
    await w.push(10, 'agent-10', { 'trainer/train.ts': 'export const LR = 9e-3;\n' });
    const d = w.gh.dispatches.at(-1)!;
    expect(d.inputs).toMatchObject({ pr: '10', role: 'candidate' });
    // trained for real on a GPU: 50x the steps of the class in the same budget
    await w.complete(d, 'runner-m', 1.7, { tamper: (r) => Object.assign(WASM(r), { steps: r.steps * 50, tokens: r.tokens * 50, tokens_per_second: r.tokens_per_second * 50 }) });
    const rec = w.entries('result_recorded').find((e) => e.data.job_id === d.inputs.nonce)!;
    expect(rec.data.validated).toBe(false);
    expect(rec.data.reason).toMatch(/^off class: .* 50 times gpu-test's usual/);
    const again = w.gh.dispatches.at(-1)!;
    expect(again.inputs).toMatchObject({ pr: '10', role: 'candidate' });
    expect(again.inputs.runner_label).not.toBe('owner-mallory');
    expect(w.entries('experiment_merged')).toEqual([]);
  });
});
