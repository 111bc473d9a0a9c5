// Red team: a runner owner who takes an honest PR's runs and holds each one until its deadline (the
// runner sleeps, or keeps the job in progress), handing back nothing. The App closed the job as late
// and ran it again with the plain attempt count on the same labels: the holder's idle runner took
// it again, each hold used up one of its max_attempts at no cost to the holder (no fault, no
// credit, and nothing counted against it), and the honest PR was given up after max_attempts,
// each attempt a deadline late. A hold is a refusal by its owner (app/policy/refusals.ts), as a
// bounce (test/app/red-team-bounce.test.ts) is: the next attempt avoids the owner.
import { describe, expect, it } from '@jest/globals';
import { auditEachWorld, busy, CLASS, online, reg, runnerFor, trustWorld, World } from './world.js';
import { viewOf } from '../../app/ledger-view.js';
import { runStanding } from '../../app/policy/side-replays.js';
import { givingBack } from '../../app/policy/pace.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const DEADLINE = 30;
const QUEUE_LIMIT = 60;
const minutes = (w: World, m: number) => (w.clock = new Date(w.clock.getTime() + m * 60_000));
/** A run on a deterministic backend (the harness's wasm kernels on 2 threads). */
const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });

auditEachWorld();

/** alice and bob (honest) and the given holders, all registered and online on the class */
function world(holders: string[]): World {
  const w = new World({ config: `max_in_flight: 10\ndeadline_minutes: ${DEADLINE}\nqueue_limit_minutes: ${QUEUE_LIMIT}\n` });
  w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), ...holders.map((o) => reg(`runner-${o}`, o)), { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
  for (const o of holders) online(w, `runner-${o}`, o);
  return w;
}

/**
 * Every dispatch of PR 7 in turn, until it is merged or discarded: one targeted at an honest owner's
 * label is run by it (an honest score of a real improvement); any other is taken by a holder's idle
 * runner (the one it targets, else each in turn) and held past its deadline (hold); one targeted at
 * a staller's label is never taken (its runner went offline, or stays busy) past the queue limit.
 */
async function play(w: World, holders: string[], prompt: boolean, stallers: string[] = []): Promise<string[]> {
  const honest: Record<string, string> = { 'owner-alice': 'runner-a', 'owner-bob': 'runner-b' };
  const decided = () => w.entries('experiment_merged').length + w.entries('experiment_discarded').length > 0;
  busy(w, ...Object.values(honest));
  await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
  const ran: string[] = [];
  // (the dispatches grow as the loop goes: each of PR 7's, in order, until it is decided)
  for (const d of w.gh.dispatches) {
    if (decided() || ran.length >= 40) break;
    if (d.inputs.pr !== '7') continue;
    const by = honest[d.inputs.runner_label] ?? `runner-${holders.find((o) => d.inputs.runner_label === `owner-${o}`) ?? holders[ran.length % holders.length]}`;
    const stalled = stallers.find((o) => d.inputs.runner_label === `owner-${o}`);
    ran.push(`${d.inputs.role} ${stalled ? `${stalled} (queued)` : by}`);
    if (stalled) {
      minutes(w, QUEUE_LIMIT + 1);
      await w.tick();
    } else if (honest[d.inputs.runner_label]) await w.complete(d, by, 1.9);
    else await hold(w, d, by, prompt);
    busy(w, ...Object.values(honest));
  }
  return ran;
}

