// Red team: a writer of the repository runs the experiment workflow itself. Any account with write
// access can dispatch experiment.yml (or re-run one of the App's runs): it copies a real job's inputs
// (the nonce, sha and role are in the run's public title and log) and sets `runner_label` to a runner
// of its own. Its run is a workflow_dispatch on the default branch of this repository, titled with
// the job's nonce, exactly as the App's are; only its starter (`actor`, `triggering_actor`) differs.
// Before: that run answered the job, so its starter chose who ran it, and a colluder verified her
// partner's forged claim. Now only a run the App's bot started counts (app/starts.ts, dispatchedByApp).
import { describe, expect, it } from '@jest/globals';
import { APP_BOT } from './fake-github.js';
import { auditEachWorld, CLASS, online, reg, World } from './world.js';

auditEachWorld();

const CLAIM = 'export const LR = 6e-4;\n// claimed better, never trained\n';

/** alice and bob honest; mel and mallory colluding; all online on the class. */
function world(): World {
  const w = new World({ config: 'max_in_flight: 10\nverification:\n  quorum: 1\n' });
  w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-m', 'mallory'), reg('runner-n', 'mel'), { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
  online(w, 'runner-m', 'mallory');
  online(w, 'runner-n', 'mel');
  return w;
}

describe('a run of the experiment workflow that the App did not start', () => {
  it('does not answer a verify job: a colluder cannot make herself the verifier of her partner\'s claim', async () => {
    const w = world();
    const m = w.gh.runners.find((r) => r.name === 'runner-m')!;
    m.status = 'offline'; // so the App sends the verify run to alice or bob
    await w.push(7, 'octo-agent', { 'trainer/train.ts': CLAIM });
    await w.complete(w.gh.dispatches.at(-1)!, 'runner-n', 1.9); // mel's forged claim
    const verify = w.gh.dispatches.at(-1)!;
    expect(verify.inputs.role).toBe('verify');
    expect(['owner-alice', 'owner-bob']).toContain(verify.inputs.runner_label);
    m.status = 'online';
    const before = w.ledger().length;
    // mallory dispatches the workflow with the verify job's inputs, on her own runner, and reports the claim's score
    const [status] = w.gh.dispatch('experiment.yml', 'refs/heads/main', { ...verify.inputs, runner_label: 'owner-mallory' }, 'mallory');
    expect(status).toBe(204);
    const hers = w.gh.dispatches.at(-1)!;
    await w.complete(hers, 'runner-m', 1.9);
    expect(w.ledger().slice(before).map((e) => e.type)).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    expect(w.entries('result_recorded').some((r) => r.data.runner_owner === 'mallory')).toBe(false);
    // the App's own verify run still decides: the honest verifier does not reproduce the claim
    await w.complete(verify, w.gh.runners.find((r) => r.labels.includes(verify.inputs.runner_label))!.name, 2.0);
    expect(w.gh.labelsOf(7)).not.toContain('experiment:merged');
  });

  it('a re-run of the App\'s run by a writer is not the App\'s run either; the App\'s bot is', async () => {
    const w = world();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': CLAIM });
    const first = w.gh.dispatches.at(-1)!;
    await w.complete(first, 'runner-m', 1.99, { actor: 'mallory', titleNonce: first.inputs.nonce });
    expect(w.entries('result_recorded')).toHaveLength(0);
    await w.complete(first, 'runner-a', 1.99, { actor: APP_BOT, titleNonce: first.inputs.nonce });
    expect(w.entries('result_recorded').map((r) => r.data.runner_owner)).toEqual(['alice']);
  });
});
