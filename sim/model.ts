// What the simulated swarm is made of: hardware classes with a noise model, candidates with a
// true quality, and the runner owners (honest or one of the adversaries) who turn a job into a
// result.json. Figures and where each comes from are in `CLASSES` and docs/trust.md.
import type { Rng } from './rng.js';

export interface HardwareClass {
  name: string;
  /** val_bpb of the default train.ts on a quiet machine of the class */
  base: number;
  /** run-to-run spread from the held-out evaluation windows (a fresh eval seed per run) */
  sigmaEval: number;
  /**
   * spread between training seeds of the same code. The App draws a fresh training seed for every
   * run it dispatches (the workflow's `seed` input; the harness seeds the data order and hands it to
   * `createModel`), so a re-run does not reproduce a lucky seed: per-run noise, like the eval seed.
   */
  sigmaSeed: number;
  /** chance that an honest owner's machine is busy during a run, and what that adds */
  loadChance: number;
  loadPenalty: [number, number];
  /** the harness's calibration workload on a quiet machine of the class (GFLOP/s; trainer/calibration.ts) */
  gflops: number;
  /** where the figures come from */
  source: string;
}

export const CLASSES: HardwareClass[] = [
  {
    name: 'cpu-wasm-2core',
    base: 2.336,
    sigmaEval: 0.01,
    sigmaSeed: 0.01,
    loadChance: 0.1,
    loadPenalty: [0.22, 0.57],
    gflops: 4,
    source:
      'README "Figures": the default train.ts, 300 s on wasm, scored 2.336 on a quiet 2-core machine and 2.56-2.91 with the machine shared (load 5-16), so a loaded run adds 0.22-0.57. ' +
      'sigmaEval 0.01 is derived, not measured: ~2.5 bits/byte spread over 65,536 held-out bytes gives a standard error of ~0.01. sigmaSeed 0.01 and the 10% chance of a busy machine are assumptions.',
  },
  {
    name: 'gpu-rtx-4090-24gb',
    base: 1.1,
    sigmaEval: 0.005,
    sigmaSeed: 0.005,
    loadChance: 0.02,
    loadPenalty: [0.01, 0.05],
    gflops: 40,
    source: 'No GPU run was measured in this project: base 1.1, both sigmas 0.005 and a 2% chance of a 0.01-0.05 slowdown are assumptions (a GPU run depends little on host load).',
  },
];

/** A class's run-to-run sigma (a fresh eval seed and training seed per run): sqrt(sigmaEval^2 + sigmaSeed^2). */
export function runSigma(c: HardwareClass): number {
  return Math.hypot(c.sigmaEval, c.sigmaSeed);
}

export type PrKind = 'null' | 'improvement' | 'seed_only' | 'collusion';

/**
 * The true quality of one train.ts: an improvement in units of each class's run sigma (negative is
 * better). A PR that changes only a seed constant has the quality of the code it leaves alone: the
 * harness draws the data order from the dispatched seed and hands that seed to `createModel`, so a
 * different constant is one more draw of the per-run seed noise, never a lasting gain.
 */
export interface Quality {
  /** cumulative, relative to the first default train.ts, in run-sigmas (negative: better) */
  u: number;
}

/** The expected val_bpb of a candidate on a machine of class `cls` (over training seeds, before eval noise and load). */
export function trueBpb(q: Quality, cls: HardwareClass): number {
  return cls.base + q.u * runSigma(cls);
}

export type Behaviour = 'honest' | 'forger' | 'lazy' | 'saboteur' | 'class_liar' | 'sybil' | 'colluder';
export const ADVERSARIES: Behaviour[] = ['forger', 'lazy', 'saboteur', 'class_liar', 'sybil', 'colluder'];

export interface Owner {
  login: string;
  behaviour: Behaviour;
  /** the class the owner registers (and puts in results) */
  claimedClass: string;
  /** the machine the owner really has */
  machine: HardwareClass;
  /** the other account of a Sybil pair, the author a colluder works for */
  partner?: string;
  runnerName?: string;
  /** why the App refused this owner's runner for good (a ban), if it did */
  refused?: string;
}

export interface JobView {
  role: 'candidate' | 'verify' | 'baseline';
  pr: number | null;
  /** the PR's author (adversaries read it from the public PR) */
  author: string | null;
  /** the true quality of the code the job runs */
  quality: Quality;
  /** the public baseline mean of the claimed class, if any */
  baselineMean: number | null;
  /** the public claim a verify job checks (the claim's check run shows it) and who made it */
  claim: { bpb: number; owner: string | null } | null;
  /** the App's public threshold: baseline - margin */
  threshold: number | null;
}

/** The harness's calibration of a run: the fixed workload timed before and after training. */
export interface Calibration {
  workload: string;
  before_gflops: number;
  after_gflops: number;
}