describe('a runner owner who holds jobs until their deadline', () => {
  for (const prompt of [false, true]) {
    it(`cannot get an honest improvement given up by holding its runs (${prompt ? 'taken at once: the start read by the tick' : 'a recorded start'})`, async () => {
      const w = world(['mallory']);
      const ran = await play(w, ['mallory'], prompt);
      // mallory held its first run and was drawn to verify it, and held that too; each next attempt went elsewhere
      expect(ran).toEqual(['candidate runner-mallory', expect.stringMatching(/^candidate runner-[ab]$/), 'verify runner-mallory', expect.stringMatching(/^verify runner-[ab]$/)]);
      expect(w.entries('experiment_discarded').filter((e) => e.data.pr === 7).map((e) => e.data.reason)).toEqual([]);
      expect(w.entries('experiment_merged').map((e) => e.data.pr)).toEqual([7]);
      // each hold is recorded as mallory's (a refusal of hers), was not one of the job's attempts, and earned nothing
      const held = w.entries('result_recorded').filter((r) => r.data.reason?.startsWith(`no result within ${DEADLINE} minutes`));
      expect(held.map((r) => [r.data.role, r.data.runner_owner, r.data.validated])).toEqual([['candidate', 'mallory', false], ['verify', 'mallory', false]]);
      expect(w.entries('credit_granted').map((e) => e.data.login)).not.toContain('mallory');
      // and the holds count toward the runner route's give_backs_per_hour (app/policy/pace.ts givingBack)
      expect(givingBack(w.ledger(), 'mallory', w.clock, 2, 4 * 3_600_000)).toMatchObject({ count: 2, unscored: 2 });
    });
  }

  it('three owners holding its runs in turn cannot either: each one\'s first hold of a job is none of its attempts', async () => {
    const w = world(['mallory', 'mel', 'max']);
    const ran = await play(w, ['mallory', 'mel', 'max'], false);
    expect(ran.slice(0, 3).sort()).toEqual(['candidate runner-mallory', 'candidate runner-max', 'candidate runner-mel']);
    expect(ran[3]).toMatch(/^candidate runner-[ab]$/);
    expect(w.entries('experiment_discarded').filter((e) => e.data.pr === 7).map((e) => e.data.reason)).toEqual([]);
    expect(w.entries('experiment_merged').map((e) => e.data.pr)).toEqual([7]);
  });

  it('an owner whose label a run was sent to and who never took it counts as refusing it: one holding and one stalling do not get it given up', async () => {
    // mel's runner looked idle when the App chose it, then went offline (or stayed busy): the run
    // waited for her label alone until the queue limit, and ran again with one more attempt used
    const w = world(['mallory', 'mel']);
    const ran = await play(w, ['mallory'], false, ['mel']);
    // (sent to her once per job at most: the candidate's run, and its verify run, a job of its own)
    const stalls = ran.filter((r) => r.endsWith('mel (queued)'));
    expect(stalls).toContain('candidate mel (queued)');
    expect(new Set(stalls).size).toBe(stalls.length);
    expect(w.entries('experiment_discarded').filter((e) => e.data.pr === 7).map((e) => e.data.reason)).toEqual([]);
    expect(w.entries('experiment_merged').map((e) => e.data.pr)).toEqual([7]);
  });

  it('a replay held past its deadline runs again on another owner\'s runner, and faults nobody', async () => {
    const w = trustWorld(`max_in_flight: 4\ndeadline_minutes: ${DEADLINE}\nverification:\n  quorum: 1\n`);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.993, { tamper: WASM });
    const r1 = w.gh.dispatches[1];
    expect(r1.inputs.replay).not.toBe('');
    const holder = runnerFor(w, r1);
    await hold(w, r1, holder, false);
    expect(w.entries('result_recorded').at(-1)!.data).toMatchObject({ job_id: r1.inputs.nonce, runner_name: holder, validated: false });
    const next = w.gh.dispatches.slice(2);
    expect(next.map((d) => d.inputs.replay)).toEqual([r1.inputs.replay]);
    expect(next[0].inputs.runner_label).toMatch(/^owner-/);
    expect(runnerFor(w, next[0])).not.toBe(holder);
    await w.complete(next[0], runnerFor(w, next[0]), 1.993, { tamper: WASM });
    const [judged] = w.entries('replay_judged');
    expect(judged.data).toMatchObject({ verdict: 'agreed', outvoted: [] });
    expect(w.entries('owner_faulted')).toEqual([]);
  });

  it('the replays of a baseline run held in turn by one owner do not get an honest run dropped', async () => {
    // test/app/red-team-bounce.test.ts's side replays, held instead of handed back: mallory's idle
    // runner took each replay sent to her or to the class's label and held it to its deadline
    const w = new World({ trust: 'policy', config: `max_in_flight: 10\ndeadline_minutes: ${DEADLINE}\nbaseline_runs: 3\nverification:\n  quorum: 1\n  min_sigma_df: 0\n`, seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-m', 'mallory')] });
    online(w, 'runner-m', 'mallory');
    const base = await probationBaseline(w);
    const sent = new Set<string>();
    const next = () => w.gh.dispatches.find((x) => x.inputs.replay && !sent.has(x.inputs.nonce));
    for (let d = next(); d && sent.size < 14; d = next()) {
      sent.add(d.inputs.nonce);
      if (d.inputs.runner_label === 'owner-bob') await w.complete(d, 'runner-b', 2.0, { tamper: WASM });
      else await hold(w, d, 'runner-m', false, () => busy(w, 'runner-b'));
    }
    expect(runStanding(viewOf(w.ledger()), base.inputs.nonce)).toBe('counts');
    expect(w.entries('replay_judged').map((e) => [e.data.job_id, e.data.verdict])).toEqual([[base.inputs.nonce, 'agreed']]);
    expect(w.gh.dispatches.filter((x) => sent.has(x.inputs.nonce)).map((x) => x.inputs.runner_label)).toEqual(['owner-mallory', CLASS, CLASS, 'owner-bob']);
    expect(w.entries('owner_faulted')).toEqual([]);
  });
});

/** PR 7 run by alice, and the baseline run it asked for by alice too (bob busy): on probation, her run awaits a replay. */
async function probationBaseline(w: World) {
  await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
  await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
  const base = w.gh.dispatches.find((d) => d.inputs.role === 'baseline')!;
  busy(w, 'runner-b');
  await w.complete(base, 'runner-a', 2.0, { tamper: WASM });
  return base;
}

/**
 * `runner` takes the dispatch's run (at once: `prompt`, the App records no start and the tick reads
 * it from GitHub; else minutes later, recorded by the workflow_job event) and holds it past its
 * deadline; `before` runs before the tick that closes it.
 */
async function hold(w: World, d: { inputs: Record<string, string>; run_id?: number }, runner: string, prompt: boolean, before = () => {}): Promise<void> {
  minutes(w, prompt ? 1 : 3);
  await w.start(d, runner);
  minutes(w, DEADLINE + 1);
  before();
  await w.tick();
}
