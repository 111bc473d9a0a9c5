// npm run ledger -- verify <checkout> [--head SEQ:HASH] [--overdraft N] [--free-per-day N] [--threads N]
// npm run ledger -- balance <login> [checkout]
// npm run ledger -- head <checkout>
// <checkout> is a checkout of the ledger branch: git fetch origin ledger && git worktree add ../ledger ledger
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { computeBalances } from './credits.js';
import type { LedgerEntry } from './entries.js';
import type { TrustBook } from './trust.js';
import { readLedgerDir } from './ledger-dir.js';
import { verifyLedgerDir } from './verify-dir.js';

const USAGE = `usage:
  npm run ledger -- verify <ledger checkout> [--head SEQ:HASH] [--overdraft N] [--free-per-day N] [--threads N]
      recompute every hash, link, schema and credit balance; --head: also confirm a published head
  npm run ledger -- balance <login> [ledger checkout]
      a login's credits, entry by entry (default checkout: .)
  npm run ledger -- head <ledger checkout>
      the last entry's seq, hash and time, as JSON
  a <ledger checkout> is the ledger branch checked out: git fetch origin ledger && git worktree add ../ledger origin/ledger`;

class UsageError extends Error {}



function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a non-negative number, got "${v}".`);
  return n;
}

/** Problems outside the chain itself: the archived diffs the entries point to. */
function branchProblems(dir: string, entries: LedgerEntry[]): { seq: number | null; problem: string } | null {
  for (const e of entries) {
    if (e.type !== 'result_recorded') continue;
    const d = (e as LedgerEntry<'result_recorded'>).data;
    if (!d.diff_path) continue;
    const p = join(dir, d.diff_path);
    if (!existsSync(p)) return { seq: e.seq, problem: `the archived diff ${d.diff_path} is missing from the branch.` };
    const sum = createHash('sha256').update(readFileSync(p)).digest('hex');
    if (d.diff_sha256 && sum !== d.diff_sha256) return { seq: e.seq, problem: `${d.diff_path} has sha256 ${sum} but the entry recorded ${d.diff_sha256}: the archived diff was changed.` };
  }
  return null;
}

async function verify(dir: string, flags: { head?: string; overdraft?: string; 'free-per-day'?: string; threads?: string }): Promise<number> {
  let knownHead: { seq: number; hash: string } | undefined;
  if (flags.head) {
    const m = /^(\d+):([0-9a-f]{64})$/.exec(flags.head);
    if (!m) throw new UsageError(`--head must be SEQ:HASH (a published head such as 41:3fa9…, 64 hex digits), got "${flags.head}".`);
    knownHead = { seq: Number(m[1]), hash: m[2] };
  }
  const t0 = performance.now();
  const r = await verifyLedgerDir(dir, {
    knownHead,
    maxOverdraft: num(flags.overdraft, '--overdraft'),
    freeRunsPerDay: num(flags['free-per-day'], '--free-per-day'),
    threads: num(flags.threads, '--threads'),
  });
  const at = (seq: number | null, where: string | null) => `${seq === null ? '' : ` at seq ${seq}`}${where ? ` (${where})` : ''}`;
  if (!r.ok) {
    console.error(`ledger BROKEN${at(r.seq, r.where)}: ${r.problem}`);
    return 1;
  }
  const other = branchProblems(dir, r.entries);
  if (other) {
    console.error(`ledger BROKEN${at(other.seq, other.seq === null ? null : r.entries[other.seq].where)}: ${other.problem}`);
    return 1;
  }
  const balances = [...r.balances.values()];
  const sum = (k: 'earned' | 'spent' | 'reversed') => balances.reduce((s, b) => s + b[k], 0).toFixed(1);
  console.log(trustLine(r.trust));
  console.log(
    `ledger OK: ${r.entries.length} entries, head ${r.head ? `seq ${r.head.seq} ${r.head.hash}` : '(empty)'}; ` +
      `${balances.length} accounts, credits earned ${sum('earned')}, spent ${sum('spent')}, reversed ${sum('reversed')}; ` +
      `every hash, link, schema and balance checked in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
  return 0;
}

/** What the trust replay found: every grant, merge, baseline and fault was checked against this. */
function trustLine(t: TrustBook): string {
  if (!t.policy) return 'trust: no trust_policy entry (a ledger from before replication): grants checked without it';
  const p = t.policy;
  const owners = [...t.owners.values()];
  const trusted = owners.filter((o) => t.trusted(o.login)).length;
  const banned = owners.filter((o) => o.banned).map((o) => o.login);
  return (
    `trust: policy replicate_until ${p.replicate_until}, spot_check_rate ${p.spot_check_rate}${p.spot_check_decay ? ' (falling as 1/agreed)' : ''}, quorum ${p.quorum}, tolerance ${p.tolerance}, ban_after_faults ${p.ban_after_faults}, baseline_owners ${p.baseline_owners}, max_class_weight ${p.max_class_weight ?? 'none'}${p.ban_forfeits ? ', a ban forfeits unproven credits' : ''}, replay outvote quorum ${p.outvote_quorum ?? 2}; ` +
    `${owners.length} runner owners, ${trusted} trusted, ${owners.reduce((s, o) => s + o.faults, 0)} faults, ${banned.length} banned${banned.length ? ` (${banned.join(', ')})` : ''}; every grant, merge, baseline and fault agrees with it`
  );
}

