// The App's settings for one repository, read from `.github/autoresearch.yml`. Every field has a
// default documented here and in `.github/autoresearch.yml`; without the file the App still
// validates, schedules and scores, but never merges or closes (nothing destructive).
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RunnerSettings } from '../runner/protocol.js';
import { FinewebShards, PIN_FIX } from '../trainer/data/pins.js';

export const CONFIG_FILE = 'autoresearch.yml';

export const AutoresearchConfig = z.object({
  /** the only paths an experiment may change */
  editable_paths: z.array(z.string().min(1)).min(1).default(['trainer/train.ts']),
  /** largest allowed size of an editable file, bytes */
  max_file_bytes: z.number().int().positive().default(64 * 1024),
  /** the experiment workflow, dispatched from the default branch */
  workflow: z.string().min(1).default('experiment.yml'),
  /** training budget per run, seconds */
  budget_seconds: z.number().positive().default(300),
  /** experiment jobs (candidate and verify) running at once */
  max_in_flight: z.number().int().positive().default(2),
  /** a job whose run started on a runner and has not reported within this many minutes of its start is re-dispatched */
  deadline_minutes: z.number().positive().default(30),
  /**
   * a job whose run no runner has taken this many minutes after its dispatch is cancelled on GitHub
   * and dispatched again (to any runner of its class), or given up after max_attempts. Longer than
   * the deadline: a run queued behind a busy fleet is not late, and cancelling it only sends it to
   * the back of the queue
   */
  queue_limit_minutes: z.number().positive().default(120),
  /** dispatches per job at most (the first plus re-dispatches) */
  max_attempts: z.number().int().positive().default(3),
  /**
   * the merge rule (docs/trust.md "The merge rule"): the mean of n independent runs must beat the
   * baseline by k standard errors, SE = sigma * sqrt(1/n + 1/baseline runs), and by min_delta bpb.
   * k 4 with max_runs 10 (session 14; 3.6 and 8 before): a null change merges 3.7 times less often
   * (1.2e-4 against 4.5e-4 per change), a 3-sigma improvement as often (97.1% against 97.3%)
   */
  margin: z.object({ k: z.number().nonnegative().default(4), min_delta: z.number().nonnegative().default(0) }).prefault({}),
  /**
   * the sequential test: a first run scoring `screen` standard errors is a claim, re-run by other
   * owners until the mean merges (with `quorum` + 1 owners other than the author at least), falls
   * below `futility`, or `max_runs` owners ran it; two runs agree within
   * max(tolerance, agree_sigmas * sqrt(2) * sigma of the class)
   */
  verification: z
    .object({
      quorum: z.number().int().nonnegative().default(2),
      tolerance: z.number().nonnegative().default(0.02),
      agree_sigmas: z.number().nonnegative().default(3.5),
      screen: z.number().default(0.8),
      futility: z.number().default(1.5),
      max_runs: z.number().int().min(1).default(10),
      /** degrees of freedom a class's sigma needs before its baselines shrink to baseline_runs (a new class's first baseline runs until it has them) */
      min_sigma_df: z.number().int().nonnegative().default(20),
      /** a claim beating its class's baseline by more than this (bpb) is suspicious: it needs `suspicious_extra_owners` more independent owners before it counts */
      suspicious_jump: z.number().positive().default(0.1),
      suspicious_extra_owners: z.number().int().nonnegative().default(2),
    })
    .prefault({}),
  /** runs of the default branch per hardware class before its baseline counts */
  baseline_runs: z.number().int().min(2).default(10),
  /** free-tier experiments per author per UTC day, when their balance does not cover one */
  free_runs_per_day: z.number().int().nonnegative().default(3),
  /**
   * the free tier is for GitHub accounts at least this many days old (0: any account); null (the
   * default), it is `runners.min_account_age_days` (default 30): an account too new to earn credits with a
   * runner gets no free compute either, so N fresh accounts no longer buy N times the free tier
   */
  free_tier_min_account_age_days: z.number().nonnegative().nullable().default(null),
  /** close a discarded PR instead of only labelling it */
  close_on_discard: z.boolean().default(false),
  /** comment, label and score, but never merge or close */
  dry_run: z.boolean().default(false),
  /** how far runners are trusted: adaptive replication, bans, baselines, pace (docs/trust.md) */
  trust: z
    .object({
      /** results of an owner another owner's run agreed with before it is only spot-checked */
      replicate_until: z.number().int().nonnegative().default(10),
      /** share of a trusted owner's discards re-run by another owner, drawn per result */
      spot_check_rate: z.number().min(0).max(1).default(0.1),
      /** faults (outvoted results) that ban an owner */
      ban_after_faults: z.number().int().positive().default(2),
      /** distinct agreeing owners a hardware class's baseline needs */
      baseline_owners: z.number().int().positive().default(2),
      /** the largest weight a hardware class earns with, against the reference class (a cap on what an invented class can mint) */
      max_class_weight: z.number().positive().default(100),
      /** a run whose calibration is this much slower than its class's or its owner's usual pace is run again elsewhere */
      pace_tolerance: z.number().min(0).max(1).default(0.2),
      /**
       * bpb within which a replay (the same seeds and progress schedule) on a non-deterministic
       * backend (GPU) agrees with its original; on wasm and cpu the checkpoints must be identical.
       * An assumption until measured on a GPU (docs/trust.md, "Replays")
       */
      replay_tolerance: z.number().nonnegative().default(0.02),
      /**
       * backends whose training is bit-reproducible for the same seeds and schedule: their replays
       * compare checkpoint digests. Add the GPU backend only on a fleet whose kernels are made
       * deterministic (e.g. TensorFlow's TF_DETERMINISTIC_OPS), one GPU model and library version per class
       */
      deterministic_backends: z.array(z.string().min(1)).default(['wasm', 'cpu']),
      /**
       * a ban reverses every credit of the banned owner that no bit-exact (digest) replay proved,
       * not only the unconfirmed ones: a score another owner agreed with proves no training
       */
      ban_forfeits: z.boolean().default(true),
      /**
       * the spot check's rate falls as an owner's agreeing results grow, as BOINC's adaptive
       * replication does (1/CV): spot_check_rate at replicate_until agreeing results, then
       * spot_check_rate x replicate_until / agreed. Off by default: owners who turn lazy once
       * trusted earned 10-20% of all credit with it in the simulator, 0.2% without (docs/trust.md 6)
       */
      spot_check_decay: z.boolean().default(false),
      /**
       * agreeing runs of distinct owners needed to outvote a run (a fault), in a replay's verdict
       * and among a claim's fresh-seed runs. 3: no two owners together can frame an honest one,
       * deny its run its credit or refute its improvement; a disagreement costs one run more
       * (docs/trust.md, "Why three")
       */
      outvote_quorum: z.number().int().min(2).max(5).default(3),
    })
    .prefault({}),
  /** volunteer runners: the JIT-config route's limits, who may run jobs, and the CLI's public settings (docs/runners.md) */
  runners: RunnerSettings.prefault({}),
  /** owner logins whose runners' uncontained (isolation none) results count: an operator's own fleets */
  containment: z.object({ trusted_fleets: z.array(z.string().min(1)).default([]) }).prefault({}),
  /**
   * The FineWeb-Edu shards official runs train and evaluate on, each pinned by sha256 (`npm run
   * pin-data` writes this block). Absent or empty: official runs use the public Brown split, and
   * every score says so.
   */
  fineweb_shards: FinewebShards.nullish().transform((v) => v ?? undefined),
});
export type AutoresearchConfig = z.infer<typeof AutoresearchConfig>;

