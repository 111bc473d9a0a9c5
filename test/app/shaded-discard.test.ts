// A saboteur who trains but reports a score shaded worse by less than trust.replay_tolerance. On a
// class compared by val_bpb (GPU kernels are not bit-exact: docs/trust.md, "Replays") its replay
// "agrees", and the App used to let the shaded discard stand, though the honest replay's own score
// passed the screen: a real improvement was discarded with every check passed. The simulator found
// it (sim/swarm.ts, the lazy GPU owner's made-up discards within 0.02 of the truth: 7 of the 33
// misses in 464 isolated 3-sigma improvements). Now a discard stands only if every run of the
// agreeing group fails the screen; else the experiment is a claim, verified by fresh-seed runs of
// other owners like any other.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, busy, runnerFor, trustWorld } from './world.js';

auditEachWorld();


describe('a discard shaded within the replay tolerance (a class compared by val_bpb)', () => {
  // baseline 2.0, sigma 0.01, n 41, the default screen 0.8: a first run is a claim below 2.0 - 0.8 * 0.01 * sqrt(1 + 1/41) = 1.9919
  it('the honest replay passes the screen: the experiment is verified by a fresh-seed run of another owner instead of discarded', async () => {
    const w = trustWorld(undefined, [], { screen: 'default' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 3e-3;\n' });
    busy(w, 'runner-b', 'runner-c');
    // mallory trained to 1.975 and reports 1.993: 0.018 worse, inside replay_tolerance 0.02
    await w.complete(w.gh.dispatches[0], 'runner-m', 1.993);
    const replay = w.gh.dispatches[1];
    expect(replay.inputs).toMatchObject({ pr: '7', role: 'verify' });
    expect(replay.inputs.replay).not.toBe('');
    busy(w);
    await w.complete(replay, runnerFor(w, replay), 1.975);
    expect(w.entries('replay_judged')[0].data).toMatchObject({ by: 'val_bpb', verdict: 'agreed', outvoted: [] });
    expect(w.entries('experiment_discarded')).toEqual([]);
    const fresh = w.gh.dispatches[2];
    expect(fresh?.inputs).toMatchObject({ pr: '7', role: 'verify', replay: '' });
    expect(['runner-m', runnerFor(w, replay)]).not.toContain(runnerFor(w, fresh));
    // honest fresh-seed runs of other owners merge it (the shaded claim still counts in their mean)
    for (let i = 2; i < 8 && !w.entries('experiment_merged').length; i++) {
      const d = w.gh.dispatches[i];
      if (!d || d.inputs.pr !== '7') break;
      await w.complete(d, runnerFor(w, d), 1.975);
    }
    expect(w.entries('experiment_merged')).toHaveLength(1);
  });

  it('a discard whose honest replay also fails the screen stands, as before', async () => {
    const w = trustWorld(undefined, [], { screen: 'default' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 3e-3;\n' });
    busy(w, 'runner-b', 'runner-c');
    await w.complete(w.gh.dispatches[0], 'runner-m', 2.004);
    const replay = w.gh.dispatches[1];
    busy(w);
    await w.complete(replay, runnerFor(w, replay), 1.995);
    expect(w.entries('replay_judged')[0].data).toMatchObject({ by: 'val_bpb', verdict: 'agreed' });
    expect(w.entries('experiment_discarded')).toHaveLength(1);
    expect(w.gh.dispatches).toHaveLength(2);
  });
});
