// A candidate that sees its run going badly (it can compute its own loss on the windows it is
// given) must not be able to make the run leave no result, which runs the job again elsewhere:
// whatever it does, the harness ends the run by a deadline computed from the dispatch, with a
// failure that is the candidate's (a discard), never a job cancelled or killed without a result.
import { describe, expect, it } from '@jest/globals';
import { runDeadlineSeconds } from '../../trainer/run-deadline.js';
import { expectFailure, runHarness } from './run-harness.js';

describe('the run deadline', () => {
  it('an eval process that stalls when its loss looks bad fails as a timeout by the run deadline, not after the job is cancelled', async () => {
    const limits = { backendSeconds: 8, stopSeconds: 2, evalFloorSeconds: 4, evalShare: 0.5 };
    const deadline = runDeadlineSeconds(1.5, false, limits);
    // before: the eval allowance grew with the measured step (8 x 0.2 s for each of 256 one-row
    // batches, ~7 minutes here; hours with 1 s steps on a CPU class) and nothing capped the run
    const { result, outDir } = await runHarness('attacks/eval-stall.ts', { budgetSeconds: 1.5, deadlineLimits: limits });
    expectFailure(result, outDir, 'timeout', /the run did not finish within \d+s of the candidate's start, the most a run of a 1\.5s budget may take/);
    expect(result.total_seconds).toBeLessThan(deadline + 5);
  }, 60_000);

  it('grows with the budget and triples the training span of a replay', () => {
    expect(runDeadlineSeconds(300, true) - runDeadlineSeconds(300, false)).toBeGreaterThanOrEqual(600);
    expect(runDeadlineSeconds(900, false)).toBeGreaterThan(runDeadlineSeconds(300, false));
  });
});