export interface LoadedConfig {
  config: AutoresearchConfig;
  /** false when the file is missing or invalid: the App then never merges or closes */
  mayAct: boolean;
  /** why the App will not merge, in one sentence, or null */
  notice: string | null;
}

/** The file's text parsed; a YAML syntax error is reported like an invalid field. */
export function loadConfigText(text: string): LoadedConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    return {
      config: AutoresearchConfig.parse({}),
      mayAct: false,
      notice: `\`.github/${CONFIG_FILE}\` is not valid YAML (${(e as Error).message.split('\n')[0]}). Fix it; until then the App uses the defaults and never merges or closes.`,
    };
  }
  return loadConfig(raw);
}

/** `raw`: the parsed file, or null when the repository has no config file. */
export function loadConfig(raw: unknown): LoadedConfig {
  if (raw === null || raw === undefined) {
    return {
      config: AutoresearchConfig.parse({}),
      mayAct: false,
      notice: `This repository has no \`.github/${CONFIG_FILE}\`, so the App scores experiments but never merges or closes; add the file (see the example in this repository) to enable merging.`,
    };
  }
  const parsed = AutoresearchConfig.strict().safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const fix = first.path[0] === 'fineweb_shards' ? ` (${PIN_FIX})` : '';
    return {
      config: AutoresearchConfig.parse({}),
      mayAct: false,
      notice: `\`.github/${CONFIG_FILE}\` is invalid at \`${first.path.join('.') || '(root)'}\`: ${first.message}${fix}. Fix that field; until then the App uses the defaults (no pinned shards: official runs are scored on Brown) and never merges or closes.`,
    };
  }
  const config = parsed.data;
  return {
    config,
    mayAct: !config.dry_run,
    notice: config.dry_run ? `\`dry_run: true\` in \`.github/${CONFIG_FILE}\`: the App scores experiments but never merges or closes.` : null,
  };
}

/** The age in days a PR author's account needs for free-tier runs (`free_tier_min_account_age_days`, else `runners.min_account_age_days`). */
export function freeTierMinAgeDays(config: AutoresearchConfig): number {
  return config.free_tier_min_account_age_days ?? config.runners.min_account_age_days;
}
