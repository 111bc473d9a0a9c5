// Replays in the simulator, end to end (the real App against the faked GitHub): a trust check
// re-runs a result with its seeds and schedule (docs/trust.md, "Replays"). A lazy runner, whose
// plausible scores agree with any fresh-seed re-run of a null change, cannot survive a replay on a
// deterministic class: it is faulted and banned. Honest owners, whose results replay bit for bit
// (or within the replay noise on a GPU), are never faulted by one.
import { describe, it, expect } from '@jest/globals';
import { Swarm } from '../../sim/swarm.js';

const small = { experiments: 30, owners: 6, authors: 5, arrivalSeconds: 120, checkEvery: 0, maxDays: 3 };
const only = (kind: string) => ({ forger: 0, lazy: 0, saboteur: 0, class_liar: 0, sybil: 0, colluder: 0, [kind]: 1 });

describe('replays in a seeded swarm run', () => {
  it('a lazy runner (on the CPU class) is caught by a replay and banned', async () => {
    // eight owners, four per class: outvoting the lazy one takes three others who agree (trust.outvote_quorum)
    const f = await new Swarm({ ...small, owners: 8, seed: 2, adversaries: 1 / 8, mix: only('lazy') }).run();
    expect(f.adversaries).toBe(1);
    expect(f.replays).toBeGreaterThan(0);
    expect(f.replay_faults).toBeGreaterThanOrEqual(2);
    expect(f.replay_faults_honest).toBe(0);
    expect(f.adversaries_banned).toBe(1);
    expect(f.owners_refused).toEqual(['lazy-0']);
    expect(f.lazy_credit_share).toBeLessThan(0.02);
  }, 300_000);

  it('without adversaries no honest owner is faulted by a replay', async () => {
    const f = await new Swarm({ ...small, seed: 4, adversaries: 0 }).run();
    expect(f.replays).toBeGreaterThan(0);
    expect(f.replay_faults).toBe(0);
    expect(f.owners_refused).toEqual([]);
  }, 300_000);
});
