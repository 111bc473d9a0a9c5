// Flat scores (docs/trust.md 2b, "Flat scores"; ledger/flat-scores.ts). On a class whose replays
// compare val_bpb, a runner that never trains and reports a score a little above the public
// baseline passes every replay of a null change (most PRs): in the simulator such an owner went
// uncaught in 3 of 20 saturated runs and then held ~11% of all credit. Attack first: before this
// change mallory below, 24 such first runs behind her, took her 25th for a score of 2.003 and
// nothing happened. Now the spread of her last first runs, a third of her class's, faults her.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, busy, CLASS, reg, World, online } from './world.js';
import { appendEntries, auditLedger, DEFAULT_TRUST_POLICY, LedgerState, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { BAND_WINDOW, FLAT_MIN_SAMPLES, FLAT_P, flatCrossed, flatTest, pooledScale, type ClassScale, type FlatSample } from '../../ledger/flat-scores.js';

auditEachWorld();

let seed = 4242;
const u = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
/** An honest first run of a null change on the GPU class, less the baseline: the PR's small harm, seed and eval noise (sim/model.ts). */
const honest = () => Math.abs(normal()) * 0.004 + normal() * 0.0085;
/** A lazy guess: the baseline plus a little (sim/model.ts `plausible` adds |N| x the class's eval sigma, 0.005). */
const lazy = () => Math.abs(normal()) * 0.003;

/** Earlier first runs of `owner`, as the ledger holds them: the dispatch, then the validated result. */
function history(w: World, owner: string, runner: string, scores: number[]): NewEntry[] {
  const SHA = w.main;
  return scores.flatMap((bpb, i) => {
    const job_id = `${owner}-past-${i}`;
    const inputs = { role: 'candidate', nonce: job_id, sha: SHA, pr: String(900 + i), eval_seed: String(i + 1), seed: String(i + 7), budget: '300', replay: '' };
    const result = w.result({ inputs }, runner, 7000 + i, 2.0 + bpb);
    return [
      { type: 'job_dispatched', data: { job_id, role: 'candidate', repo: 'o/r', pr: 900 + i, sha: SHA, author: null, hardware_class: null, eval_seed: i + 1, seed: i + 7, budget_seconds: 300, attempt: 1, verifies: null } },
      { type: 'result_recorded', data: { job_id, role: 'candidate', pr: 900 + i, sha: SHA, title: null, author: `agent-${i}`, runner_name: runner, runner_owner: owner, run_url: null, validated: true, reason: null, result, diff_path: null, diff_sha256: null, log_excerpt: null } },
    ] as NewEntry[];
  });
}

/**
 * A fault of `owner` by other owners' runs (not the flat test): alice's claim of a PR truly 50 mbpb
 * worse than the baseline, verified by bob and carol, and `owner`'s verify run of it reporting
 * `bpb`, outvoted by the three (outvote_quorum 3). What a guesser earns on a PR that is not a null
 * change (sim/model.ts `lazy`).
 */
function outvoted(w: World, owner: string, runner: string, bpb: number): NewEntry[] {
  const SHA = w.main;
  const run = (job_id: string, who: string, runnerName: string, role: 'candidate' | 'verify', score: number, n: number): NewEntry[] => {
    const inputs = { role, nonce: job_id, sha: SHA, pr: '880', eval_seed: String(n), seed: String(n + 7), budget: '300', replay: '' };
    const result = w.result({ inputs }, runnerName, 8000 + n, score);
    return [
      { type: 'job_dispatched', data: { job_id, role, repo: 'o/r', pr: 880, sha: SHA, author: null, hardware_class: null, eval_seed: n, seed: n + 7, budget_seconds: 300, attempt: n, verifies: role === 'verify' ? 'claim-880' : null } },
      { type: 'result_recorded', data: { job_id, role, pr: 880, sha: SHA, title: null, author: 'agent-880', runner_name: runnerName, runner_owner: who, run_url: null, validated: true, reason: null, result, diff_path: null, diff_sha256: null, log_excerpt: null } },
    ] as NewEntry[];
  };
  return [
    ...run('claim-880', 'alice', 'runner-a', 'candidate', 2.05, 1),
    ...run('verify-880-b', 'bob', 'runner-b', 'verify', 2.052, 2),
    ...run('verify-880-c', 'carol', 'runner-c', 'verify', 2.049, 3),
    ...run('verify-880-m', owner, runner, 'verify', bpb, 4),
    { type: 'owner_faulted', data: { login: owner, job_id: 'verify-880-m', claim_job_id: 'claim-880', agreed_job_ids: ['claim-880', 'verify-880-b', 'verify-880-c'], reason: `outvoted on job claim-880 by alice and bob and carol` } },
  ] as NewEntry[];
}

/**
 * `history` for `owner`, each run confirmed by a verify run of alice's that agreed with it (what a
 * replay by score shows on a GPU class: a plausible score), and each credited.
 */
function confirmed(w: World, owner: string, runner: string, scores: number[], before: NewEntry[]): NewEntry[] {
  const SHA = w.main;
  const runs = history(w, owner, runner, scores);
  const checks = scores.flatMap((bpb, i) => {
    const claim = `${owner}-past-${i}`;
    const job_id = `${claim}-check`;
    const inputs = { role: 'verify', nonce: job_id, sha: SHA, pr: String(900 + i), eval_seed: String(i + 1), seed: String(i + 70), budget: '300', replay: '' };
    const result = w.result({ inputs }, 'runner-a', 9000 + i, 2.0 + bpb + 0.001);
    return [
      { type: 'job_dispatched', data: { job_id, role: 'verify', repo: 'o/r', pr: 900 + i, sha: SHA, author: null, hardware_class: null, eval_seed: i + 1, seed: i + 70, budget_seconds: 300, attempt: 2, verifies: claim } },
      { type: 'result_recorded', data: { job_id, role: 'verify', pr: 900 + i, sha: SHA, title: null, author: `agent-${i}`, runner_name: 'runner-a', runner_owner: 'alice', run_url: null, validated: true, reason: null, result, diff_path: null, diff_sha256: null, log_excerpt: null } },
      { type: 'verification', data: { job_id: claim, verify_job_id: job_id, agreed: true, claim_bpb: 2.0 + bpb, verify_bpb: 2.0 + bpb + 0.001, tolerance: 0.02 } },
    ] as NewEntry[];
  });
  // the grants the ledger's rules make for them (the audit recomputes each)
  const chain = appendEntries([], [...before, ...runs, ...checks].map((e) => ({ ...e, time: '2026-11-24T11:00:00.000Z' })));
  const state = LedgerState.of(chain);
  const grants = scores.map((_, i) => state.creditFor(`${owner}-past-${i}`)).filter((g): g is NonNullable<typeof g> => g !== null);
  return [...runs, ...checks, ...grants];
}

/** A world whose GPU class holds 30 past first runs of alice, bob and carol each, and `mallory` past ones of mallory (`between`: entries after her first `at`). */
function worldWith(mallory: number[], between: { at: number; entries: (w: World) => NewEntry[] } | null = null, credited = false): World {
  const w = new World({ trust: 'policy', config: 'max_in_flight: 4\nverification:\n  quorum: 1\n', seed: [] });
  const regs = [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol'), reg('runner-m', 'mallory')];
  for (const r of regs) online(w, r.data.runner_name, r.data.owner);
  const others = (['alice', 'bob', 'carol'] as const).flatMap((o) => history(w, o, `runner-${o[0]}`, Array.from({ length: 30 }, honest)));
  const before: NewEntry[] = [
    ...regs,
    { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } },
    { type: 'trust_policy', data: DEFAULT_TRUST_POLICY },
    ...others,
  ];
  if (credited) {
    w.seedLedger([...before, ...confirmed(w, 'mallory', 'runner-m', mallory, before)]);
    return w;
  }
  w.seedLedger([
    ...before,
    ...(between ? [...history(w, 'mallory', 'runner-m', mallory.slice(0, between.at)), ...between.entries(w), ...history(w, 'mallory', 'runner-m', mallory.slice(between.at)).map(renumber(between.at))] : history(w, 'mallory', 'runner-m', mallory)),
  ] as NewEntry[]);
  return w;
}

/** history()'s entries for scores from `at` on, with job ids and PR numbers that do not clash with the first `at`. */
const renumber = (at: number) => (e: NewEntry): NewEntry => {
  const d = e.data as { job_id: string; pr: number; result?: { nonce?: string } };
  const job_id = d.job_id.replace(/-(\d+)$/, (_, i) => `-${Number(i) + at}`);
  return { ...e, data: { ...d, job_id, pr: d.pr + at, ...(d.result ? { result: { ...d.result, nonce: job_id } } : {}) } } as NewEntry;
};

/** PR 1's first run, on mallory's runner, reporting `bpb`. */
async function malloryRuns(w: World, bpb: number): Promise<void> {
  await w.push(1, 'agent-1', { 'trainer/train.ts': 'export const LR = 1e-4;\n' });
  busy(w, 'runner-a', 'runner-b', 'runner-c');
  const first = w.gh.dispatches.find((d) => d.inputs.pr === '1')!;
  await w.complete(first, 'runner-m', bpb);
}

describe('flat scores', () => {
  it('an owner whose first runs all sit just above the baseline is faulted, and its unconfirmed credit reversed', async () => {
    const w = worldWith(Array.from({ length: 24 }, lazy));
    await malloryRuns(w, 2.003);
    const [fault] = w.entries('owner_faulted');
    expect(fault?.data).toMatchObject({ login: 'mallory', flat: { n: 25 } });
    expect(fault.data.flat!.p).toBeLessThan(FLAT_P);
    expect(fault.data.agreed_job_ids).toHaveLength(25);
    expect(fault.data.reason).toMatch(/^flat scores: mallory's last 25 first runs on gpu-test scatter by \d\.\d mbpb/);
    expect(w.entries('credit_reversed').some((e) => e.data.login === 'mallory')).toBe(true);
    // the fault reset her trust: the discard waits for another owner's run
    expect(w.gh.dispatches.filter((d) => d.inputs.pr === '1').length).toBeGreaterThan(1);
  });

  // The runs a flat fault cites are its evidence: as a set, scores no training produced. Before,
  // the fault reversed only those no other owner's run had agreed with; on a GPU class a replay by
  // score agrees with a guess near the baseline on any null change, so the guesser kept nearly all
  // of it until a second fault banned it ~25 first runs later (the simulator, session 20: with no
  // merge for a day, the lazy owner held 7% of all credit at the end of the run, faulted once).
  // Attack first: before, mallory's 24 confirmed and credited first runs kept their 7,200 credits.
  it('the first runs a flat fault cites lose their credit, though a replay by score agreed with each', async () => {
    const w = worldWith(Array.from({ length: 24 }, lazy), null, true);
    expect(w.entries('credit_granted').filter((e) => e.data.login === 'mallory')).toHaveLength(24);
    await malloryRuns(w, 2.003);
    const [fault] = w.entries('owner_faulted');
    expect(fault?.data).toMatchObject({ login: 'mallory', flat: { n: 25 } });
    const granted = new Map(w.entries('credit_granted').filter((e) => e.data.login === 'mallory').map((e) => [e.data.job_id, e.data.amount]));
    const reversed = new Map(w.entries('credit_reversed').filter((e) => e.data.login === 'mallory').map((e) => [e.data.job_id, e.data.amount]));
    for (const [job, amount] of granted) expect([job, reversed.get(job)]).toEqual([job, amount]);
    expect([...granted.values()].reduce((a, b) => a + b, 0)).toBe(7200);
  });

  // Found in the simulator (session 20): with no merge for a day (no real improvement among the
  // PRs, so every PR's truth sits at the baseline), the lazy owner held 6.6% of all credit at seed 2.
  // A replay outvoted it once after ~24 first runs, and that fault threw away the first runs the
  // flat test had gathered: it started again from none, and earned on another ~24 before the test
  // could speak. Evidence of one kind is not spent by a fault of another: a flat fault resets the
  // flat samples, an outvoted run does not. Before: no second fault on her 25th near-baseline run.
  it('a fault by other owners\' runs does not reset the first runs the flat test has gathered: the next flat one bans', async () => {
    const w = worldWith(Array.from({ length: 24 }, lazy), { at: 20, entries: (w) => outvoted(w, 'mallory', 'runner-m', 2.003) });
    expect(w.entries('owner_faulted').map((e) => e.data.login)).toEqual(['mallory']);
    await malloryRuns(w, 2.003);
    const faults = w.entries('owner_faulted');
    expect(faults.map((e) => e.data.login)).toEqual(['mallory', 'mallory']);
    expect(faults[1].data.flat).toMatchObject({ n: 25 });
    expect(w.entries('owner_banned').map((e) => e.data.login)).toEqual(['mallory']);
  });

  it('an owner who trains is not, and the audit refuses a flat fault its samples do not support', async () => {
    const w = worldWith(Array.from({ length: FLAT_MIN_SAMPLES - 1 }, honest));
    await malloryRuns(w, 2.0 + honest());
    expect(w.entries('owner_faulted')).toEqual([]);
    const entries = w.ledger();
    const job = w.entries('result_recorded').at(-1)!.data.job_id;
    const forged = appendEntries(entries, [{ type: 'owner_faulted', data: { login: 'mallory', job_id: job, claim_job_id: job, agreed_job_ids: ['a', 'b'], reason: 'flat scores', flat: { n: 15, sd: 0.001, scale: 0.009, q: 0.2, p: 1e-12 } }, time: w.clock.toISOString() }] as never);
    const audit = auditLedger([...entries, ...forged] as LedgerEntry[], { freeRunsPerDay: 3 });
    expect(audit.ok ? 'ok' : audit.problem).toMatch(/owner_faulted of mallory for flat scores, but its first runs do not cross the flat-scores test/);
  });
});

describe('the flat-scores test', () => {
  const pool = (owners: number, each: number, draw: () => number, offset = (_o: number) => 0): FlatSample[] =>
    Array.from({ length: owners * each }, (_, i) => ({ job_id: `p${i}`, owner: `o${i % owners}`, value: draw() + offset(i % owners) }));
  const firstCross = (cls: ClassScale | null, draw: () => number, n = 100, crossed = flatCrossed): number | null => {
    const own: FlatSample[] = [];
    for (let i = 0; i < n; i++) {
      own.push({ job_id: `j${i}`, owner: 'me', value: draw() });
      if (crossed(flatTest(own, cls))) return i + 1;
    }
    return null;
  };

  it('never faults 500 honest owners tested after each of 100 first runs, and catches a lazy guesser within 40', () => {
    let falses = 0;
    for (let t = 0; t < 500; t++) if (firstCross(pooledScale(pool(8, 30, honest, (o) => (o % 3) * 0.003), 'me'), honest) !== null) falses++;
    expect(falses).toBe(0);
    const at = Array.from({ length: 200 }, () => firstCross(pooledScale(pool(8, 30, honest), 'me'), lazy, 40));
    expect(at.filter((x) => x !== null).length).toBeGreaterThanOrEqual(196);
  });

  it('a guesser who pads its flat scores with a few wild ones passes the variance test, not the band test', () => {
    // 15% of its first runs 30 mbpb off the baseline either way (discards and claims that replays of a null change mostly refute)
    const padded = () => (u() < 0.15 ? (u() < 0.5 ? -0.03 : 0.03) : lazy());
    const variance = (t: ReturnType<typeof flatTest>) => !!t && t.n >= FLAT_MIN_SAMPLES && t.p < FLAT_P;
    const runs = Array.from({ length: 200 }, () => pooledScale(pool(8, BAND_WINDOW, honest), 'me'));
    const byVariance = runs.filter((c) => firstCross(c, padded, BAND_WINDOW, variance) !== null).length;
    const byBoth = runs.map((c) => firstCross(c, padded, BAND_WINDOW)).filter((x) => x !== null);
    expect(byVariance).toBeLessThan(100);
    expect(byBoth.length).toBeGreaterThanOrEqual(190);
  });

  it('a few wild owners in the class cannot widen its scale and frame an honest owner', () => {
    const calm = pooledScale(pool(8, 30, honest), 'me')!.scale;
    // two saboteurs reporting 0.1-0.2 worse at random, a forger claiming 0.05-0.08 better
    const wild = [...pool(8, 30, honest), ...pool(2, 30, () => 0.1 + u() * 0.1).map((s) => ({ ...s, owner: `sab-${s.owner}` })), ...pool(1, 30, () => -0.05 - u() * 0.03).map((s) => ({ ...s, owner: 'forger' }))];
    expect(pooledScale(wild, 'me')!.scale / calm).toBeLessThan(1.3);
    // without a robust scale (the plain pooled sd) the same class looks ~4x wider than an honest owner
    const sd = Math.sqrt(wild.reduce((a, s) => a + s.value ** 2, 0) / wild.length);
    expect(sd / calm).toBeGreaterThan(3);
  });

  it('needs a class scale from three other owners, and FLAT_MIN_SAMPLES of its own', () => {
    expect(pooledScale(pool(2, 40, honest), 'me')).toBeNull();
    expect(pooledScale(pool(3, 10, honest), 'me')).toBeNull();
    const scale = pooledScale(pool(4, 30, honest), 'me');
    expect(scale!.scale).toBeGreaterThan(0);
    const flat = Array.from({ length: FLAT_MIN_SAMPLES - 1 }, (_, i) => ({ job_id: `j${i}`, owner: 'me', value: 0.001 * (i % 2) }));
    expect(flatCrossed(flatTest(flat, scale))).toBe(false);
    expect(flatCrossed(flatTest([...flat, { job_id: 'last', owner: 'me', value: 0 }], scale))).toBe(true);
  });
});
