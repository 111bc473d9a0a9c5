// Red team: runner owners who take an honest PR's runs and hand back nothing the App can score (no
// artifact, an unreadable result, a harness error): no fault, no credit, and each such run used up
// one of the job's attempts. GitHub hands a queued job to whichever idle runner has its labels, and
// a runner that trains nothing is idle again within seconds, so an owner with idle runners takes
// most retries of a job. One owner got a real improvement given up after max_attempts.
import { describe, expect, it } from '@jest/globals';
import { auditEachWorld, busy, CLASS, online, reg, runnerFor, trustWorld, World } from './world.js';
import { viewOf } from '../../app/ledger-view.js';
import { runStanding } from '../../app/policy/side-replays.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';

auditEachWorld();

/** alice and bob (honest) and the given bouncers, all registered and online on the class */
function world(bouncers: string[]): World {
  const w = new World({ config: 'max_in_flight: 10\n' });
  w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), ...bouncers.map((o) => reg(`runner-${o}`, o)), { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
  for (const o of bouncers) online(w, `runner-${o}`, o);
  return w;
}

/** What the bouncers hand back: no result.json, or a harness error (a result an honest flaky machine writes too). */
const nothing = { files: { 'train.log': 'the runner lost its disk\n' } };
/** A run on a deterministic backend (the harness's wasm kernels on 2 threads). */
const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });
const harnessError = { tamper: (r: any) => Object.assign(r, { status: 'failed', val_bpb: null, failure: { kind: 'harness_error', message: 'the eval child could not start' } }) };

/**
 * Every dispatch of PR 7 in turn, until it is merged or discarded: one targeted at an honest owner's
 * label is run by it (an honest score of a real improvement); any other of a role in `roles` (a
 * class or any-runner label, or a bouncer's own) is taken by a bouncer and handed back with `back`,
 * one of another role by bob. The honest runners are busy with
 * other work whenever a job is sent, so the idle bouncers are drawn first as verifiers too.
 */
async function play(w: World, bouncers: string[], back: object, roles = ['candidate', 'verify']): Promise<string[]> {
  busy(w, 'runner-a', 'runner-b');
  await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
  const ran: string[] = [];
  for (let k = 0; k < w.gh.dispatches.length && k < 40; k++) {
    const d = w.gh.dispatches[k];
    if (d.inputs.pr !== '7' || w.entries('experiment_merged').length || w.entries('experiment_discarded').length) continue;
    const label = d.inputs.runner_label;
    const honest = label === 'owner-alice' ? 'runner-a' : label === 'owner-bob' || !roles.includes(d.inputs.role) ? 'runner-b' : null;
    const bouncer = honest ? null : (bouncers.find((o) => label === `owner-${o}`) ?? bouncers[ran.length % bouncers.length]);
    ran.push(`${d.inputs.role} ${honest ?? bouncer}`);
    await w.complete(d, honest ?? `runner-${bouncer}`, 1.9, honest ? {} : back);
    busy(w, 'runner-a', 'runner-b');
  }
  return ran;
}

describe('runner owners who hand back nothing scorable', () => {
  it('one owner cannot get an honest improvement given up by taking its first run every time', async () => {
    const w = world(['mallory']);
    const ran = await play(w, ['mallory'], nothing);
    // (mallory was drawn to verify it too, and handed that back as well)
    expect(ran).toEqual(['candidate mallory', expect.stringMatching(/^candidate runner-[ab]$/), 'verify mallory', expect.stringMatching(/^verify runner-[ab]$/)]);
    expect(w.entries('experiment_discarded').filter((e) => e.data.pr === 7).map((e) => e.data.reason)).toEqual([]);
    expect(w.entries('experiment_merged').map((e) => e.data.pr)).toEqual([7]);
    // mallory ran none of its scored runs, and was paid nothing
    expect(w.entries('result_recorded').filter((r) => r.data.validated).map((r) => r.data.runner_owner)).not.toContain('mallory');
    expect(w.entries('credit_granted').map((e) => e.data.login)).not.toContain('mallory');
  });

  it('two owners reporting harness errors in turn cannot either, on the first run or its verification', async () => {
    const w = world(['mallory', 'mel']);
    await play(w, ['mallory', 'mel'], harnessError);
    expect(w.entries('experiment_discarded').filter((e) => e.data.pr === 7).map((e) => e.data.reason)).toEqual([]);
    expect(w.entries('experiment_merged').map((e) => e.data.pr)).toEqual([7]);
  });
});

