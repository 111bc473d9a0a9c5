// A PR waiting for a baseline that nothing will produce waits for ever (found by the whole-swarm
// test, issue 19: on one machine the first runs of a class all went to one owner, the extra
// baseline run was off pace, its retry was dropped, and the swarm sat idle). A class's baseline
// needs two agreeing owners: the App must keep asking for one, from an owner without a run.
import { describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { auditEachWorld, CLASS, World } from './world.js';

const OTHER = 'export const LR = 1e-3;\n';
const OLD = '2020-01-01T00:00:00Z';

auditEachWorld();

const reg = (name: string, owner: string) => ({
  type: 'runner_registered' as const,
  data: { runner_name: name, owner, hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, `owner-${owner}`], owner_created_at: OLD },
});
const online = (w: World, name: string, owner: string) => w.gh.runners.push({ id: w.gh.runners.length + 1, name, status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', CLASS, `owner-${owner}`] });
const offPace = (r: any) => (r.calibration = { workload: 'matmul-256x256x256x20@tensorflow', before_gflops: 100, after_gflops: 40 });

/** alice's and bob's runners; PR 7 scored by alice, both baseline runs of main by alice too. */
async function oneOwnerBaselines(): Promise<World> {
  // (an App without a seal key: no replays of baseline runs, which have their own tests in replays-more.test.ts)
  const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nbaseline_runs: 2\nverification:\n  min_sigma_df: 0\n', seed: [], seal: false });
  online(w, 'runner-a', 'alice');
  online(w, 'runner-b', 'bob');
  w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob')]);
  await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
  await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
  const [b1, b2] = w.gh.dispatches.slice(1);
  await w.complete(b1, 'runner-a', 2.0);
  await w.complete(b2, 'runner-a', 2.01);
  expect(w.entries('baseline_recorded')).toEqual([]);
  return w;
}

const baselineDispatches = (w: World) => w.gh.dispatches.filter((d) => d.inputs.role === 'baseline');

describe('a PR waiting for a baseline that two owners must agree on', () => {
  it('the extra baseline run goes to an owner who has no run of that commit yet', async () => {
    const w = await oneOwnerBaselines();
    const b3 = baselineDispatches(w)[2];
    expect(b3.inputs).toMatchObject({ role: 'baseline', sha: w.main, runner_label: 'owner-bob' });
  });

  it('an extra baseline run that is rejected (off pace) is asked for again, and the PR is judged once bob agrees', async () => {
    const w = await oneOwnerBaselines();
    const b3 = baselineDispatches(w)[2];
    await w.complete(b3, 'runner-a', 2.02, { tamper: offPace });
    expect(w.entries('result_recorded').at(-1)!.data).toMatchObject({ validated: false, reason: expect.stringMatching(/^off pace/) });
    // at once, or at the latest at the next tick (the reconcile pass repairs what waits)
    if (baselineDispatches(w).length === 3) await w.tick();
    const b4 = baselineDispatches(w)[3];
    expect(b4?.inputs).toMatchObject({ role: 'baseline', sha: w.main });
    await w.complete(b4, 'runner-b', 2.005);
    expect(w.entries('baseline_recorded')).toHaveLength(1);
    expect(w.gh.labelsOf(7)).not.toContain('experiment:waiting-baseline');
  });

  it('an owner whose extra baseline run was rejected is not asked again while another owner can be', async () => {
    const w = await oneOwnerBaselines();
    online(w, 'runner-c', 'carol');
    const b3 = baselineDispatches(w)[2];
    expect(b3.inputs.runner_label).toBe('owner-bob');
    await w.complete(b3, 'runner-b', 2.02, { tamper: offPace });
    await w.tick();
    expect(baselineDispatches(w).at(-1)!.inputs).toMatchObject({ role: 'baseline', sha: w.main, runner_label: 'owner-carol' });
  });

  it('four baseline runs by one owner (twice baseline_runs) still leave the App asking another owner', async () => {
    const w = await oneOwnerBaselines();
    // alice's runner takes the extra runs too (its owner label notwithstanding, as a run nobody else took would)
    for (let i = 2; i < 4; i++) await w.complete(baselineDispatches(w)[i], 'runner-a', 2.0 + i / 100);
    expect(w.entries('baseline_recorded')).toEqual([]);
    await w.tick();
    const next = baselineDispatches(w)[4];
    expect(next?.inputs).toMatchObject({ role: 'baseline', sha: w.main, runner_label: 'owner-bob' });
  });
});
