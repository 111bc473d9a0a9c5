// What the simulated swarm is made of: hardware classes with a noise model, candidates with a
// true quality, and the runner owners (honest or one of the adversaries) who turn a job into a
// result.json. Figures and where each comes from are in `CLASSES` and docs/trust.md.
import { createHash } from 'node:crypto';
import { decodeSchedule, encodeSchedule, QUANTUM, quantize, type Schedule } from '../trainer/replay-schedule.js';
import { Rng } from './rng.js';

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
  /** chance that an honest owner's machine is busy during a run (30-70% of its pace: fewer steps on the clock) */
  loadChance: number;
  /** the harness's calibration workload on a quiet machine of the class (GFLOP/s; trainer/calibration.ts) */
  gflops: number;
  /** steps (of 2,048 tokens) a quiet machine of the class trains in 300 s, and its tokens/s */
  steps300: number;
  tokensPerSecond: number;
  /** a deterministic backend (wasm, cpu): a replay reproduces the checkpoint, so its digest and val_bpb, bit for bit */
  deterministic: boolean;
  /** the spread of val_bpb between honest replays of one run (same seeds and schedule) on a non-deterministic backend */
  sigmaReplay: number;
  /** val_bpb added per missing fraction of the quiet steps below 97% (a loaded machine trains fewer steps) */
  stepPenalty: number;
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
    gflops: 4,
    steps300: 3638,
    tokensPerSecond: 24_800,
    deterministic: true,
    sigmaReplay: 0,
    stepPenalty: 0.84,
    source:
      'README "Figures": the default train.ts, 300 s on wasm, scored 2.336 on a quiet 2-core machine (24,800 tokens/s, 3,638 steps) and 2.56-2.91 with the machine shared (load 5-16), so a loaded run adds 0.22-0.57: ' +
      'stepPenalty 0.84 per missing fraction of the quiet steps puts a run at 30-70% of the pace at +0.22 to +0.57. ' +
      'sigmaEval 0.01 is derived, not measured: ~2.5 bits/byte spread over 65,536 held-out bytes gives a standard error of ~0.01. sigmaSeed 0.01 and the 10% chance of a busy machine are assumptions. ' +
      'Deterministic (tfjs on wasm, one thread): a replay of the same seed, eval seed and schedule reproduces the checkpoint bit for bit (trainer/replay-schedule.ts; not yet measured across machines).',
  },
  {
    name: 'gpu-rtx-4090-24gb',
    base: 1.1,
    sigmaEval: 0.005,
    sigmaSeed: 0.005,
    loadChance: 0.02,
    gflops: 40,
    steps300: 58_594,
    tokensPerSecond: 400_000,
    deterministic: false,
    sigmaReplay: 0.004,
    stepPenalty: 0.064,
    source:
      'No GPU run was measured in this project: base 1.1, both sigmas 0.005, 400,000 tokens/s (58,594 steps of 2,048 tokens in 300 s) and a 2% chance of a 30-70% slowdown costing 0.02-0.04 (stepPenalty 0.064) are assumptions (a GPU run depends little on host load). ' +
      'sigmaReplay 0.004 (the spread between replays of one seed and schedule, from non-deterministic GPU kernels) is an assumption scaled from Zhuang et al. 2020, "Nondeterminism in TensorFlow ResNets" (arXiv 2001.11396): with seeds fixed, the test loss varied with over 80% of its spread across seeds. ' +
      "TensorFlow's op determinism (TF_DETERMINISTIC_OPS) would make it 0 on one GPU model and library version; --sigma-replay sets it.",
  },
];

/**
 * A class's run-to-run sigma, what the App measures as a baseline's sigma: a fresh eval seed and
 * training seed per run, and on a non-deterministic backend the run's own replay noise
 * (trainOutcome adds it to every run there, fresh or replayed): sqrt(sigmaEval^2 + sigmaSeed^2 +
 * sigmaReplay^2). (Before session 7 it left sigmaReplay out, so an improvement of "3 sigma" on a
 * GPU class was 2.6 of the sigmas its runs show.)
 */
