// The pre-flight pace check in the simulator: a machine busy from the start of a run (the
// simulator's load lasts the whole run) is caught by the harness at its calibration and gives the
// job back after seconds; load that starts mid-run passes the pre-flight and is caught after training
// by the App, as before. Neither is scored, credited or held against its owner.
import { describe, expect, it } from '@jest/globals';
import { Swarm } from '../../sim/swarm.js';

describe('npm run simulate: the pre-flight pace check', () => {
  it('gives back runs busy from the start within seconds, and still refuses runs loaded mid-run after training', async () => {
    const swarm = new Swarm({ seed: 4, experiments: 40, owners: 6, authors: 5, adversaries: 0, arrivalSeconds: 60, checkEvery: 0, maxDays: 3, midRunLoad: 4 });
    const f = await swarm.run();
    expect(f.given_back).toBeGreaterThan(0);
    expect(f.given_back_seconds).toBeLessThanOrEqual(15 * f.given_back);
    expect(f.off_pace_after_training).toBeGreaterThan(0);
    const entries = swarm.ledger();
    const back = entries.filter((e) => e.type === 'result_recorded' && (e.data as any).result?.status === 'off_pace').map((e) => e.data as any);
    // (a give-back whose job was closed meanwhile, a push or a deadline, is not recorded again)
    expect(back.length).toBeGreaterThan(0);
    expect(back.length).toBeLessThanOrEqual(f.given_back);
    for (const r of back) {
      expect(r).toMatchObject({ validated: false, reason: expect.stringMatching(/^off pace before training: .* without training$/) });
      expect(r.result.preflight.gflops).toBeLessThan(r.result.preflight.floor_gflops);
    }
    const ids = new Set(back.map((r) => r.job_id));
    expect(entries.filter((e) => e.type === 'credit_granted' && ids.has((e.data as any).job_id))).toEqual([]);
    expect(entries.filter((e) => e.type === 'owner_faulted')).toEqual([]);
  });
});
