// npm run bench:ledger: builds a 100,000-entry ledger shaped like the swarm's (each experiment:
// dispatch, payment, a result with a 256-point loss curve, a grant, a decision; some verified and
// merged, then re-baselined), writes it as a checkout, reads it back and audits it, and prints
// the seconds of each step and the shard sizes. Target: verify under 10 s.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentResult } from '../trainer/result.js';
import { auditLedger } from './audit.js';
import { appendEntries } from './chain.js';
import { FREE_TIER_REASON, LedgerState } from './credits.js';
import type { LedgerEntry, NewEntry } from './entries.js';
import { readLedgerDir, shardFiles, writeLedgerDir } from './ledger-dir.js';
import { verifyLedgerDir } from './verify-dir.js';
import { SHARD_MAX_BYTES } from './shards.js';

const N = Number(process.env.LEDGER_BENCH_ENTRIES ?? 100_000);
const CLASSES = [
  ['gpu-a10g', 21_000],
  ['gpu-rtx-4090', 43_500],
  ['gpu-h100-80gb', 98_000],
] as const;
const OWNERS = Array.from({ length: 40 }, (_, i) => `gpu-owner-${i}`);
const AUTHORS = Array.from({ length: 25 }, (_, i) => `agent-${i}`);

let x = 12345;
const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0').slice(-len);

function result(job: string, cls: string, tps: number, pr: number | null, role: 'candidate' | 'verify' | 'baseline'): ExperimentResult {
  const train = 299 + rnd();
  const steps = Math.round(tps * train / 2048);
  const curve = Array.from({ length: 256 }, (_, i) => ({ step: Math.round((i * steps) / 255), t: (i * train) / 255, loss: 5.5 * Math.exp(-i / 60) + 1.4 + rnd() * 0.05 }));
  return {
    schema_version: 1, harness_version: '1.0.0', status: 'ok', failure: null,
    val_bpb: 1.9 + rnd() * 0.3, unigram_bpb: 4.52, bigram_bpb: 3.61, eval_bytes: 1_048_576, eval_split: 'heldout', dataset: 'brown',
    steps, tokens: Math.round(tps * train), budget_seconds: 300, train_seconds: train, total_seconds: train + 14.2, tokens_per_second: tps,
    params: 3_412_480, backend: 'tensorflow', device: `${cls} (CUDA)`, hardware_class: cls, peak_memory_mb: 2900 + rnd() * 200,
    seed: 1, eval_seed: Math.floor(rnd() * 1e9), candidate_sha256: hex(Math.floor(rnd() * 2 ** 52), 64), harness_sha256: 'ab'.repeat(32),
    loss_curve: curve, started_at: '2026-03-02T10:00:00.000Z', finished_at: '2026-03-02T10:05:14.200Z',
    job: { role, nonce: `nonce-${job}`, repo: 'octo-org/swarm', pr, sha: hex(pr ?? 0, 40), run_id: 1000 + pr!, runner_name: 'rig', isolation: 'docker' },
  };
}

