// Replays of the runs that decide nothing by themselves (docs/trust.md 2b): baseline runs and the
// fresh-seed verify runs of a claim. A lazy owner on probation reported a baseline run it never
// trained, was credited for it and moved the baseline; and echoed a claim it was asked to verify,
// and was credited for that. Each attack below succeeded against the App before this defence (the
// commit message says so); now every such run of an owner on probation (and the spot check's draw
// of a trusted owner's) is replayed by another owner before it counts or earns.
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { CLASS, online, reg, trustWorld, World } from './world.js';
import { appendEntries, auditLedger, type NewEntry } from '../../ledger/index.js';
import { encodeSchedule, linearSchedule } from '../../trainer/replay-schedule.js';

const OTHER = 'export const LR = 1e-3;\n';
const MADE_UP = 'ab'.repeat(32);

let audited = true;
afterEach(() => {
  if (audited) {
    const audit = auditLedger(World.last!.ledger(), { freeRunsPerDay: 3 });
    expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  }
  audited = true;
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

/** A run on a deterministic backend (the harness's wasm kernels on 2 threads). */
const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });
/** A lazy run: a plausible score, never trained, so its checkpoint digest is made up. */
const lazy = (w: World) => (r: any) => {
  WASM(r);
  r.replay = { schedule: encodeSchedule(linearSchedule(r.steps)), of: null, sealed: w.sealed({ nonce: r.job.nonce, digest: MADE_UP, val_bpb: r.val_bpb }) };
};
const busy = (w: World, ...names: string[]) => {
  for (const r of w.gh.runners) r.busy = names.includes(r.name);
};
const runnerFor = (w: World, d: { inputs: Record<string, string> }) => w.gh.runners.find((r) => r.labels.includes(d.inputs.runner_label))!.name;

/**
 * Completes every replay the App dispatches, honestly: on the runner its label names, with the
 * score an honest training of those seeds gets (`honest`, by training seed; else `fallback`).
 */
async function replayAll(w: World, honest: Map<string, number>, fallback: number, done = new Set<string>()): Promise<void> {
  for (;;) {
    const d = w.gh.dispatches.find((x) => x.inputs.replay && !done.has(x.inputs.nonce));
    if (!d) return;
    done.add(d.inputs.nonce);
    await w.complete(d, runnerFor(w, d), honest.get(d.inputs.seed) ?? fallback, { tamper: WASM });
  }
}

/** The next dispatch not yet in `done` (added to it); null after a tick that sent one; 'none' when a tick sends nothing. */
async function nextDispatch(w: World, done: Set<string>): Promise<World['gh']['dispatches'][number] | null | 'none'> {
  const d = w.gh.dispatches.find((x) => !done.has(x.inputs.nonce));
  if (d) {
    done.add(d.inputs.nonce);
    return d;
  }
  await w.tick();
  return w.gh.dispatches.some((x) => !done.has(x.inputs.nonce)) ? null : 'none';
}

const granted = (w: World) => w.entries('credit_granted').map((g) => [g.data.login, g.data.job_id]);

/** A class with no baseline yet, four owners on probation (mallory lazy), three baseline runs per commit. */
function newClass(): World {
  const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nbaseline_runs: 3\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol'), reg('runner-m', 'mallory')] });
  online(w, 'runner-c', 'carol');
  online(w, 'runner-m', 'mallory');
  busy(w, 'runner-m'); // mallory is never picked to replay (her replays are another test's)
  return w;
}

