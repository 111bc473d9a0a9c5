// Replays (docs/trust.md, "Replays"): a trust check re-runs a result with the same seeds, budget
// and progress schedule on another owner's runner of the class, and on a deterministic backend
// the checkpoint's sealed digest must come out the same. Attack first: the lazy owner's attack is
// shown succeeding against the App without replays (no seal key: a fresh-seed re-run), and each
// other attack failed against the App before its defence (see the commit messages).
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { reg, trustWorld, World } from './world.js';
import { appendEntries, auditLedger, digestCommitment, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { encodeSchedule, linearSchedule } from '../../trainer/replay-schedule.js';
import { sealKeyPairFrom } from '../../trainer/seal.js';
import { sealKeysFromEnv } from '../../app/seal-keys.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
/** The runner whose owner label a dispatch targets. */
const runnerFor = (w: World, d: { inputs: Record<string, string> }) => w.gh.runners.find((r) => r.labels.includes(d.inputs.runner_label))!.name;
/** A lazy run: a plausible score, never trained, so its checkpoint digest is made up. */
const lazy = (w: World, digest = MADE_UP) => (r: any) => {
  WASM(r);
  const schedule = encodeSchedule(linearSchedule(r.steps));
  r.replay = w.sealKeys ? { schedule, of: null, sealed: w.sealed({ nonce: r.job.nonce, digest, val_bpb: r.val_bpb }) } : { schedule, of: null, digest };
};
const busy = (w: World, ...names: string[]) => {
  for (const r of w.gh.runners) r.busy = names.includes(r.name);
};

describe('every dispatch carries the App\'s seal key', () => {
  it('the seal_key input is the App\'s X25519 public key, recorded with the job; a run on the clock has replay \'\'', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const [d] = w.gh.dispatches;
    expect(d.inputs.seal_key).toBe(w.sealKeys!.publicKey);
    expect(d.inputs.replay).toBe('');
    expect(w.entries('job_dispatched')[0].data).toMatchObject({ seal_key: w.sealKeys!.publicKey });
    expect(w.entries('job_dispatched')[0].data.replay).toBeUndefined();
  });

  it('an App without a key sends seal_key \'\' and records none', async () => {
    const w = new World({ seal: false });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    expect(w.gh.dispatches[0].inputs).toMatchObject({ seal_key: '', replay: '' });
    expect(w.entries('job_dispatched')[0].data.seal_key).toBeUndefined();
  });
});

describe('the App\'s seal key comes from its private key', () => {
  it('PRIVATE_KEY (escaped newlines too, as Probot reads it) or the file PRIVATE_KEY_PATH names; none: no key', () => {
    audited = false;
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----\n';
    const want = sealKeyPairFrom(pem).publicKey;
    expect(sealKeysFromEnv({ PRIVATE_KEY: pem })!.publicKey).toBe(want);
    expect(sealKeysFromEnv({ PRIVATE_KEY: pem.replace(/\n/g, '\\n') })!.publicKey).toBe(want);
    const file = join(mkdtempSync(join(tmpdir(), 'seal-')), 'key.pem');
    writeFileSync(file, pem);
    expect(sealKeysFromEnv({ PRIVATE_KEY_PATH: file })!.publicKey).toBe(want);
    expect(sealKeysFromEnv({})).toBeNull();
  });
});

describe('a sealed result must match its dispatch', () => {
  it('a result without the sealed box, or with the digest in clear, is rejected as not matching its dispatch, and the job runs again', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { tamper: (r) => (r.replay = null) });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/no replay\.sealed/) });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.99, { tamper: (r) => (r.replay = { schedule: encodeSchedule(linearSchedule(r.steps)), of: null, digest: MADE_UP }) });
    expect(w.entries('result_recorded')[1].data).toMatchObject({ validated: false, reason: expect.stringMatching(/replay\.digest is in clear/) });
  });

  it('the ledger records a commitment to the sealed digest, never the digest, until the replays are judged', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    await w.complete(d, 'runner-a', 1.993, { tamper: WASM });
    const rec = w.entries('result_recorded')[0].data;
    const digest = w.digestOf(rec.result as any, rec.result!.replay!.schedule);
    expect(rec.digest_commitment).toBe(digestCommitment(digest, d.inputs.nonce));
    expect(JSON.stringify(w.ledger())).not.toContain(digest);
    expect(JSON.stringify(w.gh.checks)).not.toContain(digest);
  });
});