describe('a verify run that reports a harness error', () => {
  // Attack: outcome() runs a verify job that reported a harness error again instead of counting it,
  // but the claim's runs read from the ledger afterwards (runsOf) counted it as a failed run of the
  // claim: two verifiers' harness errors "agreed" with each other against the claim, so an honest
  // improvement needed more owners than the class had and was discarded (or, with enough owners, the
  // pair was outvoted and faulted for a harness error, which faults nobody).
  it('is no vote against the claim: two of them do not get an honest improvement discarded', async () => {
    const w = world(['mallory', 'mel']);
    const ran = await play(w, ['mallory', 'mel'], harnessError, ['verify']);
    expect(ran.slice(1, 3).sort()).toEqual(['verify mallory', 'verify mel']);
    expect(w.entries('experiment_discarded').filter((e) => e.data.pr === 7).map((e) => e.data.reason)).toEqual([]);
    expect(w.entries('experiment_merged').map((e) => e.data.pr)).toEqual([7]);
  });
});

describe('a replay that reports a harness error', () => {
  // A harness error is no replay either: it was counted as a replay that reproduced nothing (a
  // failed run agrees with none), so the dispute it opened took two more owners' replays and
  // faulted its owner, who had only reported that the harness failed on its machine (an honest
  // machine missing a data shard fails every job so: two faults, a ban and the forfeit of its credits).
  it('opens no dispute and faults nobody: the replay runs again elsewhere', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.993, { tamper: WASM });
    const r1 = w.gh.dispatches[1];
    expect(r1.inputs.replay).not.toBe('');
    const flaky = runnerFor(w, r1);
    await w.complete(r1, flaky, 1.993, { tamper: (r: any) => harnessError.tamper(WASM(r)) });
    for (let k = 2; k < w.gh.dispatches.length && !w.entries('replay_judged').length; k++) {
      const d = w.gh.dispatches[k];
      expect(runnerFor(w, d)).not.toBe(flaky);
      await w.complete(d, runnerFor(w, d), 1.993, { tamper: WASM });
    }
    const [judged] = w.entries('replay_judged');
    expect(judged.data).toMatchObject({ verdict: 'agreed', outvoted: [] });
    expect(judged.data.replay_job_ids).toHaveLength(1);
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });
});

describe('the replays of a baseline or verify run (side replays)', () => {
  // Attack: a side replay goes to an idle eligible owner's runner, else to the class's label, which
  // any runner of the class takes, those of owners who must not replay the run too. A run is given
  // up (never counts, never paid) after SIDE_REPLAY_ATTEMPTS replay jobs came back without a verdict.
  // Mallory, whose runner was idle while bob's was busy, took the first (targeted at her) and then
  // every one sent to the class's label, handing back nothing: alice's honest baseline run was dropped.
  it('one owner cannot get an honest run dropped by taking its replays and handing back nothing', async () => {
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nbaseline_runs: 3\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-m', 'mallory')] });
    online(w, 'runner-m', 'mallory');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
    const base = w.gh.dispatches.find((d) => d.inputs.role === 'baseline')!;
    busy(w, 'runner-b');
    await w.complete(base, 'runner-a', 2.0, { tamper: WASM }); // alice is on probation: her run awaits a replay
    const labels: string[] = [];
    const seen = new Set<string>();
    for (let k = 0; k < 12; k++) {
      const d = w.gh.dispatches.find((x) => x.inputs.replay && !seen.has(x.inputs.nonce));
      if (!d) break;
      seen.add(d.inputs.nonce);
      labels.push(d.inputs.runner_label);
      if (d.inputs.runner_label === 'owner-bob') {
        await w.complete(d, 'runner-b', 2.0, { tamper: WASM });
        break;
      }
      busy(w, 'runner-b');
      await w.complete(d, 'runner-m', 2.0, nothing);
    }
    expect(runStanding(viewOf(w.ledger()), base.inputs.nonce)).toBe('counts');
    expect(w.entries('replay_judged').map((e) => [e.data.job_id, e.data.verdict])).toEqual([[base.inputs.nonce, 'agreed']]);
    // one sent to her, two to the class's label; then only to an eligible owner, though busy
    expect(labels).toEqual(['owner-mallory', CLASS, CLASS, 'owner-bob']);
    expect(w.entries('owner_faulted')).toEqual([]);
  });
});