export function runSigma(c: HardwareClass): number {
  return Math.hypot(c.sigmaEval, c.sigmaSeed, c.deterministic ? 0 : c.sigmaReplay);
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

export type Behaviour = 'honest' | 'forger' | 'lazy' | 'saboteur' | 'class_liar' | 'sybil' | 'colluder' | 'turncoat' | 'framer' | 'shader' | 'mimic';
export const ADVERSARIES: Behaviour[] = ['forger', 'lazy', 'saboteur', 'class_liar', 'sybil', 'colluder', 'turncoat', 'framer', 'shader', 'mimic'];
/** Kinds left out of the mix unless `--mix` weights them (a turncoat: figures stay comparable with the sessions before it). */
export const OPT_IN: Partial<Record<Behaviour, number>> = { turncoat: 0, framer: 0, shader: 0, mimic: 0 };
/** How much worse (better, on a baseline run) a shader reports than it trained: inside the GPU replay tolerance (0.02). */
export const SHADE = 0.018;
/** Jobs a turncoat runs honestly before it turns lazy: past its probation (10 agreeing results), well into trust. */
export const TURNCOAT_AFTER = 30;

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
  /** jobs it has taken so far (a turncoat's clock) */
  runs?: number;
}

/** What anyone can read of a finished run: its result.json (artifacts are public) and who ran it (the ledger). */
export interface PublicRun {
  nonce: string;
  owner: string | null;
  val_bpb: number | null;
  /** result.replay.schedule */
  schedule: string | null;
  /** result.replay.sealed: opaque to all but the App, yet copyable */
  sealed: string | null;
  /** result.replay.digest: in clear only when the run had no seal key */
  digest: string | null;
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
  /** what the dispatch asks for: the code (candidate_sha256), the training seed, the eval seed, the budget */
  code: string;
  seed: number;
  evalSeed: number;
  budget: number;
  /** the schedule to replay (the workflow input `replay`); null for a run on the clock */
  replay: string | null;
  /** the run being replayed, as its public artifact shows it (null on the clock, or when not found) */
  original: PublicRun | null;
}

/** The harness's calibration of a run: the fixed workload timed before and after training. */
export interface Calibration {
  workload: string;
  before_gflops: number;
  after_gflops: number;
}

/**
 * The proof of training a result carries (result.replay): the checkpoint's digest, which the
 * simulated harness seals to the dispatch's seal key (or writes in clear without one), or another
 * run's public proof copied as it is (a sealed box is opaque but copyable).
 */
export type Proof = { digest: string } | { copy: PublicRun };

export interface Report {
  bpb: number;
  trained: boolean;
  /** what the result says of the machine's pace (a liar's is always at pace) */
  calibration: Calibration;
  /** result.replay.schedule (encoded) and result.replay.of (the schedule replayed; null on the clock) */
  schedule: string;
  of: string | null;
  steps: number;
  /** seconds the run trained: the budget on the clock; a replay takes as long as its steps take on this machine */
  trainSeconds: number;
  proof: Proof;
}

/** Steps a quiet machine of the class trains in `budget` seconds. */
export function quietSteps(c: HardwareClass, budget: number): number {
  return Math.max(1, Math.round((c.steps300 * budget) / 300));
}

/** A generator keyed by what a quantity is a function of (sha256 of the parts): equal inputs, equal draws, on any machine. */
export function keyed(...parts: (string | number)[]): Rng {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  return new Rng(h.readUInt32LE(0) ^ h.readUInt32LE(4));
}

/**
 * The schedule a run on the clock records (trainer/replay-schedule.ts's ScheduleRecorder): the
 * first half of the budget at pace p1 (a fraction of the class's quiet speed), the second at p2.
 */