describe('trust checks are replays', () => {
  it('without replays (an App with no seal key) a lazy owner\'s plausible discard is confirmed by a fresh-seed re-run and credited: the attack', async () => {
    const w = trustWorld(undefined, [], { seal: false });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    await w.complete(d, 'runner-m', 1.99, { tamper: lazy(w) }); // mallory never trained
    const check = w.gh.dispatches[1];
    expect(check.inputs).toMatchObject({ role: 'verify', replay: '' });
    expect(check.inputs.seed).not.toBe(d.inputs.seed);
    await w.complete(check, runnerFor(w, check), 1.995, { tamper: WASM });
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.entries('credit_granted').map((g) => g.data.login)).toContain('mallory');
  });

  it('a lazy owner whose discard seals a made-up digest is caught by the replays and faulted (three agreeing owners); its pending credit is reversed', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    await w.complete(d, 'runner-m', 1.993, { tamper: lazy(w) }); // even the exact score: the checkpoint is what it cannot guess
    const orig = w.entries('result_recorded')[0].data.result!;
    const r1 = w.gh.dispatches[1];
    expect(r1.inputs).toMatchObject({ role: 'verify', pr: '7', seed: d.inputs.seed, eval_seed: d.inputs.eval_seed, budget: d.inputs.budget, replay: orig.replay!.schedule, seal_key: w.sealKeys!.publicKey });
    expect(r1.inputs.runner_label).not.toBe('owner-mallory');
    await w.complete(r1, runnerFor(w, r1), 1.993, { tamper: WASM });
    expect(w.entries('replay_judged')).toEqual([]); // undecided: nothing revealed yet
    const r2 = w.gh.dispatches[2];
    expect(r2.inputs).toMatchObject({ role: 'verify', seed: d.inputs.seed, replay: orig.replay!.schedule });
    expect(['owner-mallory', r1.inputs.runner_label]).not.toContain(r2.inputs.runner_label);
    await w.complete(r2, runnerFor(w, r2), 1.993, { tamper: WASM });
    // two owners agree against mallory: not yet a verdict (outvote_quorum 3), a third owner replays it
    expect(w.entries('replay_judged')).toEqual([]);
    const r3 = w.gh.dispatches[3];
    expect(r3.inputs).toMatchObject({ role: 'verify', seed: d.inputs.seed, replay: orig.replay!.schedule });
    expect(['owner-mallory', r1.inputs.runner_label, r2.inputs.runner_label]).not.toContain(r3.inputs.runner_label);
    await w.complete(r3, runnerFor(w, r3), 1.993, { tamper: WASM });
    const [judged] = w.entries('replay_judged');
    expect(judged.data).toMatchObject({ job_id: d.inputs.nonce, replay_job_ids: [r1.inputs.nonce, r2.inputs.nonce, r3.inputs.nonce], by: 'digest', verdict: 'outvoted', outvoted: [d.inputs.nonce] });
    expect(judged.data.digests[0]).toBe(MADE_UP);
    expect(new Set(judged.data.digests.slice(1)).size).toBe(1);
    expect(w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['mallory']);
    expect(w.entries('owner_faulted')[0].data.agreed_job_ids).toHaveLength(3);
    expect(w.entries('credit_reversed').find((r) => r.data.job_id === d.inputs.nonce)).toBeDefined();
    expect(w.entries('credit_granted').map((g) => g.data.login)).not.toContain('mallory');
    expect(w.entries('credit_granted').map((g) => g.data.job_id).sort()).toEqual([r1.inputs.nonce, r2.inputs.nonce, r3.inputs.nonce].sort());
    // the replays' own score decides the PR: no improvement
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });

  it('a lazy replayer that copies the original\'s public score and sealed box is refused: the box names another job', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    busy(w, 'runner-b', 'runner-c'); // only mallory's runner is free when the replay is dispatched
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.993, { tamper: WASM });
    const orig = w.entries('result_recorded')[0].data.result!;
        const r1 = w.gh.dispatches[1];
    expect(r1.inputs.runner_label).toBe('owner-mallory');
    await w.complete(r1, 'runner-m', orig.val_bpb, { tamper: (r) => (WASM(r), (r.replay = { schedule: orig.replay!.schedule, of: orig.replay!.schedule, sealed: orig.replay!.sealed })) });
    const rec = w.entries('result_recorded').find((r) => r.data.job_id === r1.inputs.nonce)!;
    expect(rec.data).toMatchObject({ validated: false, reason: expect.stringMatching(/sealed for job .* not this job .*copied from another run/) });
    // the same replay runs again
    const again = w.gh.dispatches[2];
    expect(again.inputs).toMatchObject({ role: 'verify', seed: r1.inputs.seed, eval_seed: r1.inputs.eval_seed, replay: r1.inputs.replay });
    expect(w.entries('credit_granted').map((g) => g.data.login)).not.toContain('mallory');
  });

  it('an owner who keeps sending sealed boxes copied from other runs is faulted for each and banned at ban_after_faults (2): a forgery is a fault, not only a refusal', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    busy(w, 'runner-b', 'runner-c'); // only mallory's runner is free when a replay is dispatched
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.993, { tamper: WASM });
    const orig = w.entries('result_recorded')[0].data.result!;
    const copy = (r: any) => (WASM(r), (r.replay = { schedule: orig.replay!.schedule, of: orig.replay!.schedule, sealed: orig.replay!.sealed }));
    const r1 = w.gh.dispatches[1];
    expect(r1.inputs.runner_label).toBe('owner-mallory');
    await w.complete(r1, 'runner-m', orig.val_bpb, { tamper: copy });
    expect(w.entries('result_recorded').find((r) => r.data.job_id === r1.inputs.nonce)!.data).toMatchObject({ validated: false, forgery: true });
    expect(w.entries('owner_banned')).toEqual([]);
    // the replay is dispatched again; a runner of mallory's takes it again (GitHub cannot exclude a label) and copies again
    const r2 = w.gh.dispatches.at(-1)!;
    expect(r2.inputs).toMatchObject({ role: 'verify', replay: r1.inputs.replay });
    expect(r2.inputs.nonce).not.toBe(r1.inputs.nonce);
    await w.complete(r2, 'runner-m', orig.val_bpb, { tamper: copy });
    expect(w.entries('owner_banned').map((b) => [b.data.login, b.data.reason])).toEqual([['mallory', expect.stringMatching(/^2 faults, the last a forged result on job /)]]);
    expect(w.entries('credit_granted').map((g) => g.data.login)).not.toContain('mallory');
    // banned: no job goes to her label again
    busy(w);
    const before = w.gh.dispatches.length;
    await w.tick();
    expect(w.gh.dispatches.slice(before).map((d) => d.inputs.runner_label)).not.toContain('owner-mallory');
  });

  it('a lazy replayer that seals a guessed digest disagrees, and two more owners\' replays fault it; the original\'s discard stands and earns', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    busy(w, 'runner-b', 'runner-c'); // only mallory's runner is free when the replay is dispatched
    await w.complete(d, 'runner-a', 1.993, { tamper: WASM });
        const r1 = w.gh.dispatches[1];
    expect(r1.inputs.runner_label).toBe('owner-mallory');
    await w.complete(r1, 'runner-m', 1.993, { tamper: (r) => (WASM(r), (r.replay = { schedule: r1.inputs.replay, of: r1.inputs.replay, sealed: w.sealed({ nonce: r1.inputs.nonce, digest: MADE_UP, val_bpb: 1.993 }) })) });
    busy(w);
    const r2 = w.gh.dispatches[2];
    expect(['owner-alice', 'owner-mallory']).not.toContain(r2.inputs.runner_label);
    await w.complete(r2, runnerFor(w, r2), 1.993, { tamper: WASM });
    expect(w.entries('replay_judged')).toEqual([]); // alice and one more owner against mallory: a third decides
    const r3 = w.gh.dispatches[3];
    expect(['owner-alice', 'owner-mallory', r2.inputs.runner_label]).not.toContain(r3.inputs.runner_label);
    await w.complete(r3, runnerFor(w, r3), 1.993, { tamper: WASM });
    expect(w.entries('replay_judged')[0].data).toMatchObject({ verdict: 'agreed', outvoted: [r1.inputs.nonce] });
    expect(w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['mallory']);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('credit_granted').map((g) => g.data.job_id).sort()).toEqual([d.inputs.nonce, r2.inputs.nonce, r3.inputs.nonce].sort());
  });

  it('a class liar (trained on another machine, reported as this class\'s backend) is caught by replays on the class it claimed', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    // trained on a GPU: the checkpoint is the GPU's; the result says wasm and a score like the class's machines
    await w.complete(d, 'runner-m', 1.993, {
      tamper: (r) => {
        const schedule = encodeSchedule(linearSchedule(r.steps));
        const gpu = w.digestOf({ ...r, backend: 'tensorflow', threads: undefined }, schedule);
        WASM(r);
        r.replay = { schedule, of: null, sealed: w.sealed({ nonce: r.job.nonce, digest: gpu, val_bpb: 1.993 }) };
      },
    });
    for (const i of [1, 2, 3]) await w.complete(w.gh.dispatches[i], runnerFor(w, w.gh.dispatches[i]), 1.993, { tamper: WASM });
    expect(w.entries('replay_judged')[0].data).toMatchObject({ verdict: 'outvoted', outvoted: [d.inputs.nonce] });
    expect(w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['mallory']);
  });

  it('a score judged once its class\'s baseline exists (it waited for one) is replayed before it is discarded', async () => {
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nbaseline_runs: 2\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob')] });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    await w.complete(d, 'runner-a', 2.0, { tamper: WASM });
    expect(w.gh.dispatches.slice(1).map((x) => x.inputs.role)).toEqual(['baseline', 'baseline']);
    await w.complete(w.gh.dispatches[1], 'runner-a', 2.0);
    await w.complete(w.gh.dispatches[2], 'runner-b', 2.02);
    // both owners are on probation: each baseline run is replayed by the other before it counts
    expect(w.gh.dispatches.slice(3).map((x) => [x.inputs.role, x.inputs.pr, x.inputs.seed, x.inputs.runner_label])).toEqual([
      ['verify', '', w.gh.dispatches[1].inputs.seed, 'owner-bob'],
      ['verify', '', w.gh.dispatches[2].inputs.seed, 'owner-alice'],
    ]);
    await w.complete(w.gh.dispatches[3], 'runner-b', 2.0);
    expect(w.entries('baseline_recorded')).toHaveLength(0);
    await w.complete(w.gh.dispatches[4], 'runner-a', 2.02);
    expect(w.entries('baseline_recorded')).toHaveLength(1);
    const replay = w.gh.dispatches[5];
    const orig = w.entries('result_recorded')[0].data.result!;
    expect(replay.inputs).toMatchObject({ role: 'verify', pr: '7', seed: d.inputs.seed, eval_seed: d.inputs.eval_seed, replay: orig.replay!.schedule, runner_label: 'owner-bob' });
    await w.complete(replay, 'runner-b', 2.0, { tamper: WASM });
    expect(w.entries('replay_judged').map((j) => [j.data.verdict, j.data.by])).toEqual([['agreed', 'val_bpb'], ['agreed', 'val_bpb'], ['agreed', 'digest']]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });

  it('a claim is verified by fresh-seed runs, never replayed: a replay is not an independent sample', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.95, { tamper: WASM });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'verify', replay: '' });
    expect(w.gh.dispatches[1].inputs.seed).not.toBe(w.gh.dispatches[0].inputs.seed);
  });

  it('an honest pair agrees: nobody is faulted, both earn, and the verdict reveals equal digests that match their commitments', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    await w.complete(d, 'runner-a', 1.993, { tamper: WASM });
    const r1 = w.gh.dispatches[1];
    await w.complete(r1, runnerFor(w, r1), 1.993, { tamper: WASM });
    const [judged] = w.entries('replay_judged');
    expect(judged.data).toMatchObject({ verdict: 'agreed', outvoted: [], by: 'digest' });
    const recs = w.entries('result_recorded');
    expect(judged.data.digests.map((g, i) => digestCommitment(g!, [d.inputs.nonce, r1.inputs.nonce][i]))).toEqual(recs.map((r) => r.data.digest_commitment));
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.entries('credit_granted')).toHaveLength(2);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.dispatches).toHaveLength(2);
  });

  it('a candidate that is not replayable (four different checkpoints: no three can agree within five runs) faults nobody, and the original earns nothing', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    const clock = (n: number) => (r: any) => (WASM(r), (r.replay = { schedule: d.inputs.replay || encodeSchedule(linearSchedule(r.steps)), of: r.job.nonce === d.inputs.nonce ? null : r1().inputs.replay, sealed: w.sealed({ nonce: r.job.nonce, digest: String(n).repeat(64), val_bpb: r.val_bpb }) }));
    const r1 = () => w.gh.dispatches[1];
    await w.complete(d, 'runner-a', 1.993, { tamper: clock(1) });
    await w.complete(r1(), runnerFor(w, r1()), 1.994, { tamper: clock(2) });
    const r2 = w.gh.dispatches[2];
    await w.complete(r2, runnerFor(w, r2), 1.995, { tamper: clock(3) });
    expect(w.entries('replay_judged')).toEqual([]); // three different: a group of three could still form in five runs
    const r3 = w.gh.dispatches[3];
    await w.complete(r3, runnerFor(w, r3), 1.996, { tamper: clock(4) });
    expect(w.entries('replay_judged')[0].data).toMatchObject({ verdict: 'not_replayable', outvoted: [] });
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.entries('credit_reversed').map((r) => [r.data.job_id, r.data.amount])).toEqual([[d.inputs.nonce, 0]]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('experiment_discarded')[0].data.reason).toMatch(/not replayable/);
  });
});

