// A simulated swarm's ledger, written with the ledger module's own appendEntries and credit rules:
// runners, baselines, candidate runs (merged after an agreeing verification, discarded, failed,
// rejected), credits and archived diffs (inline in the entry, or, for one PR in FILE_DIFF_EVERY,
// the older way: a file beside the ledger). The tests and `npm run bench:leaderboard` build from it.
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { appendEntries, FREE_TIER_REASON, LedgerState, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import type { ExperimentResult } from '../../trainer/result.js';

export interface SampleOptions {
  experiments: number;
  classes?: string[];
  seed?: number;
  /** points per loss curve (default 256: the harness's cap, MAX_CURVE_POINTS in trainer/supervisor.ts) */
  curvePoints?: number;
  /** lines of each diff (default about 40: a knob and a rewritten schedule function); 'small': the knob alone (about 14) */
  diffSize?: 'real' | 'small';
  start?: Date;
}

export interface SampleLedger {
  entries: LedgerEntry[];
  /** archived diffs beside the ledger, by path (diffs/<sha>.diff): the older form, kept for one PR in FILE_DIFF_EVERY */
  files: Record<string, string>;
}

/** Every this many PRs, the diff is archived the older way, as a file beside the ledger; the others carry it inline. */
export const FILE_DIFF_EVERY = 5;

const AUTHORS = ['alice-agent', 'bob', 'carol-bot', 'dmitri', 'eve-research', 'fatima', 'gus', 'hana-ai'];
const OWNERS = ['lab-north', 'gamer42', 'uni-cluster', 'night-owl', 'rack-room'];
const KNOBS: [string, string[], string][] = [
  ['LR', ['3e-3', '2e-3', '4e-3', '5e-3', '1e-3'], '// peak learning rate'],
  ['N_LAYER', ['2', '3', '4'], ''],
  ['N_EMBD', ['64', '96', '128'], '// C: model width'],
  ['WARMDOWN', ['0.4', '0.3', '0.5', '0.6'], '// fraction of the budget, at the end, spent decaying it linearly'],
  ['WEIGHT_DECAY', ['0.01', '0.05', '0.1', '0'], '// decoupled (AdamW), matrices only'],
];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (text: string, len: number) => createHash('sha256').update(text).digest('hex').slice(0, len);

/** A learning-rate schedule function as a PR might rewrite it: `variant` changes every line's numbers. */
function schedule(variant: number): string[] {
  const k = (x: number) => (x * (1 + (variant % 7) / 10)).toFixed(3);
  const why = variant === 0 ? [] : [
    `// Hypothesis (variant ${variant}): a ${k(1)}x longer warm-down lets the last steps`,
    '// average out the noise of the small batch; measured locally on wasm, 300 s,',
    '// against main, and on the dev split only. The peak learning rate is unchanged;',
    '// only where it starts to fall moves, so a regression points at the schedule.',
    '//',
  ];
  return [
    ...why,
    'function learningRate(progress: number): number {',
    `  const warm = ${k(0.02)}; // fraction of the budget ramping up`,
    `  const down = ${k(0.4)}; // fraction of the budget decaying at the end`,
    `  const floor = ${k(0.05)}; // final learning rate, as a fraction of LR`,
    `  if (progress < warm) return LR * (progress / warm)${variant % 3 ? ` ** ${1 + (variant % 3) / 2}` : ''};`,
    '  if (progress < 1 - down) return LR;',
    '  const t = (progress - (1 - down)) / down;',
    `  const shape = ${variant % 2 ? 'Math.cos((Math.PI / 2) * t)' : '1 - t'}; // ${variant % 2 ? 'cosine' : 'linear'} decay`,
    '  return LR * (floor + (1 - floor) * shape);',
    '}',
    '',
    `// schedule variant ${variant}: tuned on the dev split, ${k(1)} x the default`,
    'const SCHEDULE_CHECK = learningRate(0.5) > 0;',
    '',
  ];
}

/**
 * The train.ts diff changing one hyperparameter, made the way the App archives it (jsdiff); a
 * real-size one also rewrites a schedule function, about 40 lines in all, as a typical PR does.
 */
export function sampleDiff(knob: number, from: string, to: string, extraLine?: string, size: 'real' | 'small' = 'small', variant = 0): string {
  const [name, , comment] = KNOBS[knob % KNOBS.length];
  const line = (v: string) => `const ${name} = ${v};${comment ? ` ${comment}` : ''}`;
  const context = ['const CONTEXT = 64; // T: bytes of context', 'const BATCH = 32; // B: sequences per step', 'const N_HEAD = 4;'];
  const after = ['const MLP_MULT = 4; // hidden width of the MLP = MLP_MULT * N_EMBD', 'const INIT_STD = 0.02;', 'const BETA1 = 0.9;'];
  const tail = size === 'real' ? ['', ...schedule(0), 'const BETA2 = 0.99;'] : [];
  const changedTail = size === 'real' ? ['', ...schedule(variant + 1), 'const BETA2 = 0.99;'] : [];
  const before = [...context, line(from), ...after, ...tail].join('\n') + '\n';
  const changed = [...context, line(to), ...(extraLine !== undefined ? [extraLine] : []), ...after, ...changedTail].join('\n') + '\n';
  return createTwoFilesPatch('a/trainer/train.ts', 'b/trainer/train.ts', before, changed, hex(from, 40), hex(to, 40));
}

export function sampleResult(o: {
  cls: string;
  valBpb: number | null;
  failure?: ExperimentResult['failure'];
  seed: number;
  curvePoints: number;
  finishedAt: Date;
  job: ExperimentResult['job'];
  trainSeconds?: number;
}): ExperimentResult {
  const train = o.trainSeconds ?? 300;
  const started = new Date(o.finishedAt.getTime() - (train + 40) * 1000);
  const steps = 1200;
  // as the harness records it (sampleCurve in trainer/supervisor.ts): the first 20 steps, then an
  // even sample of the rest, each loss a float32 at full precision, with a little noise per run
  const head = Math.min(20, o.curvePoints);
  const noise = rng(o.seed * 31 + 7);
  const loss_curve = Array.from({ length: o.curvePoints }, (_, i) => {
    const step = i < head ? i + 1 : Math.round(head + ((i - head + 1) / (o.curvePoints - head)) * (steps - head));
    const loss = Math.fround(1.4 + (o.valBpb ?? 2.5) * 0.02 + 4 * Math.exp(-step / 150) + (noise() - 0.5) * 0.08);
    return { step, t: (train * step) / steps, loss };
  });
  return {
    schema_version: 1,
    harness_version: '0.1.0',
    status: o.failure ? 'failed' : 'ok',
    failure: o.failure ?? null,
    val_bpb: o.failure ? null : o.valBpb,
    unigram_bpb: 4.52,
    bigram_bpb: 3.41,
    eval_bytes: 262144,
    eval_split: 'heldout',
    dataset: 'brown',
    steps,
    tokens: steps * 32 * 64,
    budget_seconds: 300,
    train_seconds: train,
    total_seconds: train + 40,
    tokens_per_second: (steps * 32 * 64) / train,
    params: 110_592,
    backend: 'tensorflow',
    device: o.cls.startsWith('gpu-h100') ? 'NVIDIA H100 80GB HBM3 (CUDA)' : 'NVIDIA GeForce RTX 4090 (CUDA)',
    hardware_class: o.cls,
    peak_memory_mb: 1840,
    seed: o.seed,
    eval_seed: o.seed * 7 + 1,
    candidate_sha256: hex(`candidate ${o.seed}`, 64),
    harness_sha256: hex('harness', 64),
    loss_curve,
    started_at: started.toISOString(),
    finished_at: o.finishedAt.toISOString(),
    job: o.job,
  };
}

export function sampleLedger(opts: SampleOptions): SampleLedger {
  const classes = opts.classes ?? ['gpu-h100-80gb', 'gpu-rtx-4090'];
  const rand = rng(opts.seed ?? 1);
  const curvePoints = opts.curvePoints ?? 256;
  const diffSize = opts.diffSize ?? 'real';
  let clock = (opts.start ?? new Date('2026-01-01T00:00:00Z')).getTime();
  const tick = (minutes: number) => new Date((clock += minutes * 60_000));
  const entries: LedgerEntry[] = [];
  const state = new LedgerState();
  const files: Record<string, string> = {};
  const push = (news: NewEntry[]) => {
    const added = appendEntries(entries, news);
    for (const e of added) {
      entries.push(e);
      state.apply(e);
    }
  };
  const repo = 'swarm-org/autoresearch-swarm';
  const runners = classes.flatMap((cls, c) =>
    [0, 1].map((k) => ({ name: `${cls}-${k}`, owner: OWNERS[(c * 2 + k) % OWNERS.length], cls })),
  );
  push(runners.map((r) => ({ type: 'runner_registered', data: { runner_name: r.name, owner: r.owner, hardware_class: r.cls, labels: ['self-hosted', 'autoresearch', r.cls] }, time: tick(1).toISOString() })));

  const mainSha = new Map<string, string>();
  const best = new Map<string, number>();
  const baselineOf = (cls: string, sha: string, mean: number, tps: number): NewEntry => ({
    type: 'baseline_recorded',
    data: { hardware_class: cls, sha, mean, sigma: 0.004, n: 3, tokens_per_second: tps, job_ids: [`base-${sha.slice(0, 8)}-${cls}`] },
    time: tick(1).toISOString(),
  });
  classes.forEach((cls, c) => {
    const sha = hex('main 0', 40);
    mainSha.set(cls, sha);
    best.set(cls, 2.45 + c * 0.05);
    push([baselineOf(cls, sha, best.get(cls) as number, 8000 * (c + 1))]);
  });

  let nextPr = 1;
  for (let i = 0; i < opts.experiments; i++) {
    const cls = classes[Math.floor(rand() * classes.length)];
    const clsRunners = runners.filter((r) => r.cls === cls);
    const runner = clsRunners[Math.floor(rand() * clsRunners.length)];
    const author = AUTHORS[Math.floor(rand() * AUTHORS.length)];
    const pr = nextPr++;
    const sha = hex(`pr ${pr}`, 40);
    const jobId = `job-${pr}-${hex(`nonce ${pr}`, 8)}`;
    const knob = Math.floor(rand() * KNOBS.length);
    const values = KNOBS[knob][1];
    const to = values[1 + Math.floor(rand() * (values.length - 1))];
    const diff = sampleDiff(knob, values[0], to, undefined, diffSize, pr);
    const inline = pr % FILE_DIFF_EVERY !== 0;
    const diffPath = `diffs/${sha}.diff`;
    if (!inline) files[diffPath] = diff;
    const archived = inline
      ? { diff, diff_path: null, diff_sha256: null }
      : { diff_path: diffPath, diff_sha256: createHash('sha256').update(diff).digest('hex') };
    const finished = tick(5);
    const roll = rand();
    const current = best.get(cls) as number;
    const failure = roll < 0.07 ? { kind: (['nan', 'timeout', 'crash', 'oom'] as const)[Math.floor(rand() * 4)], message: 'loss became NaN at step 412' } : null;
    const rejected = !failure && roll < 0.09;
    const improves = !failure && !rejected && roll > 0.93;
    // improvements shrink as the score approaches a floor, so long simulations stay plausible
    const headroom = current - 1.2;
    const valBpb = failure ? null : Math.round((improves ? current - headroom * (0.002 + rand() * 0.004) : current + 0.002 + rand() * 0.05) * 1e4) / 1e4;
    const job = { role: 'candidate' as const, nonce: `nonce-${pr}-abcdef`, repo, pr, sha, run_id: 9_000_000 + pr, runner_name: runner.name, isolation: 'docker' as const };
    push([
      { type: 'job_dispatched', data: { job_id: jobId, role: 'candidate', repo, pr, sha, author, hardware_class: cls, eval_seed: pr * 7 + 1, budget_seconds: 300, attempt: 1, verifies: null }, time: tick(0.1).toISOString() },
      { type: 'credit_spent', data: { login: author, amount: 0, job_id: jobId, reason: FREE_TIER_REASON }, time: tick(0.1).toISOString() },
      {
        type: 'result_recorded',
        time: finished.toISOString(),
        data: {
          job_id: jobId,
          role: 'candidate',
          pr,
          sha,
          title: `Try ${KNOBS[knob][0]} = ${to}`,
          author,
          runner_name: runner.name,
          runner_owner: runner.owner,
          run_url: `https://github.com/${repo}/actions/runs/${job.run_id}`,
          validated: !rejected,
          reason: rejected ? 'candidate hash does not match the PR file at that sha' : null,
          result: sampleResult({ cls, valBpb, failure, seed: pr, curvePoints, finishedAt: finished, job }),
          ...archived,
          log_excerpt: failure ? `step 400 loss 2.91\nstep 412 loss NaN\nerror: ${failure.message}` : `step 1100 loss 1.46\nstep 1200 loss 1.44\nval_bpb ${valBpb}`,
        },
      },
    ]);
    const grant = state.creditFor(jobId);
    if (grant) push([{ ...grant, time: tick(0.1).toISOString() }]);
    if (failure || rejected) {
      push([{ type: 'experiment_discarded', data: { pr, sha, reason: failure ? `run failed: ${failure.kind}` : 'result rejected', hardware_class: cls, val_bpb: null }, time: tick(0.1).toISOString() }]);
      continue;
    }
    if (!improves) {
      push([{ type: 'experiment_discarded', data: { pr, sha, reason: `no improvement: ${valBpb} is not below ${current} - margin`, hardware_class: cls, val_bpb: valBpb }, time: tick(0.1).toISOString() }]);
      continue;
    }
    // a claimed improvement: re-run on a runner of another owner, then merged and re-baselined
    const verifier = clsRunners.find((r) => r.owner !== runner.owner) ?? runner;
    const verifyId = `verify-${pr}-${hex(`v ${pr}`, 8)}`;
    const verifyBpb = Math.round(((valBpb as number) + (rand() - 0.5) * 0.004) * 1e4) / 1e4;
    const vFinished = tick(6);
    const vJob = { ...job, role: 'verify' as const, nonce: `nonce-v-${pr}-abcdef`, run_id: 8_000_000 + pr, runner_name: verifier.name };
    push([
      { type: 'job_dispatched', data: { job_id: verifyId, role: 'verify', repo, pr, sha, author: null, hardware_class: cls, eval_seed: pr * 11 + 3, budget_seconds: 300, attempt: 1, verifies: jobId }, time: tick(0.1).toISOString() },
      {
        type: 'result_recorded',
        time: vFinished.toISOString(),
        data: {
          job_id: verifyId, role: 'verify', pr, sha, title: `Try ${KNOBS[knob][0]} = ${to}`, author, runner_name: verifier.name, runner_owner: verifier.owner,
          run_url: `https://github.com/${repo}/actions/runs/${vJob.run_id}`, validated: true, reason: null,
          result: sampleResult({ cls, valBpb: verifyBpb, seed: pr + 100000, curvePoints, finishedAt: vFinished, job: vJob }),
          ...archived, log_excerpt: `val_bpb ${verifyBpb}`,
        },
      },
      { type: 'verification', data: { job_id: jobId, verify_job_id: verifyId, agreed: true, claim_bpb: valBpb as number, verify_bpb: verifyBpb, tolerance: 0.005 }, time: tick(0.1).toISOString() },
    ]);
    const vGrant = state.creditFor(verifyId);
    if (vGrant) push([{ ...vGrant, time: tick(0.1).toISOString() }]);
    const mergeSha = hex(`merge ${pr}`, 40);
    push([{ type: 'experiment_merged', data: { pr, sha, merge_sha: mergeSha, hardware_class: cls, val_bpb: valBpb as number, baseline_mean: current, job_ids: [jobId, verifyId] }, time: tick(0.5).toISOString() }]);
    best.set(cls, valBpb as number);
    mainSha.set(cls, mergeSha);
    push([baselineOf(cls, mergeSha, valBpb as number, 8000 * (classes.indexOf(cls) + 1))]);
  }
  return { entries, files };
}
