// Experiment records -> the JSON API's objects (api-schema.ts). The HTML pages read the same
// objects, so a number on a page and in the API cannot disagree.
import { API_VERSION, type ApiBest, type ApiExperiment } from './api-schema.js';
import type { Baseline, Experiment } from './experiments.js';
import { paths } from './paths.js';

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** The repository's address on GitHub, when the ledger names it as a plain owner/name. */
export function repoUrl(repo: string | null): string | null {
  return repo && REPO.test(repo) ? `https://github.com/${repo}` : null;
}

/** The PR's files tab: it keeps the diff after the branch is deleted. */
export function prFilesUrl(repo: string | null, pr: number | null): string | null {
  const base = repoUrl(repo);
  return base && pr !== null ? `${base}/pull/${pr}/files` : null;
}

/** The archived diff's file name in the site, or null when the ledger path is not a plain diffs/<name>. */
export function diffFileName(diffPath: string | null): string | null {
  const m = diffPath ? /^diffs\/([A-Za-z0-9_.-]+\.diff)$/.exec(diffPath) : null;
  return m ? m[1] : null;
}

export function toApiExperiment(e: Experiment, diff: string | null): ApiExperiment {
  const r = e.result;
  return {
    id: e.seq,
    url: paths.experiment(e.seq),
    job_id: e.job_id,
    pr: e.pr,
    pr_url: prFilesUrl(e.repo, e.pr),
    sha: e.sha,
    title: e.title,
    author: e.author,
    runner_owner: e.runner_owner,
    hardware_class: e.hardware_class,
    status: e.status,
    reason: e.reason,
    val_bpb: e.val_bpb,
    baseline_mean: e.baseline_mean,
    delta: e.delta,
    verification: e.verification,
    failure_kind: r?.failure?.kind ?? null,
    time: e.time,
    run_url: e.run_url,
    merge_sha: e.merge_sha,
    diff,
    steps: r?.steps ?? null,
    params: r?.params ?? null,
    tokens_per_second: r?.tokens_per_second ?? null,
    train_seconds: r?.train_seconds ?? null,
  };
}

export function bestPerClass(
  classes: readonly string[],
  slugs: ReadonlyMap<string, string>,
  experiments: readonly ApiExperiment[],
  baselines: readonly Baseline[],
): ApiBest {
  return {
    schema_version: API_VERSION,
    classes: classes.map((cls) => {
      let best: ApiExperiment | null = null;
      let count = 0;
      let merged = 0;
      for (const e of experiments) {
        if (e.hardware_class !== cls) continue;
        count++;
        if (e.status !== 'merged' || e.val_bpb === null) continue;
        merged++;
        if (!best || e.val_bpb < (best.val_bpb as number)) best = e;
      }
      let baseline: Baseline | null = null;
      for (const b of baselines) if (b.hardware_class === cls) baseline = b;
      return {
        hardware_class: cls,
        experiments: count,
        merged,
        baseline: baseline ? { sha: baseline.sha, mean: baseline.mean, sigma: baseline.sigma, n: baseline.n, time: baseline.time } : null,
        best,
        progress_url: paths.apiProgress(slugs.get(cls) as string),
      };
    }),
  };
}