function amountOf(e: LedgerEntry, login: string, pendingJobs: Set<string>): string {
  const d = e.data as { amount?: number };
  if (e.type === 'credit_granted') return `+${d.amount!.toFixed(1)}`;
  if (e.type === 'credit_spent' || e.type === 'credit_reversed') return `-${d.amount!.toFixed(1)}`;
  const r = (e as LedgerEntry<'result_recorded'>).data;
  return r.runner_owner === login && pendingJobs.has(r.job_id) ? 'pending' : '';
}

function noteOf(e: LedgerEntry): string {
  switch (e.type) {
    case 'credit_granted': {
      const d = (e as LedgerEntry<'credit_granted'>).data;
      return `${d.train_seconds} s on ${d.hardware_class} x ${d.class_weight.toFixed(3)}`;
    }
    case 'credit_spent':
    case 'credit_reversed':
      return (e as LedgerEntry<'credit_spent'>).data.reason;
    case 'result_recorded': {
      const d = (e as LedgerEntry<'result_recorded'>).data;
      return `result${d.pr ? ` of PR #${d.pr}` : ''}${d.result?.val_bpb != null ? `, val_bpb ${d.result.val_bpb.toFixed(4)}` : ''}`;
    }
    default:
      return '';
  }
}

function balance(login: string, dir: string): number {
  const entries = readLedgerDir(dir);
  const b = computeBalances(entries).get(login);
  if (!b) {
    console.log(`${login}: balance 0.0 (no credits earned, spent or pending: the login appears in no credit entry; logins are GitHub logins, e.g. octocat)`);
    return 0;
  }
  const granted = new Set(b.history.filter((e) => e.type === 'credit_granted' || e.type === 'credit_reversed').map((e) => (e.data as { job_id: string }).job_id));
  const pendingJobs = new Set(b.history.filter((e) => e.type === 'result_recorded').map((e) => (e.data as { job_id: string }).job_id).filter((j) => !granted.has(j)));
  const rows = [['seq', 'time', 'entry', 'job', 'credits', 'note'], ...b.history.map((e) => [String(e.seq), e.time.slice(0, 19).replace('T', ' '), e.type, (e.data as { job_id?: string }).job_id ?? '', amountOf(e, login, pendingJobs), noteOf(e)])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
  console.log(
    `\n${login}: balance ${b.balance.toFixed(1)} credits (earned ${b.earned.toFixed(1)}, spent ${b.spent.toFixed(1)}, reversed ${b.reversed.toFixed(1)}; pending ${b.pending.toFixed(1)} awaiting validation)`,
  );
  return 0;
}

/** The last entry's {seq, hash, time}: what the witness signs and anyone can pass back as --head SEQ:HASH. */
function head(dir: string): number {
  const entries = readLedgerDir(dir);
  const last = entries[entries.length - 1];
  console.log(JSON.stringify(last ? { seq: last.seq, hash: last.hash, time: last.time, entries: entries.length } : { seq: null, hash: null, entries: 0 }, null, 2));
  return 0;
}

/** `--overdraft -1` as `--overdraft=-1`: parseArgs calls a value that starts with a dash ambiguous; the range check names it instead. */
function joinNegative(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (/^--(head|overdraft|free-per-day|threads)$/.test(argv[i]) && /^-[\d.]/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { positionals, values } = parseArgs({
      args: joinNegative(argv),
      allowPositionals: true,
      options: { head: { type: 'string' }, overdraft: { type: 'string' }, 'free-per-day': { type: 'string' }, threads: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    const [cmd, a, b] = positionals;
    if (values.help || cmd === 'help') {
      console.log(USAGE);
      return 0;
    }
    if (cmd === 'verify' && a) return await verify(a, values);
    if (cmd === 'balance' && a) return balance(a, b ?? '.');
    if (cmd === 'head' && a) return head(a);
    throw new UsageError(cmd ? `"${positionals.join(' ')}" is not a ledger command with its arguments.` : 'no command given.');
  } catch (e) {
    const err = e as Error;
    const usage = err instanceof UsageError || String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS');
    console.error(usage ? `${err.message}\n${USAGE}` : err.message);
    return usage ? 2 : 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
