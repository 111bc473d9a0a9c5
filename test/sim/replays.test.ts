// Replays in the simulator, end to end (the real App against the faked GitHub): a trust check
// re-runs a result with its seeds and schedule (docs/trust.md, "Replays"). A lazy runner, whose
// plausible scores agree with any fresh-seed re-run of a null change, cannot survive a replay on a
// deterministic class: it is faulted and banned. Honest owners, whose results replay bit for bit
// (or within the replay noise on a GPU), are never faulted by one.
import { beforeAll, describe, it, expect } from '@jest/globals';
import { Swarm, type Figures } from '../../sim/swarm.js';

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

  describe('without adversaries', () => {
    // one run read by both tests below (the second was a 12-PR run of its own in simulate.test.ts)
    let f: Figures;
    beforeAll(async () => {
      f = await new Swarm({ ...small, seed: 4, adversaries: 0 }).run();
    }, 300_000);

    it('no honest owner is faulted by a replay', () => {
      expect(f.replays).toBeGreaterThan(0);
      expect(f.replay_faults).toBe(0);
      expect(f.owners_refused).toEqual([]);
    });

    it('no credit goes to one', () => {
      expect(f.adversaries).toBe(0);
      expect(f.adversary_credit_share).toBe(0);
      // a small swarm queues jobs behind its few runners: a queued run is not late, so none is
      // dispatched twice or given up (cancelling overdue queued runs, counted from their dispatch,
      // once sent every job to the back of the queue until all 12 PRs of a run were given up)
      expect([f.jobs_overdue, f.jobs_queue_limit, f.given_up]).toEqual([0, 0, 0]);
      expect(f.discarded + f.merges).toBe(small.experiments);
    });
  });
});
