// A job the App closes without a run (superseded by a push, its PR closed, overdue) is recorded
// as a result_recorded entry with a reason and no result (app/dispatch.ts closeJob). It is not an
// experiment: it must not show as a "rejected" experiment of class "unknown" with a page and an
// empty chart of its own, only as a line in its PR's history.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeJob } from '../../app/dispatch.js';
import { closedReason, SUPERSEDED } from '../../app/heads.js';
import { appendEntries, writeLedgerDir, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { ApiBest, ApiExperimentsPage, ApiIndex, type ApiExperiment } from '../../leaderboard/src/api-schema.js';
import { buildSite } from '../../leaderboard/src/build.js';
import { readExperiments } from '../../leaderboard/src/experiments.js';
import { sampleLedger, sampleResult } from '../../leaderboard/src/sample-ledger.js';

const PR = 901;
const OLD = 'a'.repeat(40);
const NEW = 'b'.repeat(40);
const REPO = 'swarm-org/autoresearch-swarm';

/** A sample ledger, then PR 901: a job for OLD (any runner), closed when NEW was pushed, and NEW's scored run. */
function ledgerWithSupersededJob(): { entries: LedgerEntry[]; files: Record<string, string>; closedJob: string } {
  const sample = sampleLedger({ experiments: 6, curvePoints: 8 });
  const last = Date.parse(sample.entries[sample.entries.length - 1].time);
  const at = (min: number) => new Date(last + min * 60_000).toISOString();
  const dispatch = (job_id: string, sha: string, min: number): NewEntry => ({
    type: 'job_dispatched',
    time: at(min),
    data: { job_id, role: 'candidate', repo: REPO, pr: PR, sha, author: 'alice', hardware_class: null, eval_seed: 7, budget_seconds: 300, attempt: 1, verifies: null },
  });
  const closed = { ...closeJob({ job_id: 'job-old', role: 'candidate', pr: PR, sha: OLD, author: 'alice' }, `${SUPERSEDED}${NEW}`), time: at(2) };
  const finished = new Date(last + 9 * 60_000);
  const cls = sample.entries.find((e) => e.type === 'baseline_recorded')!.data as { hardware_class: string };
  const job = { role: 'candidate' as const, nonce: 'nonce-new', repo: REPO, pr: PR, sha: NEW, run_id: 4242, runner_name: 'gpu-0', isolation: 'docker' as const };
  const scored: NewEntry = {
    type: 'result_recorded',
    time: finished.toISOString(),
    data: {
      job_id: 'job-new', role: 'candidate', pr: PR, sha: NEW, title: 'Try a wider MLP', author: 'alice', runner_name: 'gpu-0', runner_owner: 'bob',
      run_url: `https://github.com/${REPO}/actions/runs/4242`, validated: true, reason: null,
      result: sampleResult({ cls: cls.hardware_class, valBpb: 2.9, seed: 4242, curvePoints: 8, finishedAt: finished, job }),
      diff_path: null, diff_sha256: null, diff: '--- a/trainer/train.ts\n+++ b/trainer/train.ts\n@@ -1 +1 @@\n-a\n+b\n', log_excerpt: 'val_bpb 2.9',
    },
  };
  const entries = [...sample.entries, ...appendEntries(sample.entries, [dispatch('job-old', OLD, 1), closed, dispatch('job-new', NEW, 3), scored])];
  return { entries, files: sample.files, closedJob: 'job-old' };
}

describe('a job closed without a run on the leaderboard', () => {
  let entries: LedgerEntry[];
  let site: string;
  let all: ApiExperiment[];
  let closedSeq: number;

  beforeAll(async () => {
    const l = ledgerWithSupersededJob();
    entries = l.entries;
    closedSeq = entries.find((e) => e.type === 'result_recorded' && (e.data as { job_id: string }).job_id === l.closedJob)!.seq;
    const dir = join(mkdtempSync(join(tmpdir(), 'lb-closed-')), 'ledger');
    writeLedgerDir(dir, entries, l.files);
    site = join(dir, '..', 'site');
    await buildSite(dir, site, { now: new Date('2026-02-01T00:00:00Z') });
    const index = ApiIndex.parse(JSON.parse(readFileSync(join(site, 'api/v1/index.json'), 'utf8')));
    all = [];
    for (let n = 1; n <= index.experiments_pages; n++) all.push(...ApiExperimentsPage.parse(JSON.parse(readFileSync(join(site, `api/v1/experiments/page-${n}.json`), 'utf8'))).experiments);
  });

  it('is not an experiment: no row, no page, no chart, no "unknown" class', () => {
    expect(all.find((e) => e.job_id === 'job-old')).toBeUndefined();
    expect(all.filter((e) => e.pr === PR).map((e) => [e.sha, e.status])).toEqual([[NEW, 'pending']]);
    expect(all.some((e) => e.hardware_class === 'unknown')).toBe(false);
    expect(existsSync(join(site, `experiments/${closedSeq}.html`))).toBe(false);
    const best = ApiBest.parse(JSON.parse(readFileSync(join(site, 'api/v1/best.json'), 'utf8')));
    expect(best.classes.map((c) => c.hardware_class)).not.toContain('unknown');
    const index = ApiIndex.parse(JSON.parse(readFileSync(join(site, 'api/v1/index.json'), 'utf8')));
    expect(index.counts.experiments).toBe(all.length);
    expect(index.counts.rejected).toBe(all.filter((e) => e.status === 'rejected').length);
  });

  it('shows as a line in its PR\'s history on the PR\'s experiment page', () => {
    const page = all.find((e) => e.pr === PR)!;
    const html = readFileSync(join(site, page.url), 'utf8');
    expect(html).toContain('PR history');
    expect(html).toContain(OLD.slice(0, 7));
    expect(html).toContain(`${SUPERSEDED}${NEW}`);
  });

  it('is told apart from a run whose result was rejected, which stays an experiment', () => {
    const view = readExperiments(entries);
    expect(view.experiments.map((e) => e.job_id)).not.toContain('job-old');
    expect(view.closedJobs.map((c) => [c.job_id, c.pr, c.sha, c.reason])).toEqual([['job-old', PR, OLD, `${SUPERSEDED}${NEW}`]]);
    // a run that reported but whose artifact could not be read: no result, yet a run (a URL, a runner)
    const rejected = [...entries, ...appendEntries(entries, [{
      ...closeJob({ job_id: 'job-new2', role: 'candidate', pr: PR, sha: NEW, author: 'alice' }, 'no result.json in the artifact'),
    }].map((e) => ({ ...e, data: { ...e.data, run_url: `https://github.com/${REPO}/actions/runs/4243`, runner_name: 'gpu-0', runner_owner: 'bob' } })) as NewEntry[])];
    const again = readExperiments(rejected);
    expect(again.experiments.find((e) => e.job_id === 'job-new2')?.status).toBe('rejected');
  });

  it('when a later job of the PR is closed, an incremental build renders that PR\'s experiment pages again with the line', async () => {
    const l = ledgerWithSupersededJob();
    const root = mkdtempSync(join(tmpdir(), 'lb-closed-inc-'));
    const dir = join(root, 'ledger');
    const cache = join(root, 'cache');
    const out = join(root, 'site');
    const now = new Date('2026-02-01T00:00:00Z');
    writeLedgerDir(dir, l.entries, l.files);
    await buildSite(dir, out, { now, cacheDir: cache });
    const page = join(out, `experiments/${l.entries[l.entries.length - 1].seq}.html`);
    expect(readFileSync(page, 'utf8')).not.toContain(closedReason(PR));
    // a push of C, its job dispatched, then the PR closed before the run reported
    const C = 'c'.repeat(40);
    const t = new Date(Date.parse(l.entries[l.entries.length - 1].time) + 60_000).toISOString();
    const more = appendEntries(l.entries, [
      { type: 'job_dispatched', time: t, data: { job_id: 'job-c', role: 'candidate', repo: REPO, pr: PR, sha: C, author: 'alice', hardware_class: null, eval_seed: 7, budget_seconds: 300, attempt: 1, verifies: null } },
      { ...closeJob({ job_id: 'job-c', role: 'candidate', pr: PR, sha: C, author: 'alice' }, closedReason(PR)), time: t },
    ]);
    writeLedgerDir(dir, [...l.entries, ...more], l.files);
    const second = await buildSite(dir, out, { now, cacheDir: cache });
    expect(second.mode).toBe('incremental');
    expect(second.rendered).toBe(1);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain(closedReason(PR));
    expect(html).toContain(`${SUPERSEDED}${NEW}`);
  });
});

describe('an outdated commit on the leaderboard', () => {
  it('is not left pending for ever: its row says it was set aside as outdated and why', () => {
    const { entries } = ledgerWithSupersededJob();
    const outdated: NewEntry = { type: 'experiment_outdated', time: new Date(Date.parse(entries.at(-1)!.time) + 60_000).toISOString(), data: { pr: PR, sha: NEW, default_sha: 'c'.repeat(40), path: 'trainer/train.ts', update: 'requested', since: entries.at(-1)!.time } };
    const before = readExperiments(entries).experiments.find((x) => x.pr === PR && x.sha === NEW)!;
    expect(before.status).toBe('pending');
    const after = readExperiments([...entries, ...appendEntries(entries, [outdated])]).experiments.find((x) => x.pr === PR && x.sha === NEW)!;
    expect(after.status).toBe('discarded');
    expect(after.reason).toMatch(/^outdated: `trainer\/train.ts` changed on the default branch since this commit branched; the App updated the branch/);
  });
});
