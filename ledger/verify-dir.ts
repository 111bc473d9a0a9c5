// Verifying a checkout of the ledger branch on all cores. Each entry's own content (JSON, schema,
// hash) can be checked without the others, so shards are split across worker threads; the
// links between entries (seq, prev), a known head and the credit replay then run over slim
// copies of the entries (a result without its loss curve), which are cheap to pass between
// threads. Same checks, same messages as auditLedger.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { replayCredits, type AuditPolicy } from './audit.js';
import type { TrustBook } from './trust.js';
import { contentProblem, knownHeadProblem, lineHashMatches, linkProblem, type ChainHead } from './chain.js';
import type { Balance } from './credits.js';
import type { LedgerEntry } from './entries.js';
import { shardFiles } from './ledger-dir.js';
import { entryLocation, parseShard } from './shards.js';

export type SlimEntry = LedgerEntry & { where: string };

interface ShardsCheck {
  entries: SlimEntry[];
  /** the first problem in these shards: an entry's content, or a file that could not be read as entries */
  problem: { seq: number | null; problem: string; where: string | null } | null;
}

export type DirCheck =
  | { ok: true; head: ChainHead | null; balances: Map<string, Balance>; trust: TrustBook; entries: SlimEntry[] }
  | { ok: false; seq: number | null; problem: string; where: string | null };

/**
 * The fields of a result that the checks read (ledger/audit.ts and what it calls): a slim copy keeps
 * these and drops the rest (the loss curve is most of a result's ~15 KB), so that entries are cheap
 * to pass between threads. A check that reads another field must add it here: before, the fields of
 * ledger/baseline-reuse.ts (train.ts, harness and budget of each run) were missing, undefined in
 * every run and so equal, and this verify passed a baseline the audit of the same entries flags
 * (test/ledger/baseline-reuse.test.ts notes the fields the checks read).
 */
export const CHECKED_RESULT_FIELDS = ['train_seconds', 'hardware_class', 'status', 'val_bpb', 'backend', 'threads', 'seed', 'eval_seed', 'replay', 'budget_seconds', 'harness_sha256', 'harness_version', 'candidate_sha256'] as const;

function slim(e: LedgerEntry, where: string): SlimEntry {
  if (e.type !== 'result_recorded') return { ...e, where };
  const d = (e as LedgerEntry<'result_recorded'>).data;
  const r = d.result as Record<string, unknown> | null;
  let result: Record<string, unknown> | null = null;
  if (r) {
    result = {};
    for (const k of CHECKED_RESULT_FIELDS) if (r[k] !== undefined) result[k] = r[k];
    // (the replay verdicts read its schedule and what it replayed: ledger/replays.ts)
    if (d.result!.replay) result.replay = { schedule: d.result!.replay.schedule, of: d.result!.replay.of };
  }
  return { ...e, data: { ...d, result, log_excerpt: null }, where } as SlimEntry;
}

/** Checks the content of each entry of these shards (relative paths under `dir`), stopping at the first problem. */
export function checkShards(dir: string, paths: string[]): ShardsCheck {
  const entries: SlimEntry[] = [];
  for (const path of paths) {
    let shard: ReturnType<typeof parseShard>;
    try {
      shard = parseShard(path, readFileSync(join(dir, path), 'utf8'));
    } catch (e) {
      return { entries, problem: { seq: null, problem: (e as Error).message, where: null } }; // the message names the file and line
    }
    for (let i = 0; i < shard.entries.length; i++) {
      const e = shard.entries[i];
      const where = entryLocation(e) ?? path;
      const problem = contentProblem(e, lineHashMatches(shard.lines[i], e));
      if (problem) return { entries, problem: { seq: e.seq, problem, where } };
      entries.push(slim(e, where));
    }
  }
  return { entries, problem: null };
}

/** Splits shards (in order) into at most n contiguous groups of about equal bytes. */
function groups(shards: { path: string; bytes: number }[], n: number): string[][] {
  const total = shards.reduce((s, x) => s + x.bytes, 0);
  const out: string[][] = [[]];
  let acc = 0;
  for (const s of shards) {
    if (acc >= (total / n) * out.length && out[out.length - 1].length) out.push([]);
    out[out.length - 1].push(s.path);
    acc += s.bytes;
  }
  return out;
}

function inWorker(dir: string, paths: string[]): Promise<ShardsCheck> {
  return new Promise((resolve, reject) => {
    // The worker is this module's sibling. Run as TypeScript (tsx), the thread must register
    // tsx's loader itself: module hooks of the main thread do not reach worker threads.
    const ts = import.meta.url.endsWith('.ts');
    const url = new URL(`./verify-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
    const w = ts
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: { dir, paths } })
      : new Worker(url, { workerData: { dir, paths } });
    w.once('message', (m: ShardsCheck) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

/**
 * Verifies a checkout: every entry's JSON, schema and hash, every link, the known head if given,
 * and every credit movement. `threads` defaults to the machine's cores (at most 8); 1 checks in
 * this thread.
 */
export async function verifyLedgerDir(dir: string, policy: AuditPolicy & { threads?: number } = {}): Promise<DirCheck> {
  const shards = shardFiles(dir);
  const n = Math.max(1, Math.min(policy.threads ?? Math.min(availableParallelism(), 8), shards.length));
  const parts = groups(shards, n);
  const checks = n === 1 ? [checkShards(dir, parts[0] ?? [])] : await Promise.all(parts.map((p) => inWorker(dir, p)));
  const entries: SlimEntry[] = [];
  let stop: ShardsCheck['problem'] = null;
  for (const c of checks) {
    entries.push(...c.entries);
    if (c.problem) {
      stop = c.problem;
      break;
    }
  }
  // A broken link before the first broken entry is the first thing wrong.
  for (let i = 0; i < entries.length; i++) {
    const link = linkProblem(entries[i], i, i ? entries[i - 1] : null);
    if (link) return { ok: false, ...link, where: entries[Math.min(link.seq, i)]?.where ?? null };
  }
  if (stop) return { ok: false, ...stop };
  const head = policy.knownHead && knownHeadProblem(entries, policy.knownHead);
  if (head) return { ok: false, ...head, where: entries[head.seq]?.where ?? null };
  const credits = replayCredits(entries, policy);
  if (!credits.ok) return { ...credits, where: entries[credits.seq]?.where ?? null };
  const last = entries[entries.length - 1];
  return { ok: true, head: last ? { seq: last.seq, hash: last.hash } : null, balances: credits.balances, trust: credits.trust, entries };
}