describe('baseline runs of owners on probation are replayed before they count or earn', () => {
  it('a lazy owner\'s made-up baseline run is outvoted by three replays: it never enters the baseline or earns, and another owner runs the sample again', async () => {
    const w = newClass();
    const honest = new Map<string, number>();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
    const runs = w.gh.dispatches.slice(1);
    expect(runs.map((d) => d.inputs.role)).toEqual(['baseline', 'baseline', 'baseline']);
    const [a, b, m] = runs;
    honest.set(a.inputs.seed, 2.0).set(b.inputs.seed, 2.004).set(m.inputs.seed, 2.003);
    await w.complete(a, 'runner-a', 2.0, { tamper: WASM });
    await w.complete(b, 'runner-b', 2.004, { tamper: WASM });
    // mallory never trained: the public figure plus a little, within the owners' agreement tolerance
    await w.complete(m, 'runner-m', 2.015, { tamper: lazy(w) });
    expect(w.entries('baseline_recorded')).toEqual([]); // no run counts before its replay
    const done = new Set<string>();
    await replayAll(w, honest, 2.003, done);
    // mallory's run was replayed by three other owners, who agree with each other and not with her
    const verdict = w.entries('replay_judged').find((j) => j.data.job_id === m.inputs.nonce)!;
    expect(verdict.data).toMatchObject({ verdict: 'outvoted', outvoted: [m.inputs.nonce], by: 'digest' });
    expect(w.entries('owner_faulted').map((f) => [f.data.login, f.data.job_id])).toEqual([['mallory', m.inputs.nonce]]);
    // the sample is run again by someone else, and replayed in turn
    const again = w.gh.dispatches.filter((d) => d.inputs.role === 'baseline').slice(3);
    expect(again).toHaveLength(1);
    honest.set(again[0].inputs.seed, 2.002);
    await w.complete(again[0], 'runner-c', 2.002, { tamper: WASM });
    await replayAll(w, honest, 2.003, done);
    const [bl] = w.entries('baseline_recorded');
    expect(bl.data.job_ids.sort()).toEqual([a.inputs.nonce, b.inputs.nonce, again[0].inputs.nonce].sort());
    expect(bl.data.mean).toBeCloseTo((2.0 + 2.004 + 2.002) / 3, 12);
    // her made-up run earns nothing (she may earn for replays she ran honestly since: replayAll runs them)
    expect(granted(w).filter(([login, j]) => login === 'mallory' && !w.gh.dispatches.some((x) => x.inputs.nonce === j && x.inputs.replay))).toEqual([]);
    // the honest baseline runs earn once reproduced
    expect(granted(w).map(([, j]) => j)).toEqual(expect.arrayContaining([a.inputs.nonce, b.inputs.nonce, again[0].inputs.nonce]));
  });

  it('a class liar\'s baseline run (trained on a machine 10 times faster than the class) is not replayed, which would run past the job\'s timeout: it is dropped and run again', async () => {
    const w = newClass();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
    const [a, b, m] = w.gh.dispatches.slice(1);
    await w.complete(a, 'runner-a', 2.0, { tamper: WASM });
    await w.complete(b, 'runner-b', 2.004, { tamper: WASM });
    await w.complete(m, 'runner-m', 2.001, { tamper: (r) => (WASM(r), (r.tokens_per_second = 81_920)) });
    const replayed = w.gh.dispatches.filter((d) => d.inputs.replay).map((d) => d.inputs.seed);
    expect(replayed).toEqual(expect.arrayContaining([a.inputs.seed, b.inputs.seed]));
    expect(replayed).not.toContain(m.inputs.seed);
    expect(w.gh.dispatches.filter((d) => d.inputs.role === 'baseline')).toHaveLength(4);
    expect(granted(w).filter(([login]) => login === 'mallory')).toEqual([]);
  });

  it('trusted owners\' baseline runs are not replayed unless the spot check draws them (rate 0: none; rate 1: all)', async () => {
    for (const [rate, replays] of [[0, 0], [1, 3]] as const) {
      const w = new World({ trust: 'policy', config: `max_in_flight: 10\nbaseline_runs: 3\nverification:\n  quorum: 1\n  min_sigma_df: 0\ntrust:\n  replicate_until: 0\n  spot_check_rate: ${rate}\n`, seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol')] });
      online(w, 'runner-c', 'carol');
      await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
      await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
      const runs = w.gh.dispatches.slice(1, 4);
      for (const [i, d] of runs.entries()) await w.complete(d, ['runner-a', 'runner-b', 'runner-c'][i], 2.0 + i * 0.002, { tamper: WASM });
      const baselineReplays = w.gh.dispatches.filter((d) => d.inputs.replay && d.inputs.pr === '');
      expect([rate, baselineReplays.length]).toEqual([rate, replays]);
      if (rate === 0) expect(w.entries('baseline_recorded')).toHaveLength(1);
      else {
        expect(w.entries('baseline_recorded')).toHaveLength(0);
        await replayAll(w, new Map(runs.map((d, i) => [d.inputs.seed, 2.0 + i * 0.002])), 2.0);
        expect(w.entries('baseline_recorded')).toHaveLength(1);
      }
      const audit = auditLedger(w.ledger(), { freeRunsPerDay: 3 });
      expect(audit.ok ? 'ok' : audit.problem).toBe('ok');
    }
  });
});

/**
 * A class of alice (honest) and mallory (lazy) where no baseline can form; PR 7's candidate ran
 * on it. Every job the App sends is run: baseline runs honestly by alice and mallory in turn,
 * replays by the owner their label names (mallory's made up), until `stop` or a final state.
 */
async function noBaselineWorld(extra: ReturnType<typeof reg>[] = [], stop = (_d: World['gh']['dispatches'][number]) => false): Promise<World> {
  const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nbaseline_runs: 3\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: [] });
  // the extra runners' classes have a baseline of the default branch
  const classes = [...new Set(extra.map((r) => r.data.hardware_class))];
  w.seedLedger([reg('runner-a', 'alice'), reg('runner-m', 'mallory'), ...extra, ...classes.map((cls) => ({ type: 'baseline_recorded' as const, data: { hardware_class: cls, sha: w.main, mean: 2.3, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['o1', 'o2', 'o3', 'o4', 'o5'] } }))]);
  w.gh.runners.splice(w.gh.runners.findIndex((r) => r.name === 'runner-b'), 1);
  online(w, 'runner-m', 'mallory');
  for (const r of extra) online(w, r.data.runner_name, r.data.owner, r.data.hardware_class);
  await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
  await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
  const done = new Set<string>([w.gh.dispatches[0].inputs.nonce]);
  const honest = new Map<string, number>();
  let turn = 0;
  for (let round = 0; round < 40 && !w.gh.labelsOf(7).includes('experiment:discarded'); round++) {
    const d = await nextDispatch(w, done);
    if (d === 'none' || (d && stop(d))) break;
    if (!d) continue;
    if (d.inputs.role === 'baseline') {
      const score = 2.0 + 0.001 * (turn % 3);
      honest.set(d.inputs.seed, score);
      await w.complete(d, d.inputs.runner_label === CLASS ? (turn % 2 ? 'runner-m' : 'runner-a') : runnerFor(w, d), score, { tamper: WASM });
      turn++;
    } else {
      const runner = runnerFor(w, d);
      await w.complete(d, runner, honest.get(d.inputs.seed) ?? 2.0, { tamper: runner === 'runner-m' ? lazy(w) : WASM });
    }
  }
  return w;
}