describe('two owners together cannot outvote a third (outvote_quorum, default 3)', () => {
  // The framing pair: two colluding accounts train honestly except when both are drawn to replay
  // another owner's run, where they report the same made-up result (or two different ones). With
  // two agreeing owners enough to outvote, the honest original was faulted (trust reset, pending
  // credits reversed; a ban and, under ban_forfeits, the forfeit of its unproven credits at the
  // second), or made not replayable (its credit reversed). Each scenario runs under the old rule
  // (`outvote_quorum: 2`), where the attack succeeds, and under the default, where it fails.
  const FRAMED = 'cd'.repeat(32);
  /** a framer's replay: the original's schedule, a made-up checkpoint sealed with its own nonce and a worse score */
  const frame = (w: World, d: { inputs: Record<string, string> }, digest: string, val: number) => (r: any) => (WASM(r), (r.replay = { schedule: d.inputs.replay, of: d.inputs.replay, sealed: w.sealed({ nonce: d.inputs.nonce, digest, val_bpb: val }) }), (r.val_bpb = val));
  /** alice runs PR 7 honestly; the framers mallory and mel are the ones free when its first two replays are dispatched */
  async function framedRun(quorum: string, digests: [string, string]) {
    const w = trustWorld(`max_in_flight: 6\nverification:\n  quorum: 1\n${quorum}`, [reg('runner-n', 'mel')]);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    busy(w, 'runner-b', 'runner-c', 'runner-n');
    await w.complete(d, 'runner-a', 1.993, { tamper: WASM });
    const r1 = w.gh.dispatches[1];
    expect(r1.inputs.runner_label).toBe('owner-mallory');
    busy(w, 'runner-b', 'runner-c', 'runner-m');
    await w.complete(r1, 'runner-m', 2.05, { tamper: frame(w, r1, digests[0], 2.05) });
    const r2 = w.gh.dispatches[2];
    expect(r2.inputs.runner_label).toBe('owner-mel');
    busy(w);
    const v2 = digests[1] === digests[0] ? 2.05 : 2.06; // the same checkpoint scores the same
    await w.complete(r2, 'runner-n', v2, { tamper: frame(w, r2, digests[1], v2) });
    return { w, d, r1, r2 };
  }
  /** completes the replays the App dispatches next, honestly, until it judges the run */
  async function honestReplays(w: World) {
    for (let i = 3; !w.entries('replay_judged').length && i < w.gh.dispatches.length; i++) {
      const r = w.gh.dispatches[i];
      expect(['owner-alice', 'owner-mallory', 'owner-mel']).not.toContain(r.inputs.runner_label);
      await w.complete(r, runnerFor(w, r), 1.993, { tamper: WASM });
    }
  }

  it('a pair reporting the same made-up replay faulted an honest owner under the old rule; now two honest replays more outvote the pair', async () => {
    const old = await framedRun('trust:\n  outvote_quorum: 2\n', [FRAMED, FRAMED]);
    expect(old.w.entries('replay_judged')[0].data).toMatchObject({ verdict: 'outvoted', outvoted: [old.d.inputs.nonce] });
    expect(old.w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['alice']);
    expect(old.w.entries('credit_reversed').map((r) => r.data.job_id)).toContain(old.d.inputs.nonce);

    const { w, d, r1, r2 } = await framedRun('', [FRAMED, FRAMED]);
    expect(w.entries('replay_judged')).toEqual([]);
    expect(w.entries('owner_faulted')).toEqual([]);
    await honestReplays(w);
    const [judged] = w.entries('replay_judged');
    expect(judged.data).toMatchObject({ job_id: d.inputs.nonce, verdict: 'agreed', outvoted: [r1.inputs.nonce, r2.inputs.nonce] });
    expect(judged.data.replay_job_ids).toHaveLength(4);
    expect(w.entries('owner_faulted').map((f) => f.data.login).sort()).toEqual(['mallory', 'mel']);
    expect(w.entries('credit_granted').map((g) => g.data.job_id)).toContain(d.inputs.nonce);
    expect(w.entries('credit_granted').map((g) => g.data.login)).not.toEqual(expect.arrayContaining(['mallory']));
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });

  it('a pair reporting two different made-up replays made an honest run not replayable (its credit reversed) under the old rule; now it is reproduced and the pair faulted', async () => {
    const old = await framedRun('trust:\n  outvote_quorum: 2\n', [FRAMED, MADE_UP]);
    expect(old.w.entries('replay_judged')[0].data).toMatchObject({ verdict: 'not_replayable' });
    expect(old.w.entries('credit_reversed').map((r) => r.data.job_id)).toEqual([old.d.inputs.nonce]);
    expect(old.w.entries('owner_faulted')).toEqual([]);

    const { w, d } = await framedRun('', [FRAMED, MADE_UP]);
    await honestReplays(w);
    expect(w.entries('replay_judged')[0].data).toMatchObject({ job_id: d.inputs.nonce, verdict: 'agreed' });
    expect(w.entries('owner_faulted').map((f) => f.data.login).sort()).toEqual(['mallory', 'mel']);
    expect(w.entries('credit_reversed').map((r) => r.data.job_id)).not.toContain(d.inputs.nonce);
    expect(w.entries('credit_granted').map((g) => g.data.job_id)).toContain(d.inputs.nonce);
  });
});

