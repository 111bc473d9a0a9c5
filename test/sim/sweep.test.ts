import { parseVariant, pooled, table, wilson, type Cell } from '../../sim/sweep.js';

describe('simulate:sweep', () => {
  it('reads a variant as a name and the settings it passes to every run', () => {
    expect(parseVariant('short probation: --set trust.replicate_until=5 --set baseline_runs=8')).toEqual(['short probation', ['--set', 'trust.replicate_until=5', '--set', 'baseline_runs=8']]);
    expect(() => parseVariant('--set a=b')).toThrow(/must read "name: --set key=value/);
  });

  it('prints one row per run, the failed ones with their error', () => {
    const cells: Cell[] = [
      { variant: 'defaults', seed: 1, adversaries: 0.2, figures: { false_merges: 0, seed_only_merged: 0, true_improvements_merged_pct: 90, opened_improvements_merged_pct: 8.9, adversary_credit_share: 0.0168, adversaries_banned: 4, adversaries: 4, verification_overhead: 1.627, overhead_by_kind: { baseline: 0.265, replay: 0.175 }, api_calls_per_experiment: 29.5, replay_faults_honest: 0, honest_faulted: 1, honest_banned: 0 } },
      { variant: 'defaults', seed: 2, adversaries: 0.4, figures: null, error: 'exit 2: simulate: --set x' },
    ];
    const t = table(cells).split('\n');
    expect(t).toHaveLength(4);
    expect(t[2]).toBe('| defaults | 20% | 1 | 0 | 0 | 90% / 8.9% | 0.0168 | 4 of 4 | 1.627 | baseline 0.265, replay 0.175 | 29.5 | 1 (0) / 0 |');
    expect(t[3]).toContain('failed: exit 2: simulate: --set x');
  });

  it('pools the 3σ improvements over the seeds of a setting, with a 95% Wilson interval', () => {
    const f = (k: number, n: number, credit: number, overhead: number) => ({ false_merges: 0, seed_only_merged: 0, true_improvements: n, true_improvements_merged: k, adversary_credit_share: credit, verification_overhead: overhead });
    const cells: Cell[] = [
      { variant: 'defaults', seed: 1, adversaries: 0.2, figures: f(9, 11, 0, 1.568) },
      { variant: 'defaults', seed: 2, adversaries: 0.2, figures: f(8, 9, 0.01, 1.549) },
      { variant: 'defaults', seed: 3, adversaries: 0.2, figures: f(9, 9, 0, 1.573) },
      { variant: 'defaults', seed: 1, adversaries: 0.4, figures: f(9, 11, 0.1, 1.5) },
    ];
    // one seed at 40%: nothing to pool
    expect(pooled(cells)).toEqual([
      "defaults 20%, 3 seeds: 3σ improvements merged 26 of 29 (89.7%, 95% interval 73.6-96.4%); false merges 0-0, seed-only 0-0, adversaries' credit 0-0.01, overhead 1.549-1.573",
    ]);
    // Wilson's interval for 0 of 10 and 10 of 10 (Newcombe 1998, table I: 0-0.2775)
    expect(wilson(0, 10).map((x) => +x.toFixed(4))).toEqual([0, 0.2775]);
    expect(wilson(10, 10).map((x) => +x.toFixed(4))).toEqual([0.7225, 1]);
  });
});