describe('a replay no eligible owner may run is not sent', () => {
  // A class of two owners, one of them lazy: the honest owner's runs can be replayed only by the
  // lazy one, whose made-up replay disagrees, and a third owner's replay would settle it. There is
  // none. The App sent that replay to the class's label anyway, where only the two owners already
  // excluded could take it: refused as not independent, sent again, the run dropped after its
  // attempts and run again, replayed again... (the simulator's 6-owner swarm at 50% adversaries
  // sent 450 such replays in a virtual day and decided none of its 12 PRs: they filled the
  // in-flight slots). Now a replay waits until an owner who may run it has a runner of the class.
  it('the honest owner\'s baseline run stays awaiting its replay: nothing is dispatched to the class label, tick after tick', async () => {
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nbaseline_runs: 3\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: [reg('runner-a', 'alice'), reg('runner-m', 'mallory')] });
    w.gh.runners.splice(w.gh.runners.findIndex((r) => r.name === 'runner-b'), 1);
    online(w, 'runner-m', 'mallory');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
    const [a, b, c] = w.gh.dispatches.slice(1);
    expect([a, b, c].map((d) => d.inputs.role)).toEqual(['baseline', 'baseline', 'baseline']);
    await w.complete(a, 'runner-a', 2.0, { tamper: WASM });
    await w.complete(b, 'runner-m', 2.004, { tamper: WASM });
    await w.complete(c, 'runner-a', 2.002, { tamper: WASM });
    const honest = new Map([[a.inputs.seed, 2.0], [b.inputs.seed, 2.004], [c.inputs.seed, 2.002]]);
    // every replay the App sends: mallory's are made up, alice's honest; each on the runner its label names
    const done = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const d = w.gh.dispatches.find((x) => x.inputs.replay && !done.has(x.inputs.nonce));
      if (!d) break;
      done.add(d.inputs.nonce);
      expect(d.inputs.runner_label).not.toBe(CLASS); // never the class label: only an excluded owner could take it
      const runner = runnerFor(w, d);
      await w.complete(d, runner, honest.get(d.inputs.seed)!, { tamper: runner === 'runner-m' ? lazy(w) : WASM });
    }
    const sent = w.gh.dispatches.length;
    for (let i = 0; i < 3; i++) await w.tick();
    expect(w.gh.dispatches.length).toBe(sent);
    // alice's runs that mallory's replays disagreed with await a third owner: never judged, never dropped
    const judged = new Set(w.entries('replay_judged').map((j) => j.data.job_id));
    expect([a, c].map((d) => judged.has(d.inputs.nonce))).toEqual([false, false]);
    expect(w.entries('baseline_recorded')).toEqual([]);
  });

  it('a PR waiting for a baseline that no replay can settle is given up with a final state, not left waiting for ever', async () => {
    const w = await noBaselineWorld();
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    const [discarded] = w.entries('experiment_discarded');
    expect(discarded.data.reason).toMatch(/no baseline of .* could be established/);
    // a bounded number of runs (before the fix of baselineJobsFor, extra runs went to the banned
    // mallory's label, refused and asked again, 15 and more): at most about twice the baseline's, besides those the banned mallory's runner
    // took from the class's label and had refused (GitHub cannot keep a runner from a label)
    const baselines = w.gh.dispatches.filter((d) => d.inputs.role === 'baseline').map((d) => d.inputs.nonce);
    const refusedBanned = w.entries('result_recorded').filter((r) => baselines.includes(r.data.job_id) && !r.data.validated && /mallory is banned/.test(r.data.reason ?? '')).length;
    expect(baselines.length - refusedBanned).toBeLessThanOrEqual(8); // 2 x 3, and dropped runs run again (baselineJobs)
  });
});