describe('a dispute in a class with too few owners to settle it', () => {
  // Three owners on the class: alice runs PR 7 honestly, mallory's replay seals a made-up
  // checkpoint, bob's reproduces alice's. Two agree; a verdict needs outvote_quorum (3), and every
  // runner of the class now belongs to an owner who may not replay the run. The App sent the next
  // replay to the class label, where one of those three took it, was refused and the job ran
  // again, until max_attempts + max_runs attempts (11 runs in all for one dispute).
  const made = (w: World, d: { inputs: Record<string, string> }) => (r: any) =>
    (WASM(r), (r.replay = { schedule: d.inputs.replay, of: d.inputs.replay, sealed: w.sealed({ nonce: d.inputs.nonce, digest: MADE_UP, val_bpb: 2.05 }) }), (r.val_bpb = 2.05));
  async function dispute(carol: 'gone' | 'offline') {
    const w = trustWorld();
    const c = w.gh.runners.findIndex((r) => r.name === 'runner-c');
    if (carol === 'gone') {
      // three owners ever registered on the class
      w.gh.runners.splice(c, 1);
      w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-m', 'mallory'), { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    } else w.gh.runners[c].status = 'offline';
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    busy(w, 'runner-b');
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.993, { tamper: WASM });
    const r1 = w.gh.dispatches[1];
    expect(r1.inputs.runner_label).toBe('owner-mallory');
    busy(w);
    await w.complete(r1, 'runner-m', 2.05, { tamper: made(w, r1) });
    const r2 = w.gh.dispatches[2];
    expect(r2.inputs.runner_label).toBe('owner-bob');
    await w.complete(r2, 'runner-b', 1.993, { tamper: WASM });
    return w;
  }

  it('with no other owner\'s runner on the class the dispute ends at once: the discard stands, nobody is faulted, and no job goes to the class label', async () => {
    const w = await dispute('gone');
    expect(w.gh.dispatches).toHaveLength(3);
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.entries('replay_judged')).toEqual([]);
    const [discarded] = w.entries('experiment_discarded');
    expect(discarded.data.reason).toMatch(/no owner but alice, bob, mallory and octo-agent has a runner on gpu-test.*outvote_quorum/);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });

  it('an eligible owner whose runner is offline gets the replay (GitHub queues it until the runner is online), not the class label; its replay settles the dispute', async () => {
    const w = await dispute('offline');
    const r3 = w.gh.dispatches[3];
    expect(r3.inputs.runner_label).toBe('owner-carol');
    w.gh.runners.find((r) => r.name === 'runner-c')!.status = 'online';
    await w.complete(r3, 'runner-c', 1.993, { tamper: WASM });
    expect(w.entries('replay_judged')[0].data).toMatchObject({ verdict: 'agreed' });
    expect(w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['mallory']);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });
});

