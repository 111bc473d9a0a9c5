import { describe, it, expect } from '@jest/globals';
import { ExperimentResult, type LossPoint } from '../../trainer/result.js';
import { downsample, lossChart, renderSummary, sparkline } from '../../action/src/summary.js';

const curve: LossPoint[] = Array.from({ length: 500 }, (_, i) => ({ step: i + 1, t: i / 100, loss: 5.5 - i / 200 }));
const ok = ExperimentResult.parse({
  schema_version: 1,
  harness_version: '1.0.0',
  status: 'ok',
  failure: null,
  val_bpb: 2.3456,
  unigram_bpb: 4.47,
  bigram_bpb: 3.52,
  eval_bytes: 200000,
  eval_split: 'heldout',
  dataset: 'brown',
  steps: 500,
  tokens: 1024000,
  budget_seconds: 300,
  train_seconds: 300.2,
  total_seconds: 321,
  tokens_per_second: 3411,
  params: 135168,
  backend: 'tensorflow',
  device: 'NVIDIA H100 80GB HBM3 (CUDA, driver 550.54)',
  hardware_class: 'gpu-h100-80gb',
  peak_memory_mb: 2100,
  seed: 1337,
  eval_seed: 42,
  candidate_sha256: 'a'.repeat(64),
  harness_sha256: 'b'.repeat(64),
  loss_curve: curve,
  started_at: '2026-11-24T00:00:00Z',
  finished_at: '2026-11-24T00:05:21Z',
  job: { role: 'candidate', nonce: 'n-12345678', repo: 'acme/ar', pr: 7, sha: 'c'.repeat(40), run_id: 1, runner_name: 'r', isolation: 'docker' },
});
const base = { hardware: 'NVIDIA H100', hardwareClass: 'gpu-h100-80gb', diff: '', ignored: [], baseSha: 'd'.repeat(40) };

describe('renderSummary', () => {
  it('shows the score against its references, the hardware and the curve', () => {
    const md = renderSummary({ ...base, result: ok });
    expect(md.startsWith('## val_bpb 2.3456 · candidate #7 @ `cccccccccccc`\n')).toBe(true);
    expect(md).toContain('| unigram reference | 4.4700 |');
    expect(md).toContain('| tokens/s | 3,411 |');
    expect(md).toContain('| hardware class | `gpu-h100-80gb` |');
    expect(md).not.toContain('ISOLATION: NONE');
    expect(md).toContain('(identical to the default branch)');
  });

  it('puts a failure message in a fence it cannot break out of, and clips what GitHub would drop', () => {
    const failed = { ...ok, status: 'failed' as const, val_bpb: null, failure: { kind: 'crash' as const, message: 'boom ```\n<script>x</script>\n' + 'y'.repeat(10_000) } };
    const md = renderSummary({ ...base, result: failed, diff: '+'.repeat(300_000) });
    expect(md).toContain('## ❌ Failed (crash)');
    expect(md).toContain('````text\nboom ```\n<script>');
    expect(md).toMatch(/… \(\d+ more characters\)\n````/);
    expect(md).toContain('… (100000 more characters)');
    expect(md.length).toBeLessThan(250_000);
  });
});

describe('the loss curve', () => {
  it('downsamples evenly and keeps the first and last points', () => {
    const d = downsample(curve, 40);
    expect(d).toHaveLength(40);
    expect(d[0]).toBe(curve[0]);
    expect(d.at(-1)).toBe(curve.at(-1));
  });

  it('is a mermaid xychart over the step range, and a sparkline from high to low', () => {
    const chart = lossChart(curve);
    expect(chart).toMatch(/^```mermaid\nxychart-beta\n/);
    expect(chart).toContain('x-axis "step" 1 --> 500');
    expect(chart).toContain('y-axis "loss" 3 --> 5.5');
    const line = sparkline(curve);
    expect(line[0]).toBe('█');
    expect(line.at(-1)).toBe('▁');
    expect(lossChart([{ step: 1, t: 0, loss: Number.NaN }])).toBe('(no finite loss values)');
  });
});