describe('a PR whose class cannot establish a baseline', () => {
  it('runs on another class that has a baseline of the commit, at the swarm\'s cost, instead of being given up', async () => {
    // before: given up ("no baseline ... could be established"), although carol's class had a
    // baseline of the very commit and her runner was online
    const other = 'cpu-other';
    let sent: World['gh']['dispatches'][number] | undefined;
    const world = await noBaselineWorld([reg('runner-c', 'carol', { cls: other }), reg('runner-d', 'dave', { cls: other })], (d) => d.inputs.role === 'candidate' && d.inputs.runner_label === other && !!(sent = d));
    expect(world.entries('experiment_discarded')).toEqual([]);
    expect(sent).toBeDefined();
    const [requeued] = world.entries('experiment_queued').filter((q) => q.data.on_class);
    expect(requeued.data).toMatchObject({ pr: 7, on_class: other, waiting_for: null });
    // the author paid once, for the first run
    expect(world.entries('credit_spent').filter((c) => c.data.login === 'octo-agent')).toHaveLength(1);
    // carol's run is scored against her class's baseline: an improvement claimed, verified next
    await world.complete(sent!, 'runner-c', 2.2, { tamper: (r) => Object.assign(WASM(r), { hardware_class: other }) });
    const scored = world.entries('result_recorded').find((r) => r.data.job_id === sent!.inputs.nonce)!;
    expect(scored.data).toMatchObject({ validated: true, reason: null });
    expect(world.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    expect(world.gh.dispatches.at(-1)!.inputs).toMatchObject({ role: 'verify', runner_label: 'owner-dave' });
  });
});

describe('fresh-seed verify runs of owners on probation are replayed before they earn', () => {
  it('a lazy verifier that echoes the claim is outvoted by three replays of its run: faulted, and never credited', async () => {
    // five owners: the replays of mallory's run need three besides her and alice, the claim's runner
    const w = trustWorld(undefined, [reg('runner-d', 'dave')]);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    busy(w, 'runner-b', 'runner-c', 'runner-d'); // mallory's runner is the one free when the claim is verified
    await w.complete(d, 'runner-a', 1.95, { tamper: WASM });
    const v = w.gh.dispatches[1];
    expect(v.inputs).toMatchObject({ role: 'verify', replay: '', runner_label: 'owner-mallory' });
    busy(w, 'runner-m');
    await w.complete(v, 'runner-m', 1.951, { tamper: lazy(w) }); // the public claim, echoed
    expect(w.entries('experiment_merged')).toEqual([]); // quorum 1 would merge on it: the merge waits for its replay
    // mallory's verify run is replayed with its own seeds by other owners
    const r1 = w.gh.dispatches.find((x) => x.inputs.replay && x.inputs.seed === v.inputs.seed)!;
    expect(r1.inputs).toMatchObject({ role: 'verify', pr: '7', eval_seed: v.inputs.eval_seed });
    expect(['owner-mallory', 'owner-alice']).not.toContain(r1.inputs.runner_label);
    await replayAll(w, new Map(), 1.949);
    const verdict = w.entries('replay_judged').find((j) => j.data.job_id === v.inputs.nonce)!;
    expect(verdict.data).toMatchObject({ verdict: 'outvoted', outvoted: [v.inputs.nonce] });
    expect(w.entries('owner_faulted').map((f) => [f.data.login, f.data.job_id])).toEqual([['mallory', v.inputs.nonce]]);
    expect(granted(w).filter(([login]) => login === 'mallory')).toEqual([]);
    // the claim goes on without her run: a fresh-seed run of another owner (replayed in turn), then the merge
    const fresh = w.gh.dispatches.filter((x) => x.inputs.role === 'verify' && !x.inputs.replay);
    expect(fresh).toHaveLength(2);
    expect(['owner-mallory', 'owner-alice']).not.toContain(fresh[1].inputs.runner_label);
    await w.complete(fresh[1], runnerFor(w, fresh[1]), 1.949, { tamper: WASM });
    expect(w.entries('experiment_merged')).toEqual([]);
    await replayAll(w, new Map([[fresh[1].inputs.seed, 1.949]]), 1.949);
    const [merged] = w.entries('experiment_merged');
    expect(merged.data.job_ids.sort()).toEqual([d.inputs.nonce, fresh[1].inputs.nonce].sort());
  });

  it('an honest verifier on probation earns once a replay reproduces its run', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    busy(w, 'runner-c', 'runner-m');
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.95, { tamper: WASM });
    const v = w.gh.dispatches[1];
    expect(v.inputs.runner_label).toBe('owner-bob');
    busy(w, 'runner-m');
    await w.complete(v, 'runner-b', 1.952, { tamper: WASM });
    expect(granted(w).filter(([, j]) => j === v.inputs.nonce)).toEqual([]);
    expect(w.entries('experiment_merged')).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    await replayAll(w, new Map([[v.inputs.seed, 1.952]]), 1.952);
    expect(w.entries('experiment_merged').map((m) => m.data.job_ids.length)).toEqual([2]);
    expect(w.entries('replay_judged').find((j) => j.data.job_id === v.inputs.nonce)!.data).toMatchObject({ verdict: 'agreed' });
    expect(granted(w).filter(([, j]) => j === v.inputs.nonce)).toEqual([['bob', v.inputs.nonce]]);
    expect(w.entries('owner_faulted')).toEqual([]);
  });
});