describe('a swarm with more than 100 runners', () => {
  it('finds a verifier listed after the first page of 100 (alice, the claimant, has 110 runners listed first)', async () => {
    // Before, one page of 100 runners was read: all alice's, none eligible, so the verify run went
    // to the class label, where alice's own runners took it, refused, until max_attempts.
    const w = trustWorld();
    const mine = Array.from({ length: 110 }, (_, i) => ({ id: 1000 + i, name: `runner-a${i}`, status: 'online' as const, busy: false, labels: ['self-hosted', 'autoresearch', 'gpu-test', 'owner-alice'] }));
    w.gh.runners.unshift(...mine);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.95, { tamper: WASM });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'verify', runner_label: expect.stringMatching(/^owner-(bob|carol|mallory)$/) });
  });
});

describe('a claim no other owner can verify on its class', () => {
  // Only alice has a runner on the class. The App sent the claim's verify run to the class label,
  // where alice's own runner took it, was refused (not independent) and the job ran again, until
  // max_attempts + max_runs runs, then refuted it.
  function loneOwner(otherClass: boolean) {
    const other = ['xavier', 'yves', 'zoe'].map((o) => reg(`runner-${o[0]}`, o, { cls: 'cpu-other' }));
    const w = trustWorld(undefined, otherClass ? other : []);
    for (const n of ['runner-b', 'runner-c', 'runner-m']) w.gh.runners.splice(w.gh.runners.findIndex((r) => r.name === n), 1);
    const base = (cls: string) => ({ type: 'baseline_recorded' as const, data: { hardware_class: cls, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } });
    w.seedLedger([reg('runner-a', 'alice'), ...(otherClass ? other : []), base('gpu-test'), ...(otherClass ? [base('cpu-other')] : [])]);
    return w;
  }

  it('runs on another class that has a baseline and runners of other owners, where it is verified (the verify run replayed: all are on probation) and merged', async () => {
    const w = loneOwner(true);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.95, { tamper: WASM });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'candidate', runner_label: 'cpu-other' });
    expect(w.entries('experiment_queued').at(-1)!.data).toMatchObject({ pr: 7, on_class: 'cpu-other' });
    const other = (r: any) => (WASM(r), (r.hardware_class = 'cpu-other'));
    await w.complete(w.gh.dispatches[1], 'runner-x', 1.95, { tamper: other });
    const verify = w.gh.dispatches[2];
    expect(verify.inputs).toMatchObject({ role: 'verify', runner_label: expect.stringMatching(/^owner-(yves|zoe)$/) });
    await w.complete(verify, runnerFor(w, verify), 1.951, { tamper: other });
    const replay = w.gh.dispatches[3];
    expect(replay.inputs).toMatchObject({ role: 'verify', seed: verify.inputs.seed });
    expect(['owner-yves', 'owner-zoe'].filter((l) => l !== verify.inputs.runner_label)).toEqual([replay.inputs.runner_label]);
    await w.complete(replay, runnerFor(w, replay), 1.951, { tamper: other });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:merged']);
  });

  it('runs again on the other class when no runner took its run there (before: sent to any runner, alice\'s class among them, for a claim no one can verify again)', async () => {
    const w = loneOwner(true);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.95, { tamper: WASM });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'candidate', runner_label: 'cpu-other' });
    w.clock = new Date(w.clock.getTime() + 121 * 60_000); // no cpu-other runner took it within queue_limit_minutes
    await w.tick();
    expect(w.gh.dispatches[2].inputs).toMatchObject({ role: 'candidate', pr: '7', runner_label: 'cpu-other' });
  });

  it('a merge that waits for the replay of its verify run (bob is on probation) that no third owner can run is discarded as unverifiable, not as a dispute', async () => {
    const w = trustWorld();
    for (const n of ['runner-c', 'runner-m']) w.gh.runners.splice(w.gh.runners.findIndex((r) => r.name === n), 1);
    w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.95, { tamper: WASM });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'verify', runner_label: 'owner-bob', replay: '' });
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.951, { tamper: WASM });
    expect(w.gh.dispatches).toHaveLength(2);
    expect(w.entries('experiment_discarded')[0].data.reason).toMatch(/^no owner but alice, bob and octo-agent has a runner on gpu-test, so no independent run can verify the claim/);
  });

  it('with no such class it is discarded at once, saying why and what to do, instead of running on alice\'s runner until max_attempts', async () => {
    const w = loneOwner(false);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.95, { tamper: WASM });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.entries('experiment_discarded')[0].data.reason).toMatch(/no owner but alice and octo-agent has a runner on gpu-test.*push again/);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });
});

