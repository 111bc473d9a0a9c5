// Realistic ledger entries for tests: results pass the real result schema (trainer/result.ts).
import { ExperimentResult } from '../../trainer/result.js';
import type { NewEntry } from '../../ledger/index.js';

export const sha40 = (n: number) => n.toString(16).padStart(40, '0');
export const T0 = Date.parse('2026-03-02T10:00:00.000Z');
export const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

export function result(o: { hardware_class: string; train_seconds: number; val_bpb?: number; job_id: string; tokens_per_second?: number }): ExperimentResult {
  const tps = o.tokens_per_second ?? 20_000;
  return ExperimentResult.parse({
    schema_version: 1,
    harness_version: '1.0.0',
    status: 'ok',
    failure: null,
    val_bpb: o.val_bpb ?? 2.1,
    unigram_bpb: 4.5,
    bigram_bpb: 3.6,
    eval_bytes: 262_144,
    eval_split: 'heldout',
    dataset: 'brown',
    steps: 1200,
    tokens: Math.round(tps * o.train_seconds),
    budget_seconds: 300,
    train_seconds: o.train_seconds,
    total_seconds: o.train_seconds + 12.5,
    tokens_per_second: tps,
    params: 110_848,
    backend: 'tensorflow',
    device: 'NVIDIA A10G (CUDA)',
    hardware_class: o.hardware_class,
    peak_memory_mb: 812,
    seed: 1,
    eval_seed: 4242,
    candidate_sha256: 'c'.repeat(64),
    harness_sha256: 'd'.repeat(64),
    loss_curve: [
      { step: 0, t: 0, loss: 5.55 },
      { step: 600, t: o.train_seconds / 2, loss: 2.4 },
      { step: 1200, t: o.train_seconds, loss: 1.6 },
    ],
    started_at: '2026-03-02T10:00:00.000Z',
    finished_at: '2026-03-02T10:05:12.500Z',
    job: { role: 'candidate', nonce: `nonce-${o.job_id}`, repo: 'octo-org/swarm', pr: 7, sha: sha40(7), run_id: 99, runner_name: 'rig-1', isolation: 'docker' },
  });
}

export const baseline = (hardware_class: string, tokens_per_second: number, sha = sha40(1), time?: string): NewEntry<'baseline_recorded'> => ({
  type: 'baseline_recorded',
  time,
  data: { hardware_class, sha, mean: 2.2, sigma: 0.01, n: 3, tokens_per_second, job_ids: [`base-${hardware_class}`] },
});

export const dispatched = (job_id: string, author: string | null, o: { pr?: number; time?: string; role?: 'candidate' | 'verify' | 'baseline' } = {}): NewEntry<'job_dispatched'> => ({
  type: 'job_dispatched',
  time: o.time,
  data: {
    job_id,
    role: o.role ?? 'candidate',
    repo: 'octo-org/swarm',
    pr: o.pr ?? 7,
    sha: sha40(7),
    author,
    hardware_class: null,
    eval_seed: 4242,
    budget_seconds: 300,
    attempt: 1,
    verifies: null,
  },
});

export const recorded = (
  job_id: string,
  runner_owner: string,
  o: { hardware_class?: string; train_seconds?: number; validated?: boolean; val_bpb?: number; author?: string; time?: string } = {},
): NewEntry<'result_recorded'> => ({
  type: 'result_recorded',
  time: o.time,
  data: {
    job_id,
    role: 'candidate',
    pr: 7,
    sha: sha40(7),
    title: 'Raise the learning rate',
    author: o.author ?? 'agent-alice',
    runner_name: `${runner_owner}-rig`,
    runner_owner,
    run_url: 'https://github.com/octo-org/swarm/actions/runs/99',
    validated: o.validated ?? true,
    reason: o.validated === false ? 'harness hash differs from main' : null,
    result: result({ hardware_class: o.hardware_class ?? 'gpu-a10g', train_seconds: o.train_seconds ?? 300, val_bpb: o.val_bpb, job_id }),
    diff_path: `diffs/${sha40(7)}.diff`,
    diff_sha256: 'e'.repeat(64),
    log_excerpt: 'step 1200 loss 1.60',
  },
});

export const verification = (job_id: string, agreed: boolean): NewEntry<'verification'> => ({
  type: 'verification',
  data: { job_id, verify_job_id: `${job_id}-v`, agreed, claim_bpb: 2.1, verify_bpb: agreed ? 2.101 : 2.4, tolerance: 0.01 },
});

export const spent = (login: string, amount: number, job_id: string, reason = 'experiment'): NewEntry<'credit_spent'> => ({
  type: 'credit_spent',
  data: { login, amount, job_id, reason },
});
