// Test ledgers, made by the ledger module (appendEntries via sampleLedger), written as a checkout
// of the ledger branch, plus one hostile experiment whose title, login, diff, log and URLs carry
// HTML and script.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEntries, writeLedgerDir, type LedgerEntry } from '../../ledger/index.js';
import { sampleDiff, sampleLedger, sampleResult } from '../../leaderboard/src/sample-ledger.js';

export const HOSTILE = {
  pr: 666,
  title: '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> faster LR',
  author: '<b>mallory</b>',
  runnerOwner: 'owner"><script>window.__pwned=3</script>',
  diffLine: '// <script>window.__pwned=4</script> & </td></tr>',
  log: '</pre><script>window.__pwned=5</script>\nstep 10 loss 2.0',
  runUrl: 'javascript:window.__pwned=6',
};

export function hostileEntries(chain: LedgerEntry[]): { entries: LedgerEntry[]; files: Record<string, string> } {
  const sha = 'f'.repeat(40);
  const diff = sampleDiff(0, '3e-3', '9e-3', HOSTILE.diffLine);
  const diffPath = `diffs/${sha}.diff`;
  const finished = new Date(Date.parse(chain[chain.length - 1].time) + 60_000);
  const job = { role: 'candidate' as const, nonce: 'nonce-hostile-1', repo: 'swarm-org/autoresearch-swarm', pr: HOSTILE.pr, sha, run_id: 1, runner_name: 'gpu-h100-80gb-0', isolation: 'docker' as const };
  const entries = appendEntries(chain, [
    {
      type: 'result_recorded',
      time: finished.toISOString(),
      data: {
        job_id: 'job-hostile',
        role: 'candidate',
        pr: HOSTILE.pr,
        sha,
        title: HOSTILE.title,
        author: HOSTILE.author,
        runner_name: 'gpu-h100-80gb-0',
        runner_owner: HOSTILE.runnerOwner,
        run_url: HOSTILE.runUrl,
        validated: true,
        reason: null,
        result: sampleResult({ cls: 'gpu-h100-80gb', valBpb: 2.6, seed: 666, curvePoints: 5, finishedAt: finished, job }),
        diff_path: diffPath,
        diff_sha256: createHash('sha256').update(diff).digest('hex'),
        log_excerpt: HOSTILE.log,
      },
    },
  ]);
  return { entries, files: { [diffPath]: diff } };
}

/** A ledger checkout on disk: `experiments` simulated experiments, then the hostile one. */
export function writeTestLedger(experiments: number, opts: { hostile?: boolean } = {}): { dir: string; entries: LedgerEntry[] } {
  const sample = sampleLedger({ experiments, curvePoints: 12 });
  let entries = sample.entries;
  let files = sample.files;
  if (opts.hostile !== false) {
    const h = hostileEntries(entries);
    entries = [...entries, ...h.entries];
    files = { ...files, ...h.files };
  }
  const dir = join(mkdtempSync(join(tmpdir(), 'lb-test-')), 'ledger');
  writeLedgerDir(dir, entries, files);
  return { dir, entries };
}

/** Candidate results per hardware class, counted straight from the entries (not via the generator's code). */
export function candidatesByClass(entries: LedgerEntry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (e.type !== 'result_recorded') continue;
    const d = (e as LedgerEntry<'result_recorded'>).data;
    if (d.role !== 'candidate' || !d.result) continue;
    counts.set(d.result.hardware_class, (counts.get(d.result.hardware_class) ?? 0) + 1);
  }
  return counts;
}

/** Every file under `dir`, recursively. */
export function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}