describe('GPU replays', () => {
  /** a lazy replayer: the original's public score, a made-up digest sealed with its own nonce */
  const copyScore = (w: World, d: { inputs: Record<string, string> }, val: number) => (r: any) => (r.replay = { schedule: d.inputs.replay, of: d.inputs.replay, sealed: w.sealed({ nonce: d.inputs.nonce, digest: MADE_UP, val_bpb: val }) });

  it('on a GPU backend a replay is compared by val_bpb: the very same score from another checkpoint is a copy and is outvoted; a copy with noise added agrees (the limit: docs/trust.md 2b)', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    busy(w, 'runner-b', 'runner-c');
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.993);
    const r1 = w.gh.dispatches[1];
    await w.complete(r1, 'runner-m', 1.993, { tamper: copyScore(w, r1, 1.993) });
    expect(w.entries('replay_judged')).toEqual([]);
    busy(w);
    const r2 = w.gh.dispatches[2];
    await w.complete(r2, runnerFor(w, r2), 1.993);
    const r3 = w.gh.dispatches[3];
    await w.complete(r3, runnerFor(w, r3), 1.993);
    expect(w.entries('replay_judged')[0].data).toMatchObject({ by: 'val_bpb', verdict: 'agreed', tolerance: 0.02, outvoted: [r1.inputs.nonce] });
    // the same lazy replayer, adding noise to the copied score, agrees: on a GPU only blind verification (or deterministic kernels) would catch it
    await w.push(8, 'octo-agent', { 'trainer/train.ts': 'export const LR = 2e-3;\n' });
    busy(w, 'runner-b', 'runner-c');
    const d8 = w.gh.dispatches.find((x) => x.inputs.pr === '8')!;
    await w.complete(d8, 'runner-a', 1.993);
    const r8 = w.gh.dispatches.at(-1)!;
    expect(r8.inputs).toMatchObject({ pr: '8', role: 'verify', runner_label: 'owner-mallory' });
    await w.complete(r8, 'runner-m', 1.994, { tamper: copyScore(w, r8, 1.994) });
    expect(w.entries('replay_judged')[1].data).toMatchObject({ by: 'val_bpb', verdict: 'agreed', outvoted: [] });
  });

  it('with the GPU backend among trust.deterministic_backends (deterministic kernels) its replays compare digests, and the copy is outvoted', async () => {
    const w = trustWorld('max_in_flight: 4\nverification:\n  quorum: 1\ntrust:\n  deterministic_backends: [wasm, cpu, tensorflow]\n');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    busy(w, 'runner-b', 'runner-c');
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.993);
    const r1 = w.gh.dispatches[1];
    await w.complete(r1, 'runner-m', 1.993, { tamper: copyScore(w, r1, 1.993) });
    busy(w);
    const r2 = w.gh.dispatches[2];
    await w.complete(r2, runnerFor(w, r2), 1.993);
    const r3 = w.gh.dispatches[3];
    await w.complete(r3, runnerFor(w, r3), 1.993);
    expect(w.entries('replay_judged')[0].data).toMatchObject({ by: 'digest', verdict: 'agreed', outvoted: [r1.inputs.nonce] });
    expect(w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['mallory']);
  });
});

