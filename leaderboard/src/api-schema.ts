// The JSON API's schema, version 1: the one definition of what the site publishes under
// api/v1/. The generator's types are inferred from it, the tests parse every file with it, and
// docs/api.md describes it for agents. A breaking change means api/v2 beside v1, never an edit here.
import { z } from 'zod';
import { FailureKind } from '../../trainer/result.js';

export const API_VERSION = 1;
const version = z.literal(API_VERSION);

export const ExperimentStatus = z.enum(['merged', 'discarded', 'pending', 'failed', 'rejected']);

export const ApiVerification = z.object({
  verify_job_id: z.string(),
  agreed: z.boolean(),
  claim_bpb: z.number(),
  verify_bpb: z.number(),
  tolerance: z.number(),
  runner_owner: z.string().nullable(),
  run_url: z.string().nullable(),
});

export const ApiExperiment = z.object({
  id: z.number().int().nonnegative(), // ledger seq of its result_recorded entry
  url: z.string(), // its HTML page, relative to the site root
  job_id: z.string(),
  pr: z.number().int().nullable(),
  pr_url: z.string().nullable(), // the PR's files tab on GitHub
  sha: z.string(),
  title: z.string().nullable(),
  author: z.string().nullable(),
  runner_owner: z.string().nullable(),
  hardware_class: z.string(),
  status: ExperimentStatus,
  reason: z.string().nullable(),
  val_bpb: z.number().nullable(),
  baseline_mean: z.number().nullable(),
  delta: z.number().nullable(), // val_bpb - baseline_mean; negative is better
  verification: ApiVerification.nullable(),
  failure_kind: FailureKind.nullable(),
  time: z.string(),
  run_url: z.string().nullable(),
  merge_sha: z.string().nullable().optional(), // merged: the commit the merge made on the default branch (added in v1.1; absent in older files)
  diff: z.string().nullable(), // the unified diff of train.ts that was tested, as archived at scoring time
  steps: z.number().int().nullable(),
  params: z.number().int().nullable(),
  tokens_per_second: z.number().nullable(),
  train_seconds: z.number().nullable(),
});
export type ApiExperiment = z.infer<typeof ApiExperiment>;

// Pages are anchored at the oldest experiment: page n holds experiments (n-1)*per_page+1 ..
// n*per_page in ledger order, oldest first, and never holds other ones; only the newest page
// (index.json's newest_page) grows. A page's file changes only when one of its experiments does
// (a later verification, merge or discard), so an agent can cache the pages it has read. It
// carries nothing about the other pages (no page count, no total): that is in index.json.
export const ApiExperimentsPage = z.object({
  schema_version: version,
  page: z.number().int().positive(),
  per_page: z.number().int().positive(),
  order: z.literal('oldest_first'),
  experiments: z.array(ApiExperiment),
});
export type ApiExperimentsPage = z.infer<typeof ApiExperimentsPage>;

export const ApiBaseline = z.object({
  sha: z.string(),
  mean: z.number(),
  sigma: z.number(),
  n: z.number().int(),
  time: z.string(),
});

export const ApiClass = z.object({
  hardware_class: z.string(),
  experiments: z.number().int().nonnegative(),
  merged: z.number().int().nonnegative(),
  baseline: ApiBaseline.nullable(), // the latest baseline of the default branch on this class
  best: ApiExperiment.nullable(), // the lowest val_bpb among merged experiments
  progress_url: z.string(),
});

export const ApiBest = z.object({ schema_version: version, classes: z.array(ApiClass) });
export type ApiBest = z.infer<typeof ApiBest>;

/** A runner owner's standing under the trust policy (leaderboard/src/owner-trust.ts; added in v1.2). */
export const ApiOwnerTrust = z.object({
  status: z.enum(['probation', 'trusted', 'banned']),
  agreed: z.number().int().nonnegative(), // results another owner's run agreed with, since its last fault
  needed: z.number().int().nonnegative(), // replicate_until: agreeing results after which only spot checks are made
  faults: z.number().int().nonnegative(), // results outvoted by other owners' runs
  replays_passed: z.number().int().nonnegative(), // its runs that a replay (same seeds and schedule) agreed with
  replays_failed: z.number().int().nonnegative(), // its runs that replays outvoted
  banned_reason: z.string().nullable(),
});
export type ApiOwnerTrust = z.infer<typeof ApiOwnerTrust>;

export const ApiContributor = z.object({
  login: z.string(),
  experiments: z.number().int().nonnegative(),
  merged: z.number().int().nonnegative(),
  gpu_seconds: z.number().nonnegative(), // validated job time on runners this login owns
  earned: z.number(),
  pending: z.number(),
  spent: z.number(),
  reversed: z.number(),
  balance: z.number(),
  trust: ApiOwnerTrust.nullable().optional(), // null: this login ran no job
});
export type ApiContributor = z.infer<typeof ApiContributor>;

export const ApiRunner = z.object({
  runner_name: z.string(),
  owner: z.string(),
  hardware_class: z.string(),
  labels: z.array(z.string()),
  active: z.boolean(),
  jobs: z.number().int().nonnegative(),
  gpu_seconds: z.number().nonnegative(),
});
export type ApiRunner = z.infer<typeof ApiRunner>;

export const ApiContributors = z.object({
  schema_version: version,
  contributors: z.array(ApiContributor),
  runners: z.array(ApiRunner),
});
export type ApiContributors = z.infer<typeof ApiContributors>;

/** One hardware class's chart data, column by column (one row per point, in time order). */
export const ApiProgress = z.object({
  schema_version: version,
  hardware_class: z.string(),
  t: z.array(z.number()), // unix seconds
  bpb: z.array(z.number().nullable()), // null: no score (failed or rejected)
  best: z.array(z.number().nullable()), // running best after this row (baseline or merged)
  kind: z.array(z.enum(['baseline', 'merged', 'discarded', 'pending', 'failed', 'rejected'])),
  id: z.array(z.number().int().nullable()), // experiment id (null for baseline rows)
  pr: z.array(z.number().int().nullable()),
  title: z.array(z.string().nullable()).optional(), // the PR title of merged rows (the labelled points), null for the others (added in v1.1)
});
export type ApiProgress = z.infer<typeof ApiProgress>;

export const ApiIndex = z.object({
  schema_version: version,
  generated_at: z.string(),
  ledger: z.object({ seq: z.number().int(), hash: z.string(), entries: z.number().int().nonnegative() }),
  counts: z.object({
    experiments: z.number().int().nonnegative(),
    merged: z.number().int().nonnegative(),
    discarded: z.number().int().nonnegative(),
    pending: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    rejected: z.number().int().nonnegative(),
    contributors: z.number().int().nonnegative(),
    runners: z.number().int().nonnegative(),
  }),
  experiments_pages: z.number().int().nonnegative(),
  newest_page: z.number().int().positive(), // == experiments_pages: the page new experiments are added to
  per_page: z.number().int().positive(),
  links: z.object({
    experiments_page: z.string(), // a template: replace {n} with 1..experiments_pages
    best: z.string(),
    contributors: z.string(),
    progress: z.record(z.string(), z.string()), // hardware class -> its progress file
  }),
});
export type ApiIndex = z.infer<typeof ApiIndex>;