function build(): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  let clock = Date.parse('2026-03-01T00:00:00Z');
  const add = (news: NewEntry[]) => {
    for (const n of news) n.time = new Date((clock += 1000)).toISOString();
    for (const e of appendEntries(entries, news)) entries.push(e);
  };
  const state = new LedgerState();
  let applied = 0;
  const sync = () => {
    while (applied < entries.length) state.apply(entries[applied++]);
  };
  const recordResult = (job: string, owner: string, cls: string, tps: number, pr: number | null, role: 'candidate' | 'verify' | 'baseline'): NewEntry => ({
    type: 'result_recorded',
    data: { job_id: job, role, pr, sha: hex(pr ?? 0, 40), title: pr ? `Try a wider MLP (#${pr})` : null, author: null, runner_name: `${owner}-rig`, runner_owner: owner,
      run_url: `https://github.com/octo-org/swarm/actions/runs/${job}`, validated: true, reason: null, result: result(job, cls, tps, pr, role),
      diff_path: pr ? `diffs/${hex(pr, 40)}.diff` : null, diff_sha256: pr ? 'cd'.repeat(32) : null, log_excerpt: 'step 1200 | loss 1.61 | 43,100 tok/s\n'.repeat(8) },
  });
  const baselines = (sha: number) => {
    add(CLASSES.map(([cls, tps]) => ({ type: 'baseline_recorded', data: { hardware_class: cls, sha: hex(sha, 40), mean: 2.0, sigma: 0.01, n: 3, tokens_per_second: tps * (0.98 + rnd() * 0.04), job_ids: [`base-${sha}-${cls}`] } })));
  };
  for (const o of OWNERS) add([{ type: 'runner_registered', data: { runner_name: `${o}-rig`, owner: o, hardware_class: pick(CLASSES)[0], labels: ['self-hosted', 'autoresearch'] } }]);
  baselines(0);
  sync();
  for (let pr = 1; entries.length < N; pr++) {
    const job = `job-${pr}`;
    const author = pick(AUTHORS);
    const [cls, tps] = pick(CLASSES);
    const owner = pick(OWNERS);
    sync();
    const balance = state.accounts.get(author);
    const pays = balance && balance.earned - balance.spent - balance.reversed >= 300;
    add([
      { type: 'job_dispatched', data: { job_id: job, role: 'candidate', repo: 'octo-org/swarm', pr, sha: hex(pr, 40), author, hardware_class: cls, eval_seed: pr, budget_seconds: 300, attempt: 1, verifies: null } },
      { type: 'credit_spent', data: { login: author, amount: pays ? 300 : 0, job_id: job, reason: pays ? 'experiment' : FREE_TIER_REASON } },
    ]);
    add([recordResult(job, owner, cls, tps, pr, 'candidate')]);
    sync();
    if (rnd() < 0.1) {
      const v = `${job}-verify`;
      const vOwner = pick(OWNERS.filter((o) => o !== owner));
      add([{ type: 'job_dispatched', data: { job_id: v, role: 'verify', repo: 'octo-org/swarm', pr, sha: hex(pr, 40), author: null, hardware_class: cls, eval_seed: pr + 1, budget_seconds: 300, attempt: 1, verifies: job } }]);
      add([recordResult(v, vOwner, cls, tps, pr, 'verify'), { type: 'verification', data: { job_id: job, verify_job_id: v, agreed: true, claim_bpb: 1.95, verify_bpb: 1.951, tolerance: 0.01 } }]);
      sync();
      add([state.creditFor(job)!, state.creditFor(v)!, { type: 'experiment_merged', data: { pr, sha: hex(pr, 40), merge_sha: hex(pr + 1e6, 40), hardware_class: cls, val_bpb: 1.95, baseline_mean: 2.0, job_ids: [job, v] } }]);
      baselines(pr + 1e6);
    } else {
      add([state.creditFor(job)!, { type: 'experiment_discarded', data: { pr, sha: hex(pr, 40), reason: 'no improvement over the baseline', hardware_class: cls, val_bpb: 2.05 } }]);
    }
    sync();
  }
  return entries.slice(0, N);
}

const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(2);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let t0 = performance.now();
const entries = build();
console.log(`built ${entries.length} entries (appendEntries: each validated and hashed) in ${secs(t0)} s`);
const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
try {
  t0 = performance.now();
  writeLedgerDir(dir, entries);
  console.log(`wrote the checkout in ${secs(t0)} s`);

  t0 = performance.now();
  let c0 = cpu();
  const threads = Math.min(availableParallelism(), 8);
  const par = await verifyLedgerDir(dir);
  if (!par.ok) throw new Error(`bench ledger failed verification at seq ${par.seq}: ${par.problem}`);
  console.log(`verifyLedgerDir (npm run ledger -- verify), ${threads} threads: ${par.entries.length} entries, every hash, link, schema and balance, in ${secs(t0)} s wall (target < 10 s), ${(cpu() - c0).toFixed(2)} s CPU over all threads`);

  t0 = performance.now();
  c0 = cpu();
  const back = readLedgerDir(dir);
  const tRead = secs(t0);
  const t1 = performance.now();
  const audit = auditLedger(back);
  if (!audit.ok) throw new Error(`bench ledger failed its own audit at seq ${audit.seq}: ${audit.problem}`);
  console.log(`one thread: readLedgerDir ${tRead} s + auditLedger ${secs(t1)} s = ${secs(t0)} s wall, ${(cpu() - c0).toFixed(2)} s CPU`);

  const sizes = shardFiles(dir).map((s) => s.bytes).sort((a, b) => a - b);
  const total = sizes.reduce((a, b) => a + b, 0);
  const mb = (b: number) => (b / 1048576).toFixed(2);
  console.log(
    `shards: ${sizes.length} files, ${mb(total)} MiB in all (${(total / entries.length / 1024).toFixed(1)} KiB per entry); ` +
      `smallest ${mb(sizes[0])} MiB, median ${mb(sizes[Math.floor(sizes.length / 2)])} MiB, largest ${mb(sizes[sizes.length - 1])} MiB (cap ${mb(SHARD_MAX_BYTES)} MiB)`,
  );
  console.log(`${audit.balances.size} accounts; head seq ${audit.head!.seq} ${audit.head!.hash}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