describe('a result found wrong by a replay gets its honest job run again', () => {
  it('a lazy discard of a real improvement: outvoted by the replays, whose score is judged as the first run, so the claim is verified and not left discarded', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    await w.complete(d, 'runner-m', 2.003, { tamper: lazy(w) }); // the PR is really 0.05 better
    busy(w, 'runner-m');
    await replayAll(w, new Map([[d.inputs.seed, 1.95]]), 1.95);
    expect(w.entries('replay_judged')[0].data).toMatchObject({ verdict: 'outvoted', outvoted: [d.inputs.nonce] });
    expect(w.entries('experiment_discarded')).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    const fresh = w.gh.dispatches.at(-1)!;
    expect(fresh.inputs).toMatchObject({ pr: '7', role: 'verify', replay: '' });
    expect(fresh.inputs.runner_label).not.toBe('owner-mallory');
  });
});

describe('npm run ledger -- verify flags a baseline or credit granted against the rule', () => {
  /** The first test's ledger up to mallory's made-up baseline run, as new entries to tamper with. */
  async function lazyBaseline(): Promise<{ news: NewEntry[]; runs: string[] }> {
    const w = newClass();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
    const [a, b, m] = w.gh.dispatches.slice(1);
    await w.complete(a, 'runner-a', 2.0, { tamper: WASM });
    await w.complete(b, 'runner-b', 2.004, { tamper: WASM });
    await w.complete(m, 'runner-m', 2.015, { tamper: lazy(w) });
    audited = false;
    return { news: w.ledger().map((e) => ({ type: e.type, data: structuredClone(e.data), time: e.time }) as NewEntry), runs: [a, b, m].map((x) => x.inputs.nonce) };
  }
  const audit = (news: NewEntry[]) => {
    const a = auditLedger(appendEntries([], news));
    return a.ok ? 'ok' : a.problem;
  };

  it('flags a baseline recorded from runs no replay reproduced, and a credit granted for one', async () => {
    const { news, runs } = await lazyBaseline();
    expect(audit(news)).toBe('ok');
    const bl: NewEntry = { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: (news.find((n) => n.type === 'result_recorded' && (n.data as any).job_id === runs[0])!.data as any).sha, mean: 2.0063333333333335, sigma: 0.0076, n: 3, tokens_per_second: 8192, job_ids: runs } };
    expect(audit([...news, bl])).toMatch(/baseline_recorded of gpu-test counts job .*, which no other owner's replay has reproduced/);
    const g = news.find((n) => n.type === 'credit_granted');
    const grant: NewEntry = { type: 'credit_granted', data: { login: 'mallory', amount: 300, job_id: runs[2], train_seconds: 300, hardware_class: 'gpu-test', class_weight: 1, weight_basis: (g?.data as any)?.weight_basis ?? 'x' } };
    expect(audit([...news, grant])).toMatch(/credit_granted to mallory: the result of job .* is not reproduced by another owner's replay yet/);
  });
});

describe('a baseline run cut as an outlier', () => {
  it("leaves no baseline on one owner: the App asks the owner whose run was cut for another, and records the baseline on both", async () => {
    // CI's clean clone (test/swarm): alice's runs agreed, bob's one run was far off them (a shared
    // CPU), the outlier cut left alice alone, and the App recorded a baseline the ledger audit refuses
    const w = new World({ config: 'max_in_flight: 10\nbaseline_runs: 4\nverification:\n  quorum: 1\n  min_sigma_df: 0\n  tolerance: 0.6\n', seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob')] });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    const done = new Set<string>([w.gh.dispatches[0].inputs.nonce]);
    const bobs: string[] = [];
    let alice = 0;
    for (let round = 0; round < 30 && !w.entries('baseline_recorded').length; round++) {
      const d = await nextDispatch(w, done);
      if (d === 'none') break;
      if (!d) continue;
      if (d.inputs.role !== 'baseline') continue;
      // the class label is alice's to take; bob's first run is far off hers, his next near
      if (d.inputs.runner_label === 'owner-bob') {
        bobs.push(d.inputs.nonce);
        await w.complete(d, 'runner-b', bobs.length === 1 ? 2.2 : 2.0015);
      } else await w.complete(d, 'runner-a', 2.0 + 0.001 * (alice++ % 4));
    }
    const [b] = w.entries('baseline_recorded');
    expect(b).toBeDefined();
    expect(bobs.length).toBeGreaterThanOrEqual(2);
    expect(b.data.job_ids).not.toContain(bobs[0]);
    expect(b.data.job_ids).toContain(bobs[1]);
  });
});
