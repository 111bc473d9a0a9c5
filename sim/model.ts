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
  /** spread between training seeds of the same code (fixed per candidate: a re-run reproduces it) */
  sigmaSeed: number;
  /** chance that an honest owner's machine is busy during a run, and what that adds */
  loadChance: number;
  loadPenalty: [number, number];
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
    source: 'No GPU run was measured in this project: base 1.1, both sigmas 0.005 and a 2% chance of a 0.01-0.05 slowdown are assumptions (a GPU run depends little on host load).',
  },
];

/** A class's run-to-run sigma for an improvement's size: sqrt(sigmaEval^2 + sigmaSeed^2). */
export function runSigma(c: HardwareClass): number {
  return Math.hypot(c.sigmaEval, c.sigmaSeed);
}

export type PrKind = 'null' | 'improvement' | 'seed_only' | 'collusion';

/** The true quality of one train.ts: an improvement in units of each class's run sigma (negative is better) and its seed's luck. */
export interface Quality {
  /** cumulative, relative to the first default train.ts, in run-sigmas (negative: better) */
  u: number;
  /** the training seed's effect per class, in that class's sigmaSeed */
  seedZ: Record<string, number>;
}

/** The expected val_bpb of a candidate on a machine of class `cls` (before eval noise and load). */
export function trueBpb(q: Quality, cls: HardwareClass): number {
  return cls.base + q.u * runSigma(cls) + (q.seedZ[cls.name] ?? 0) * cls.sigmaSeed;
}

export function freshSeed(rng: Rng): Record<string, number> {
  return Object.fromEntries(CLASSES.map((c) => [c.name, rng.normal()]));
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

/** What an owner reports for a job: a score (or null for a failed run) and whether it really trained. */
export function report(o: Owner, job: JobView, classes: Map<string, HardwareClass>, rng: Rng): { bpb: number; trained: boolean } {
  const honest = () => {
    const m = o.machine;
    let v = trueBpb(job.quality, m) + rng.normal() * m.sigmaEval;
    if (rng.chance(m.loadChance)) v += rng.uniform(m.loadPenalty[0], m.loadPenalty[1]);
    return v;
  };
  const claimed = classes.get(o.claimedClass)!;
  const plausible = () => (job.baselineMean ?? claimed.base) + Math.abs(rng.normal()) * claimed.sigmaEval;
  const forged = () => (job.threshold ?? (job.baselineMean ?? claimed.base) - 0.05) - 2 * claimed.sigmaEval - rng.next() * claimed.sigmaEval;
  const echo = () => (job.claim ? job.claim.bpb + rng.normal() * claimed.sigmaEval * 0.3 : null);
  switch (o.behaviour) {
    case 'honest':
    case 'class_liar': // trains for real, on a machine of another class than it registered
      return { bpb: honest(), trained: true };
    case 'saboteur':
      return { bpb: honest() + 0.1 + rng.next() * 0.1, trained: true };
    case 'forger':
      // claims improvements it never trained; backs any claim it is asked to verify
      if (job.role === 'candidate') return { bpb: forged(), trained: false };
      if (job.role === 'verify') return { bpb: echo() ?? forged(), trained: false };
      return { bpb: plausible(), trained: false };
    case 'lazy':
      // never trains: a plausible no-improvement score, and agreement with whatever it verifies
      if (job.role === 'verify') return { bpb: echo() ?? plausible(), trained: false };
      return { bpb: plausible(), trained: false };
    case 'sybil':
      // forges claims, and agrees with its other account's claims when asked to verify them
      if (job.role === 'candidate') return { bpb: forged(), trained: false };
      if (job.role === 'verify' && job.claim && job.claim.owner === o.partner) return { bpb: echo()!, trained: false };
      return { bpb: honest(), trained: true };
    case 'colluder':
      // honest, except for its partner author's PRs: an improvement claimed, and agreed with
      if (job.author === o.partner && job.role === 'candidate') return { bpb: forged(), trained: false };
      if (job.author === o.partner && job.role === 'verify') return { bpb: echo() ?? forged(), trained: false };
      return { bpb: honest(), trained: true };
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