describe('the audit recomputes every replay verdict from the revealed digests', () => {
  /** The ledger of an honest pair whose replay agreed, as new entries to tamper with. */
  async function honestPair(): Promise<{ news: NewEntry[]; orig: string; replay: string }> {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.993, { tamper: WASM });
    await w.complete(w.gh.dispatches[1], runnerFor(w, w.gh.dispatches[1]), 1.993, { tamper: WASM });
    expect(auditLedger(w.ledger()).ok).toBe(true);
    return { news: w.ledger().map((e: LedgerEntry) => ({ type: e.type, data: structuredClone(e.data), time: e.time }) as NewEntry), orig: w.gh.dispatches[0].inputs.nonce, replay: w.gh.dispatches[1].inputs.nonce };
  }
  const audit = (news: NewEntry[]) => {
    audited = false;
    const a = auditLedger(appendEntries([], news));
    return a.ok ? 'ok' : a.problem;
  };

  it('flags a fault that contradicts the revealed digests', async () => {
    const { news, orig, replay } = await honestPair();
    const at = news.findIndex((n) => n.type === 'replay_judged') + 1;
    const owner = news.find((n) => n.type === 'result_recorded' && (n.data as any).job_id === replay)!.data as any;
    news.splice(at, 0, { type: 'owner_faulted', data: { login: owner.runner_owner, job_id: replay, claim_job_id: orig, agreed_job_ids: [orig, 'x'], reason: 'made up' } });
    expect(audit(news)).toMatch(/owner_faulted of .* contradicts the revealed digests of the replays of job/);
  });

  it('flags a verdict its revealed digests do not support, and a revealed digest other than the one committed to', async () => {
    const { news } = await honestPair();
    const j = news.find((n) => n.type === 'replay_judged')!.data as any;
    const k = structuredClone(news);
    Object.assign(k.find((n) => n.type === 'replay_judged')!.data as any, { digests: [j.digests[0], MADE_UP] });
    expect(audit(k)).toMatch(/a digest that is not the one its result committed to/);
    const v = structuredClone(news);
    Object.assign(v.find((n) => n.type === 'replay_judged')!.data as any, { verdict: 'not_replayable' });
    expect(audit(v)).toMatch(/says not_replayable, but its revealed digests say agreed/);
  });

  it('flags a credit granted to a run the revealed digests outvoted', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches[0];
    await w.complete(d, 'runner-m', 1.993, { tamper: lazy(w) });
    await w.complete(w.gh.dispatches[1], runnerFor(w, w.gh.dispatches[1]), 1.993, { tamper: WASM });
    await w.complete(w.gh.dispatches[2], runnerFor(w, w.gh.dispatches[2]), 1.993, { tamper: WASM });
    await w.complete(w.gh.dispatches[3], runnerFor(w, w.gh.dispatches[3]), 1.993, { tamper: WASM });
    const news = w.ledger().map((e) => ({ type: e.type, data: structuredClone(e.data), time: e.time }) as NewEntry);
    // the App "forgets" the fault and pays the lazy owner
    const kept = news.filter((n) => !(n.type === 'owner_faulted' || (n.type === 'credit_reversed' && (n.data as any).job_id === d.inputs.nonce)));
    const g = news.find((n) => n.type === 'credit_granted')!.data as any;
    kept.push({ type: 'credit_granted', data: { ...g, login: 'mallory', job_id: d.inputs.nonce } });
    expect(audit(kept)).toMatch(/credit_granted to mallory: the result of job .* is not confirmed/);
  });
});
