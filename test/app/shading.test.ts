// Shading inside the replay tolerance (docs/trust.md 2b, "Shading"; ledger/shading.ts). On a class
// compared by val_bpb an owner who trains and reports every score 0.015 worse passes each replay
// (0.015 < replay_tolerance 0.02) and was never faulted: in the simulator four such owners on the
// GPU class cut the 3σ improvements merged from 96% to 49%. Attack first: before this change the
// shader below was never faulted. Now its pattern is: four replayed discards, all on the side that
// hurts improvements by 2.6 standard errors of an honest same-seed pair each, fault it.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, busy, runnerFor, trustWorld, World } from './world.js';
import { appendEntries, auditLedger, type LedgerEntry } from '../../ledger/index.js';
import { shadingTest, shadingCrossed, sampleSigma, SHADING_Z } from '../../ledger/shading.js';

auditEachWorld();


/** PR `n`: mallory's candidate run reports `reported`; the replay (another owner's) reports `honest`. */
async function discardReplayed(w: World, n: number, reported: number, honest: number): Promise<void> {
  // an author per PR: the free tier runs three a day per author
  await w.push(n, `agent-${n}`, { 'trainer/train.ts': `export const LR = ${n}e-4;\n` });
  busy(w, 'runner-a', 'runner-b', 'runner-c');
  const first = w.gh.dispatches.filter((d) => d.inputs.pr === String(n))[0];
  if (!first) throw new Error(`no dispatch for PR ${n}: ${JSON.stringify(w.gh.labelsOf(n))} ${w.gh.dispatches.map((d) => `${d.inputs.pr}/${d.inputs.role}`).join(" ")}`);
  await w.complete(first, 'runner-m', reported);
  busy(w);
  const replay = w.gh.dispatches.filter((d) => d.inputs.pr === String(n)).at(-1)!;
  expect(replay.inputs.replay).not.toBe('');
  await w.complete(replay, runnerFor(w, replay), honest);
}

/** PR `n`: mallory's candidate run reports `reported`; every replay of it (other owners') reports `honest`, until none is asked for. */
async function replayedToTheEnd(w: World, n: number, reported: number, honest: number): Promise<void> {
  await w.push(n, `agent-${n}`, { 'trainer/train.ts': `export const LR = ${n}e-4;\n` });
  busy(w, 'runner-a', 'runner-b', 'runner-c');
  const ofPr = () => w.gh.dispatches.filter((d) => d.inputs.pr === String(n));
  await w.complete(ofPr()[0], 'runner-m', reported);
  const done = new Set([ofPr()[0].inputs.nonce]);
  for (let more = ofPr().filter((d) => !done.has(d.inputs.nonce)); more.length; more = ofPr().filter((d) => !done.has(d.inputs.nonce))) {
    for (const d of more) {
      done.add(d.inputs.nonce);
      busy(w);
      await w.complete(d, runnerFor(w, d), honest);
    }
  }
}

describe('shading inside the replay tolerance', () => {
  // The flat-scores finding of session 20 (test/app/flat-scores.test.ts), on the shading test: a
  // fault of another kind (a replay that outvoted a run) threw away the replayed scores the shading
  // test had gathered, and a shader who also guesses now and then started again from none. Before:
  // no second fault on the fourth shaded replay, the shader kept its trust's worth of credit.
  it('a replay that outvotes a run does not reset the shading samples: the next shaded replay bans', async () => {
    const w = trustWorld();
    for (let n = 1; n <= 3; n++) await discardReplayed(w, n, 2.02, 2.005);
    await replayedToTheEnd(w, 4, 2.08, 2.005);
    expect(w.entries('owner_faulted').map((e) => [e.data.login, !!e.data.shading])).toEqual([['mallory', false]]);
    await discardReplayed(w, 5, 2.02, 2.005);
    const faults = w.entries('owner_faulted');
    expect(faults.map((e) => e.data.login)).toEqual(['mallory', 'mallory']);
    expect(faults[1].data.shading).toMatchObject({ n: 4 });
    expect(w.entries('owner_banned').map((e) => e.data.login)).toEqual(['mallory']);
  });

  it('an owner whose replayed scores all sit 0.015 worse than their replays is faulted on the fourth, and its unconfirmed credit reversed', async () => {
    const w = trustWorld();
    for (let n = 1; n <= 3; n++) await discardReplayed(w, n, 2.02, 2.005);
    expect(w.entries('replay_judged').map((e) => e.data.verdict)).toEqual(['agreed', 'agreed', 'agreed']);
    expect(w.entries('owner_faulted')).toEqual([]);
    await discardReplayed(w, 4, 2.02, 2.005);
    const [fault] = w.entries('owner_faulted');
    expect(fault?.data).toMatchObject({ login: 'mallory', shading: { n: 4 } });
    expect(fault.data.shading!.z).toBeGreaterThanOrEqual(SHADING_Z);
    expect(fault.data.reason).toMatch(/^shading: mallory's last 4 replayed scores sat 15\.0 mbpb/);
    expect(w.entries('credit_reversed').some((e) => e.data.login === 'mallory')).toBe(true);
  });

  it('an honest owner, whose replays differ both ways, is not', async () => {
    const w = trustWorld();
    const noise = [0.006, -0.004, 0.007, -0.005, 0.003, 0.008];
    for (let n = 1; n <= noise.length; n++) await discardReplayed(w, n, 2.005 + noise[n - 1], 2.005);
    expect(w.entries('replay_judged')).toHaveLength(noise.length);
    expect(w.entries('owner_faulted')).toEqual([]);
    // the audit refuses a shading fault its samples do not support
    const entries = w.ledger();
    const forged = appendEntries(entries, [{ type: 'owner_faulted', data: { login: 'mallory', job_id: (entries.find((e) => e.type === 'replay_judged')!.data as { job_id: string }).job_id, claim_job_id: 'x', agreed_job_ids: ['a', 'b', 'c', 'd'], reason: 'shading', shading: { n: 4, mean: 0.015, sigma: 0.0057, z: 5.2 } }, time: w.clock.toISOString() }] as never);
    const audit = auditLedger([...entries, ...forged] as LedgerEntry[], { freeRunsPerDay: 3 });
    expect(audit.ok ? 'ok' : audit.problem).toMatch(/owner_faulted of mallory for shading, but its replayed scores do not cross the shading test/);
  });

  it('the test: an honest owner\'s running mean rarely crosses; a shader of 0.018 crosses within its first six replays', () => {
    const sigma = sampleSigma(0.02, 1);
    expect(sigma).toBeCloseTo(0.02 / 3.5, 9);
    // honest: 2,000 owners of 200 samples each, N(0, sigma), tested after every sample
    let seed = 12345;
    const u = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
    const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    let crossed = 0;
    for (let o = 0; o < 2000; o++) {
      const xs: { job_id: string; value: number; sigma: number }[] = [];
      for (let i = 0; i < 200; i++) {
        xs.push({ job_id: `${o}-${i}`, value: normal() * sigma, sigma });
        if (shadingCrossed(shadingTest(xs))) {
          crossed++;
          break;
        }
      }
    }
    expect(crossed).toBeLessThanOrEqual(1);
    let caught = 0;
    for (let o = 0; o < 200; o++) {
      const xs = Array.from({ length: 6 }, (_, i) => ({ job_id: `${o}-${i}`, value: 0.018 + normal() * sigma, sigma }));
      if (xs.some((_, i) => shadingCrossed(shadingTest(xs.slice(0, i + 1))))) caught++;
    }
    expect(caught / 200).toBeGreaterThan(0.95);
  });
});