export function clockSchedule(stepsQuiet: number, p1: number, p2: number): Schedule {
  const s1 = Math.floor(stepsQuiet * p1 * 0.5);
  const steps = Math.max(1, s1 + Math.floor(stepsQuiet * p2 * 0.5));
  const fraction = (i: number) => (i < s1 ? i / (stepsQuiet * p1) : 0.5 + (i - s1) / (stepsQuiet * p2));
  const level = (i: number) => Math.round(quantize(fraction(i)) * QUANTUM);
  // what ScheduleRecorder records for these fractions (marks[L - 1]: the first step at level L or
  // above), found per level from the inverse of the pace instead of step by step (a GPU run has
  // ~58,000 steps, the simulator thousands of runs)
  const marks: number[] = [];
  for (let L = 1; L <= QUANTUM; L++) {
    const x = L / QUANTUM;
    let i = Math.min(steps, Math.max(0, Math.floor(x < 0.5 ? x * stepsQuiet * p1 : s1 + (x - 0.5) * stepsQuiet * p2)));
    while (i > 0 && level(i - 1) >= L) i--;
    while (i < steps && level(i) < L) i++;
    if (i >= steps) break;
    marks.push(i);
  }
  return { steps, marks };
}

/**
 * What a run of training produces: val_bpb and the checkpoint's digest, as functions of what the
 * run was asked to do (the code, the training seed, the eval seed, the schedule) and the machine's
 * real class. The seed's luck and the eval windows' difficulty are keyed draws, so an honest replay
 * (same inputs, same class) reproduces them; a shorter schedule (a loaded machine trained fewer
 * steps) costs `stepPenalty` per missing fraction of the quiet steps, on a replay as on the
 * original. On a deterministic backend that is all: the digest and val_bpb repeat bit for bit. On a
 * GPU the run adds its own replay noise (`sigmaReplay`) and its digest is its own.
 */
export function trainOutcome(t: { code: string; quality: Quality; seed: number; evalSeed: number; schedule: Schedule; budget: number }, m: HardwareClass, run: Rng): { bpb: number; digest: string } {
  const sched = encodeSchedule(t.schedule);
  const zSeed = keyed('seed', t.code, t.seed, m.name).normal();
  const zEval = keyed('eval', t.code, t.seed, t.evalSeed, m.name).normal();
  const f = t.schedule.steps / quietSteps(m, t.budget);
  let bpb = trueBpb(t.quality, m) + zSeed * m.sigmaSeed + zEval * m.sigmaEval + m.stepPenalty * Math.max(0, 0.97 - f);
  let digest = createHash('sha256').update(['checkpoint', t.code, t.seed, sched, m.name].join('\u0000')).digest('hex');
  if (!m.deterministic) {
    bpb += run.normal() * m.sigmaReplay;
    digest = createHash('sha256').update(`${digest}:${run.u32()}`).digest('hex');
  }
  return { bpb, digest };
}

const madeUpDigest = (rng: Rng) => Array.from({ length: 8 }, () => rng.u32().toString(16).padStart(8, '0')).join('');

/**
 * What an owner reports for a job: a score, the run's schedule and proof of training, with the run's
 * calibration. `midRunLoad`: the chance that a machine quiet at the start is loaded (30-70% of its
 * pace) for the second half of the run (default 0: the load model of the figures, where a busy
 * machine is busy from the start to the end).
 */