export interface Report {
  bpb: number;
  trained: boolean;
  /** what the result says of the machine's pace (a liar's is always at pace) */
  calibration: Calibration;
}

/** What an owner reports for a job: a score and whether it really trained, with the run's calibration. */
export function report(o: Owner, job: JobView, classes: Map<string, HardwareClass>, rng: Rng): Report {
  const claimed = classes.get(o.claimedClass)!;
  // what the machine's calibration shows: a quiet run within 3% of its class's pace, a busy one
  // (sustained load: the harness times the workload before and after training) 30-70% slower
  const pace = (c: HardwareClass, loaded: boolean): Calibration => {
    const g = c.gflops * (loaded ? rng.uniform(0.3, 0.7) : rng.uniform(0.97, 1.03));
    return { workload: `matmul-256x256x256x20@${c.name.startsWith('gpu') ? 'tensorflow' : 'wasm'}`, before_gflops: g, after_gflops: g * (loaded ? rng.uniform(0.85, 1) : rng.uniform(0.98, 1.02)) };
  };
  let calibration = pace(claimed, false);
  const honest = () => {
    const m = o.machine;
    // a fresh training seed and a fresh eval seed per run
    let v = trueBpb(job.quality, m) + rng.normal() * m.sigmaSeed + rng.normal() * m.sigmaEval;
    const loaded = rng.chance(m.loadChance);
    if (loaded) v += rng.uniform(m.loadPenalty[0], m.loadPenalty[1]);
    // a class liar reports its registered class's workload and pace, as the class it claims
    calibration = pace(o.behaviour === 'class_liar' ? claimed : m, loaded);
    return v;
  };
  const r = (bpb: number, trained: boolean): Report => ({ bpb, trained, calibration });
  return reportAs(o, job, claimed, honest, rng, r);
}

function reportAs(o: Owner, job: JobView, claimed: HardwareClass, honest: () => number, rng: Rng, r: (bpb: number, trained: boolean) => Report): Report {
  const plausible = () => (job.baselineMean ?? claimed.base) + Math.abs(rng.normal()) * claimed.sigmaEval;
  const forged = () => (job.threshold ?? (job.baselineMean ?? claimed.base) - 0.05) - 2 * claimed.sigmaEval - rng.next() * claimed.sigmaEval;
  const echo = () => (job.claim ? job.claim.bpb + rng.normal() * claimed.sigmaEval * 0.3 : null);
  switch (o.behaviour) {
    case 'honest':
    case 'class_liar': // trains for real, on a machine of another class than it registered
      return r(honest(), true);
    case 'saboteur':
      return r(honest() + 0.1 + rng.next() * 0.1, true);
    case 'forger':
      // claims improvements it never trained; backs any claim it is asked to verify
      if (job.role === 'candidate') return r(forged(), false);
      if (job.role === 'verify') return r(echo() ?? forged(), false);
      return r(plausible(), false);
    case 'lazy':
      // never trains: a plausible no-improvement score, and agreement with whatever it verifies
      if (job.role === 'verify') return r(echo() ?? plausible(), false);
      return r(plausible(), false);
    case 'sybil':
      // forges claims, and agrees with its other account's claims when asked to verify them
      if (job.role === 'candidate') return r(forged(), false);
      if (job.role === 'verify' && job.claim && job.claim.owner === o.partner) return r(echo()!, false);
      return r(honest(), true);
    case 'colluder':
      // honest, except for its partner author's PRs: an improvement claimed, and agreed with
      if (job.author === o.partner && job.role === 'candidate') return r(forged(), false);
      if (job.author === o.partner && job.role === 'verify') return r(echo() ?? forged(), false);
      return r(honest(), true);
  }
}

/** Spreads `n` adversarial owners over the kinds in `mix` (relative weights), in a fixed order. */
export function adversaryKinds(n: number, mix: Partial<Record<Behaviour, number>>): Behaviour[] {
  const kinds = ADVERSARIES.filter((k) => (mix[k] ?? 1) > 0);
  const weights = kinds.map((k) => mix[k] ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: Behaviour[] = [];
  // largest remainder over the weights; a Sybil pair takes two owners
  const share = kinds.map((k, i) => ({ k, x: (n * weights[i]) / total }));
  const counts = new Map(share.map((s) => [s.k, Math.floor(s.x)]));
  let left = n - [...counts.values()].reduce((a, b) => a + b, 0);
  for (const s of [...share].sort((a, b) => (b.x % 1) - (a.x % 1))) {
    if (left <= 0) break;
    counts.set(s.k, counts.get(s.k)! + 1);
    left--;
  }
  for (const k of kinds) for (let i = 0; i < counts.get(k)!; i++) out.push(k);
  return out;
}
