import { parseVariant, table, type Cell } from '../../sim/sweep.js';

describe('simulate:sweep', () => {
  it('reads a variant as a name and the settings it passes to every run', () => {
    expect(parseVariant('short probation: --set trust.replicate_until=5 --set baseline_runs=8')).toEqual(['short probation', ['--set', 'trust.replicate_until=5', '--set', 'baseline_runs=8']]);
    expect(() => parseVariant('--set a=b')).toThrow(/must read "name: --set key=value/);
  });

  it('prints one row per run, the failed ones with their error', () => {
    const cells: Cell[] = [
      { variant: 'defaults', seed: 1, adversaries: 0.2, figures: { false_merges: 0, seed_only_merged: 0, true_improvements_merged_pct: 90, opened_improvements_merged_pct: 8.9, adversary_credit_share: 0.0168, adversaries_banned: 4, adversaries: 4, verification_overhead: 1.627, overhead_by_kind: { baseline: 0.265, replay: 0.175 }, api_calls_per_experiment: 29.5, replay_faults_honest: 0 } },
      { variant: 'defaults', seed: 2, adversaries: 0.4, figures: null, error: 'exit 2: simulate: --set x' },
    ];
    const t = table(cells).split('\n');
    expect(t).toHaveLength(4);
    expect(t[2]).toBe('| defaults | 20% | 1 | 0 | 0 | 90% / 8.9% | 0.0168 | 4 of 4 | 1.627 | baseline 0.265, replay 0.175 | 29.5 | 0 |');
    expect(t[3]).toContain('failed: exit 2: simulate: --set x');
  });
});
