// The ledger's entry types: the contract between its one writer (the App) and its readers
// (the leaderboard, `npm run ledger`, anyone auditing). Pure data, nothing GitHub-specific.
import { z } from 'zod';
import { PaceFloors } from '../trainer/pace-floors.js';
import { ExperimentResult, Role } from '../trainer/result.js';

const login = z.string().min(1);
const sha40 = z.string().regex(/^[0-9a-f]{40}$/);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const EntryData = {
  /** a volunteer's runner joined; credits for its jobs go to `owner` */
  runner_registered: z.object({
    runner_name: z.string(),
    owner: login,
    hardware_class: z.string(),
    labels: z.array(z.string()),
    /** how: the runner route (`runner join`, class measured by doctor) or an admin's labels (a fleet), recorded at its first result; absent in older entries: the route */
    registered_by: z.enum(['route', 'labels']).optional(),
    /** when the owner's GitHub account was created (GitHub's users API), for the eligibility policy; absent in older entries */
    owner_created_at: z.string().nullable().optional(),
    /** the owner's GitHub account id (GitHub's users API): a login can be renamed or taken by another account, the id cannot; absent in older entries */
    owner_id: z.number().int().positive().optional(),
  }),
  runner_retired: z.object({ runner_name: z.string(), owner: login, reason: z.string() }),
  /** the App dispatched experiment.yml; job_id is the nonce given to the run */
  job_dispatched: z.object({
    job_id: z.string(),
    role: Role,
    repo: z.string(),
    pr: z.number().int().nullable(),
    sha: sha40,
    author: login.nullable(), // who pays (null for swarm-paid baseline/verify runs)
    hardware_class: z.string().nullable(),
    eval_seed: z.number().int(),
    /** the training seed the run is given (fresh per run: seed luck is noise); absent in older entries */
    seed: z.number().int().optional(),
    budget_seconds: z.number().positive(),
    attempt: z.number().int().positive(),
    verifies: z.string().nullable(), // job_id of the claim a verify run checks
    /** the PR's title and author at dispatch (so scoring needs no look-up); absent in older entries */
    title: z.string().nullable().optional(),
    pr_author: login.nullable().optional(),
    /** the GitHub account id of `author` (the PR's author's, from its webhook): free-tier runs are counted per account, whatever its login; absent in older entries and swarm-paid runs */
    author_id: z.number().int().nonnegative().optional(),
    /** the App's seal public key the run was given (the workflow's `seal_key` input): its ok result must carry a sealed checkpoint digest; absent when none was sent */
    seal_key: z.string().optional(),
    /** the runner label the run was dispatched to (a hardware class, `autoresearch`, or one owner's `owner-<login>`); absent in older entries */
    runner_label: z.string().optional(),
    /** a replay: the progress schedule (the replayed result's `replay.schedule`) the run must follow, with the replayed run's seed, eval seed and budget (docs/trust.md, "Replays"); absent for a run on the clock */
    replay: z.string().max(16384).optional(),
    /** the pre-flight floors the run was sent (the workflow's `pace_floors` input, app/policy/pace.ts): an off_pace result must name its class's; absent when none were sent */
    pace_floors: PaceFloors.optional(),
  }),
  /**
   * a runner took the job's run later than right after its dispatch (GitHub's workflow_job
   * `in_progress`: `started_at` is the App's clock when it heard; or, when that event was lost, the
   * jobs API's started_at kept within the dispatch and the tick): the job's deadline counts from
   * `started_at`. One per job, never after its result; a job without one started at once, or is
   * still queued (the App asks GitHub which).
   */
  job_started: z.object({ job_id: z.string(), run_id: z.number().int(), runner_name: z.string().min(1), started_at: z.string() }),
  /**
   * a valid PR commit waits for a runner slot (or for its author's credits, or for a baseline of
   * `waiting_for`): the App's queue lives in the ledger, so scheduling needs no listing of PRs.
   * It leaves the queue when a candidate job of the PR is dispatched, the PR is decided, or
   * `experiment_dequeued` (closed, superseded) is recorded.
   */
  experiment_queued: z.object({
    pr: z.number().int(),
    sha: sha40,
    author: login,
    title: z.string().nullable(),
    check: z.number().int().nullable(), // the val_bpb check run of the commit
    comment: z.number().int().nullable(), // the PR's sticky comment
    waiting_for: z.object({ hardware_class: z.string(), sha: sha40 }).nullable(), // a baseline it needs first
    // run it on this class (its label): no baseline of the class it ran on could be established
    on_class: z.string().min(1).optional(),
    // its place in the queue (ISO time), kept from the commit it replaces when the App brought the
    // PR's branch up to date (experiment_outdated); absent: its place is the entry's own time
    since: z.string().optional(),
    // its run was paid for with that outdated commit (a commit is paid for once: app/heads.ts)
    prepaid: z.literal(true).optional(),
    // the GitHub account id of `author` (as job_dispatched.author_id); absent in older entries
    author_id: z.number().int().nonnegative().optional(),
  }),
  experiment_dequeued: z.object({ pr: z.number().int(), sha: sha40, reason: z.string() }),
  /**
   * a PR commit not run because the default branch changed `path` since it branched (at
   * `default_sha`): a run would score a file that no merge would write (app/outdated.ts). `update`:
   * `requested`, the App asked GitHub to merge the default branch into the PR's branch (its next
   * head keeps the queue place `since` and the payment); `refused`, GitHub would not (a conflict,
   * no permission on a fork): the author updates the branch. Takes the commit off the queue.
   */
  experiment_outdated: z.object({
    pr: z.number().int(),
    sha: sha40,
    default_sha: sha40,
    path: z.string().min(1),
    update: z.enum(['requested', 'refused']),
    since: z.string(),
  }),
  /** a result came back: validated, or rejected with the reason. Rejected results earn nothing. */
  result_recorded: z.object({
    job_id: z.string(),
    role: Role,
    pr: z.number().int().nullable(),
    sha: sha40,
    title: z.string().nullable(), // the PR title at scoring time
    author: login.nullable(),
    runner_name: z.string().nullable(),
    runner_owner: login.nullable(),
    run_url: z.string().nullable(), // the workflow run (logs)
    validated: z.boolean(),
    reason: z.string().nullable(), // why it was rejected
    result: ExperimentResult.nullable(), // null when the artifact could not be read at all
    diff_path: z.string().nullable(), // archived train.ts diff beside the ledger, e.g. diffs/<sha>.diff (older entries)
    diff_sha256: sha256.nullable(),
    /** the unified diff of train.ts against the default branch it ran on, archived in the entry itself (so the chain covers it) */
    diff: z.string().nullable().optional(),
    log_excerpt: z.string().nullable(),
    /**
     * how long GitHub says the run's job took (its own started/completed times), seconds: a runner
     * is credited for at most this much training, whatever its result.json claims. Absent in older entries.
     */
    job_seconds: z.number().nonnegative().nullable().optional(),
    /**
     * sha256(digest + job_id) of the checkpoint digest the run sealed to the App's key (ledger/replays.ts
     * digestCommitment): the digest itself stays secret until the run's replays are judged
     * (`replay_judged` reveals it). Absent when the run sealed none.
     */
    digest_commitment: sha256.optional(),
    /**
     * the result is refused as a forgery no honest harness produces (another job's artifact, nonce
     * or sealed box, seeds or a budget other than the dispatch's: app/policy/result-check.ts
     * `fault`): a fault of its runner's owner (ledger/trust.ts), toward a ban. Only on a refused result.
     */
    forgery: z.literal(true).optional(),
  }),
  verification: z.object({
    job_id: z.string(), // the claim
    verify_job_id: z.string(),
    agreed: z.boolean(),
    claim_bpb: z.number(),
    verify_bpb: z.number(),
    tolerance: z.number(),
  }),
  experiment_merged: z.object({
    pr: z.number().int(),
    sha: sha40,
    merge_sha: sha40,
    hardware_class: z.string(),
    val_bpb: z.number(),
    baseline_mean: z.number(),
    job_ids: z.array(z.string()),
    /**
     * the runs of `job_ids` that are also the first samples of `merge_sha`'s baseline on
     * `hardware_class` (the same train.ts under the same harness: docs/trust.md 2a, "Reusing the
     * merged claim's runs"; ledger/baseline-reuse.ts says which may be); absent: none
     */
    baseline_job_ids: z.array(z.string()).optional(),
  }),
  experiment_discarded: z.object({
    pr: z.number().int(),
    sha: sha40,
    reason: z.string(),
    hardware_class: z.string().nullable(),
    val_bpb: z.number().nullable(),
  }),
  /** the default branch's score and speed on one class; the class weight for credits comes from tokens_per_second */
  baseline_recorded: z.object({
    hardware_class: z.string(),
    sha: sha40,
    mean: z.number(),
    sigma: z.number().nonnegative(),
    n: z.number().int().positive(),
    tokens_per_second: z.number().positive(),
    job_ids: z.array(z.string()),
  }),
  /** one credit = one second of training on the reference class */
  credit_granted: z.object({
    login,
    amount: z.number().nonnegative(),
    job_id: z.string(),
    train_seconds: z.number().nonnegative(),
    hardware_class: z.string(),
    class_weight: z.number().positive(),
    weight_basis: z.string(), // e.g. "tokens/s 41000 on gpu-rtx-4090 / 20500 on reference gpu-a10g"
  }),
  credit_spent: z.object({ login, amount: z.number().nonnegative(), job_id: z.string(), reason: z.string() }),
  credit_reversed: z.object({ login, amount: z.number().nonnegative(), job_id: z.string(), reason: z.string() }),
  /**
   * the replication policy in force from here on (docs/trust.md), recorded by the App before the
   * first result it judges under it and again whenever `.github/autoresearch.yml` changes it, so
   * `npm run ledger -- verify` can recompute every owner's trust and check each grant, merge and
   * baseline against it. A ledger without one predates replication and is checked without it.
   */
  trust_policy: z.object({
    /** agreeing results before an owner is only spot-checked */
    replicate_until: z.number().int().nonnegative(),
    /** the share of a trusted owner's discards re-run by another owner */
    spot_check_rate: z.number().min(0).max(1),
    /** independent agreeing owners, besides the claim's, a merge needs */
    quorum: z.number().int().nonnegative(),
    /** bpb within which two runs of the same job agree: the floor of the tolerance the App scales with the class's sigma */
    tolerance: z.number().nonnegative(),
    /**
     * two runs agree within max(tolerance, agree_sigmas x sqrt(2) x the class's sigma), the sigma
     * pooled over its baselines (verification.agree_sigmas): recorded so the audit can recompute the
     * tolerance of a verification or fault (ledger/audit.ts appTolerance). Absent in older entries:
     * a recorded tolerance is then checked against the floor only
     */
    agree_sigmas: z.number().nonnegative().optional(),
    /** faults that ban an owner */
    ban_after_faults: z.number().int().positive(),
    /** distinct agreeing owners a class's baseline needs */
    baseline_owners: z.number().int().positive(),
    /** the largest class weight a grant may use: bounds what owners who invent a fast class can mint */
    max_class_weight: z.number().positive().optional(),
    /** bpb within which a replay on a non-deterministic backend (GPU) agrees with its original; absent in older entries */
    replay_tolerance: z.number().nonnegative().optional(),
    /** backends whose replays are compared by checkpoint digest (ledger/replays.ts); absent in older entries: wasm and cpu */
    deterministic_backends: z.array(z.string()).optional(),
    /**
     * a ban reverses every credit of the banned owner that no bit-exact (digest) replay proved:
     * agreement by score proves no training (a lazy runner copies a plausible score). Absent in
     * older entries: a ban reverses only credits no other owner's run confirmed
     */
    ban_forfeits: z.boolean().optional(),
    /**
     * the spot check's rate falls as an owner's agreeing results grow (BOINC's adaptive replication:
     * 1/CV): spot_check_rate x replicate_until / agreed, frozen for a result when it is recorded.
     * Absent in older entries: the fixed spot_check_rate
     */
    spot_check_decay: z.boolean().optional(),
    /**
     * agreeing runs of distinct owners needed to outvote a run: in a replay's verdict (ledger/replays.ts
     * replayVerdict) and in a fault on fresh-seed runs (the audit's faultProblem). 3 means no two
     * owners together can fault anyone. Absent in older entries: 2
     */
    outvote_quorum: z.number().int().min(2).optional(),
  }),
  /**
   * an owner's result was outvoted: other owners' runs of the same job (`agreed_job_ids`) agree
   * with each other and not with `job_id`. Its trust resets; its pending credits are reversed.
   */
  /** `tolerance`: the agreement tolerance (bpb) the runs were judged with, scaled with the class's sigma; the policy's when absent */
  owner_faulted: z.object({
    login,
    job_id: z.string(),
    claim_job_id: z.string(),
    agreed_job_ids: z.array(z.string()).min(2),
    reason: z.string(),
    tolerance: z.number().nonnegative().optional(),
    /** a shading fault (ledger/shading.ts): the test on the owner's own replayed runs (`agreed_job_ids` then lists them), which the audit recomputes */
    shading: z.object({ n: z.number().int().positive(), mean: z.number(), sigma: z.number().positive(), z: z.number() }).optional(),
    /** a flat-scores fault (ledger/flat-scores.ts): the spread of the owner's own first runs (`agreed_job_ids` lists them) against its class's, which the audit recomputes */
    flat: z
      .object({
        n: z.number().int().positive(),
        sd: z.number().nonnegative(),
        scale: z.number().positive(),
        q: z.number().nonnegative(),
        p: z.number().min(0).max(1),
        band: z.object({ n: z.number().int().positive(), k: z.number().int().nonnegative(), share: z.number().min(0).max(1), p: z.number().min(0).max(1) }).optional(),
      })
      .optional(),
  }),
  /**
   * the replays of a run are judged (docs/trust.md, "Replays"): the original `job_id` and its
   * replays (the same seeds, budget and progress schedule, on runners of other owners), with the
   * checkpoint digests each sealed, revealed now (`digests[0]` the original's, then one per replay;
   * null: none), compared `by` digest (deterministic backends) or val_bpb within `tolerance`.
   * `verdict` and `outvoted` must be what ledger/replays.ts replayVerdict makes of them; an
   * outvoted run's owner is faulted by the owner_faulted entries that follow.
   */
  replay_judged: z.object({
    job_id: z.string(),
    replay_job_ids: z.array(z.string()).min(1),
    digests: z.array(sha256.nullable()).min(2),
    by: z.enum(['digest', 'val_bpb']),
    tolerance: z.number().nonnegative(),
    verdict: z.enum(['agreed', 'outvoted', 'not_replayable']),
    outvoted: z.array(z.string()),
    reason: z.string(),
  }),
  /** an owner whose results no longer count or earn (repeated faults); runners of theirs are refused */
  owner_banned: z.object({ login, reason: z.string() }),
  /**
   * the App is about to merge a verified PR commit (recorded before the merge call): settled by
   * experiment_merged or merge_abandoned; until then the tick's reconcile pass asks GitHub what
   * became of the PR and records it (so a merge whose record was lost is still recorded and credited)
   */
  merge_intended: z.object({
    pr: z.number().int(),
    sha: sha40,
    base_sha: sha40, // the default branch's head the merge is guarded on
    hardware_class: z.string(),
    val_bpb: z.number(),
    baseline_mean: z.number(),
    job_ids: z.array(z.string()),
  }),
  /** a merge_intended that did not happen (the branch moved, the PR was closed or pushed to, GitHub refused) */
  merge_abandoned: z.object({ pr: z.number().int(), sha: sha40, reason: z.string() }),
  /** a PR commit that is not a valid experiment (paths, size, encoding): the App saw it and ran nothing */
  experiment_rejected: z.object({ pr: z.number().int(), sha: sha40, problems: z.array(z.string()) }),
} as const;

export type EntryType = keyof typeof EntryData;
export const ENTRY_TYPES = Object.keys(EntryData) as EntryType[];
export type EntryDataOf<T extends EntryType> = z.infer<(typeof EntryData)[T]>;

/** A stored entry. `hash` = sha256 hex of canonical JSON of {seq, time, type, data, prev}. */
export interface LedgerEntry<T extends EntryType = EntryType> {
  seq: number; // 0, 1, 2, ... with no gaps
  time: string; // ISO 8601
  type: T;
  data: EntryDataOf<T>;
  prev: string; // hash of entry seq-1; 64 zeros for seq 0
  hash: string;
}

/** What a writer hands to `append`: the ledger fills seq, prev and hash. */
export interface NewEntry<T extends EntryType = EntryType> {
  type: T;
  data: EntryDataOf<T>;
  time?: string;
}