export function report(o: Owner, job: JobView, classes: Map<string, HardwareClass>, rng: Rng, midRunLoad = 0): Report {
  const claimed = classes.get(o.claimedClass)!;
  // the machine's pace during the run: a quiet one within 3% of its class's, a busy one (sustained
  // load: the harness times the workload before and after training) 30-70% slower
  const m = o.machine;
  const loaded = rng.chance(m.loadChance);
  const p1 = loaded ? rng.uniform(0.3, 0.7) : rng.uniform(0.97, 1.03);
  let p2 = p1 * (loaded ? rng.uniform(0.85, 1) : rng.uniform(0.98, 1.02));
  // load that starts mid-run: only the calibration after training sees it (the pre-flight passes)
  if (!loaded && midRunLoad > 0 && rng.chance(midRunLoad * m.loadChance)) p2 = p1 * rng.uniform(0.3, 0.7);
  const pace = (c: HardwareClass, a: number, b: number): Calibration => ({
    workload: `matmul-256x256x256x20@${c.name.startsWith('gpu') ? 'tensorflow' : 'wasm'}`,
    before_gflops: c.gflops * a,
    after_gflops: c.gflops * b,
  });
  const replaying = job.replay !== null;
  const given = replaying ? decodeSchedule(job.replay!) : null;
  // an honest run: on the clock it trains what its pace allows; a replay trains the given schedule,
  // whatever its pace (which then only makes it take longer)
  const honest = (): Report => {
    const schedule = given ?? clockSchedule(quietSteps(m, job.budget), p1, p2);
    const out = trainOutcome({ code: job.code, quality: job.quality, seed: job.seed, evalSeed: job.evalSeed, schedule, budget: job.budget }, m, rng);
    const trainSeconds = given ? (given.steps / quietSteps(m, job.budget)) * job.budget / ((p1 + p2) / 2) : job.budget;
    // a class liar reports its registered class's workload, at its real pace
    const calibration = pace(o.behaviour === 'class_liar' ? claimed : m, p1, p2);
    return { bpb: out.bpb, trained: true, calibration, schedule: encodeSchedule(schedule), of: job.replay, steps: schedule.steps, trainSeconds, proof: { digest: out.digest } };
  };
  // a run that never trained: a schedule that looks like a quiet run of the claimed class (or, on a
  // replay, the one it was given) and a digest made up (or another run's proof, copied)
  const untrained = (bpb: number, proof?: Proof): Report => {
    // it claims a quiet machine of its registered class (a busy one would be sent elsewhere)
    const q1 = rng.uniform(0.97, 1.03);
    const q2 = q1 * rng.uniform(0.98, 1.02);
    const schedule = given ?? clockSchedule(quietSteps(claimed, job.budget), q1, q2);
    return { bpb, trained: false, calibration: pace(claimed, q1, q2), schedule: encodeSchedule(schedule), of: job.replay, steps: schedule.steps, trainSeconds: job.budget, proof: proof ?? { digest: madeUpDigest(rng) } };
  };
  const plausible = () => (job.baselineMean ?? claimed.base) + Math.abs(rng.normal()) * claimed.sigmaEval;
  // a guess with the spread of an honest first run of a null change (its small harm, seed and eval
  // noise: what the class's public results show), so that its scores are not flatter than its class's
  const spread = () => (job.baselineMean ?? claimed.base) + (Math.abs(rng.normal()) * 0.5 + rng.normal()) * runSigma(claimed);
  const forged = () => (job.threshold ?? (job.baselineMean ?? claimed.base) - 0.05) - 2 * claimed.sigmaEval - rng.next() * claimed.sigmaEval;
  const echo = () => (job.claim ? job.claim.bpb + rng.normal() * claimed.sigmaEval * 0.3 : null);
  // a replay it cannot train (or will not): the original's public score (on a GPU class, with a
  // replay's spread added), and its proof copied (a
  // clear digest copied passes; a sealed box carries the original's nonce), or, sealed, a made-up
  // digest sealed with its own nonce (`makeUp`: what a lazy runner does, the stronger of the two)
  const copied = (makeUp: boolean): Report => {
    const orig = job.original;
    // on a class compared by val_bpb, an exact copy of the public score betrays itself (honest
    // replays differ a little); so it copies with the spread honest replays show in the ledger
    const jitter = claimed.deterministic ? 0 : rng.normal() * claimed.sigmaReplay;
    const bpb = orig?.val_bpb != null ? orig.val_bpb + jitter : plausible();
    if (!orig || (makeUp && orig.digest === null)) return untrained(bpb);
    return untrained(bpb, { copy: orig });
  };
  switch (o.behaviour) {
    case 'honest':
    case 'class_liar': // trains for real, on a machine of another class than it registered
      return honest();
    case 'saboteur': {
      // trains, and reports a worse score with its honest digest (sealed with the worse score): that
      // passes a check of the digest alone, so a replay must compare val_bpb too; a wrong digest
      // would fail either check (docs/trust.md, "The swarm simulator")
      const r = honest();
      return { ...r, bpb: r.bpb + 0.1 + rng.next() * 0.1 };
    }
    case 'shader': {
      // a subtle saboteur on a GPU class: trains, and reports every score it originates shaded just
      // inside the replay tolerance, against improvements (a first run or a verify run worse, a
      // baseline run better: a higher bar); its replays are honest, so it passes them and is trusted
      const r = honest();
      if (replaying) return r;
      return { ...r, bpb: r.bpb + (job.role === 'baseline' ? -SHADE : SHADE) };
    }
    case 'forger':
      // claims improvements it never trained; backs any claim it is asked to verify or replay
      if (replaying) return copied(false);
      if (job.role === 'candidate') return untrained(forged());
      if (job.role === 'verify') return untrained(echo() ?? forged());
      return untrained(plausible());
    case 'lazy':
      // never trains: a plausible no-improvement score, agreement with whatever it verifies, and
      // on a replay the original's public score
      if (replaying) return copied(true);
      if (job.role === 'verify') return untrained(echo() ?? plausible());
      return untrained(plausible());
    case 'sybil':
      // forges claims, and agrees with its other account's claims when asked to verify or replay them
      if (replaying && job.original?.owner === o.partner) return copied(false);
      if (replaying) return honest();
      if (job.role === 'candidate') return untrained(forged());
      if (job.role === 'verify' && job.claim && job.claim.owner === o.partner) return untrained(echo()!);
      return honest();
    case 'mimic':
      // a lazy runner that hides its flat scores (docs/trust.md 2b, "Flat scores"): its first runs
      // scatter as an honest owner's do, around the baseline, but not around the PR's true score
      if (replaying) return copied(true);
      if (job.role === 'verify') return untrained(echo() ?? spread());
      return untrained(spread());
    case 'turncoat':
      // trains honestly until it is trusted, then never again: what a lazy runner does, on the
      // spot-check rate alone (the patient attacker a spot-check rate that falls with trust invites)
      if ((o.runs ?? 0) <= TURNCOAT_AFTER) return honest();
      if (replaying) return copied(true);
      if (job.role === 'verify') return untrained(echo() ?? plausible());
      return untrained(plausible());
    case 'framer': {
      // a pair of old accounts that train honestly, except when one is asked to check another
      // owner's run: both report the same wrong result (0.06 bpb worse, one made-up checkpoint
      // derived from the run and the pair), so that when both are drawn they agree and outvote the
      // honest run. Two pairs do not collude: their made-up results differ (pair-specific digest
      // and score), else four framers would be one colluding group of four
      const target = job.original ?? (job.claim ? { nonce: `claim:${job.claim.bpb}`, owner: job.claim.owner, val_bpb: job.claim.bpb } : null);
      if (!target || target.val_bpb == null || target.owner === o.partner || (!replaying && job.role !== 'verify')) return honest();
      const pair = [o.login, o.partner ?? ''].sort().join('+');
      const frame = createHash('sha256').update(`frame\u0000${pair}\u0000${target.nonce}`).digest('hex');
      const worse = 0.05 + (parseInt(frame.slice(0, 4), 16) / 0xffff) * 0.25;
      return untrained(target.val_bpb + worse, { digest: frame });
    }
    case 'colluder':
      // honest, except for its partner author's PRs: an improvement claimed, and agreed with
      if (job.author === o.partner && replaying) return copied(false);
      if (job.author === o.partner && job.role === 'candidate') return untrained(forged());
      if (job.author === o.partner && job.role === 'verify') return untrained(echo() ?? forged());
      return honest();
  }
}

/** Spreads `n` adversarial owners over the kinds in `mix` (relative weights), in a fixed order. */
export function adversaryKinds(n: number, mix: Partial<Record<Behaviour, number>>): Behaviour[] {
  const kinds = ADVERSARIES.filter((k) => (mix[k] ?? OPT_IN[k] ?? 1) > 0);
  const weights = kinds.map((k) => mix[k] ?? OPT_IN[k] ?? 1);
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
