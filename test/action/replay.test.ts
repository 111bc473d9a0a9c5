// The Action's side of replays: the `replay` and `seal-key` inputs reach the harness, and a result
// that does not say it replayed what was asked, or that carries the proof in clear when a seal
// key was given, is never uploaded as a score.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSchedule, linearSchedule } from '../../trainer/replay-schedule.js';
import { parseResult, RESULT_SCHEMA_VERSION, type ExperimentResult } from '../../trainer/result.js';
import { open, seal, sealKeyPairFrom } from '../../trainer/seal.js';
import { fixture, mockCore, NONCE, World } from './helpers/action-world.js';

const core = mockCore();
const { run, completeResult } = await import('../../action/src/main.js');

const app = sealKeyPairFrom('the App private key, in a test');
const schedule = encodeSchedule(linearSchedule(30));
const sha = 'a'.repeat(40);
const request = { role: 'candidate' as const, nonce: NONCE, pr: 7, sha, evalSeed: 11, budget: 1 };
const ctx = { repo: 'acme/autoresearch', runId: 1, runnerName: 'r', isolation: 'none' as const };

function harnessResult(replay: ExperimentResult['replay']): ExperimentResult {
  return {
    schema_version: RESULT_SCHEMA_VERSION,
    harness_version: '2.0.0',
    status: 'ok',
    failure: null,
    val_bpb: 3.5,
    unigram_bpb: 4.5,
    bigram_bpb: 3.6,
    eval_bytes: 2048,
    eval_split: 'heldout',
    dataset: 'brown',
    steps: 30,
    tokens: 30 * 8 * 16,
    budget_seconds: 1,
    train_seconds: 0.8,
    total_seconds: 3,
    tokens_per_second: 4800,
    params: 65536,
    backend: 'wasm',
    device: 'CPU',
    hardware_class: 'cpu-x',
    peak_memory_mb: 100,
    replay,
    seed: 3,
    eval_seed: 11,
    candidate_sha256: 'c'.repeat(64),
    harness_sha256: 'd'.repeat(64),
    loss_curve: [],
    started_at: '2026-01-01T00:00:00Z',
    finished_at: '2026-01-01T00:00:03Z',
    job: null,
  };
}

describe("the Action's check of a result against its request", () => {
  const check = (r: ExperimentResult, extra: { replay?: string; sealKey?: string }) => () => completeResult(r, { ...request, ...extra }, 'c'.repeat(64), 0, ctx);
  const sealed = seal(app.publicKey, JSON.stringify({ nonce: NONCE, digest: 'e'.repeat(64), val_bpb: 3.5 }));

  it('accepts a replay of the dispatched schedule with its proof sealed', () => {
    expect(check(harnessResult({ schedule, of: schedule, sealed }), { replay: schedule, sealKey: app.publicKey })).not.toThrow();
    expect(check(harnessResult({ schedule, of: null, digest: 'e'.repeat(64) }), {})).not.toThrow();
  });

  it('refuses a result that replayed another schedule, or none, or ran on the clock when asked to replay', () => {
    expect(check(harnessResult({ schedule, of: encodeSchedule(linearSchedule(29)), sealed }), { replay: schedule, sealKey: app.publicKey })).toThrow(/replay\.of "v1\.29\..*" is not the requested replay "v1\.30\./);
    expect(check(harnessResult({ schedule, of: null, sealed }), { replay: schedule, sealKey: app.publicKey })).toThrow(/replay\.of null \(on the clock\) is not the requested replay/);
    expect(check(harnessResult({ schedule, of: schedule, sealed }), { sealKey: app.publicKey })).toThrow(/is not the requested replay null \(on the clock\)/);
    expect(check(harnessResult(null), { replay: schedule })).toThrow(/an ok result carries no replay block/);
  });

  it('refuses a result with the digest in clear, or without a sealed box, when a seal key was given', () => {
    expect(check(harnessResult({ schedule, of: null, digest: 'e'.repeat(64), sealed }), { sealKey: app.publicKey })).toThrow(/replay\.digest is in clear although a seal key was given/);
    expect(check(harnessResult({ schedule, of: null, digest: 'e'.repeat(64) }), { sealKey: app.publicKey })).toThrow(/replay\.sealed is missing although a seal key was given/);
  });
});

describe('the Action on a real harness run with replay and seal-key', () => {
  let world: World;
  let shaPr: string;
  beforeAll(() => {
    world = new World();
    shaPr = world.pullRequest(7, { 'trainer/train.ts': fixture('count-bigram.ts').replace('const CONTEXT = 32;', 'const CONTEXT = 16;') });
  });
  afterAll(() => world.close());
  beforeEach(() => world.newJob(core));

  it('replays the dispatched schedule and seals the digest with the job nonce; the digest is in no file or summary', async () => {
    core.inputs = world.inputs(shaPr, '7', { replay: schedule, 'seal-key': app.publicKey });
    await run();
    expect(core.setFailed).not.toHaveBeenCalled();
    const text = world.readResultText();
    const r = parseResult(text);
    expect(r.steps).toBe(30);
    expect(r.replay).toMatchObject({ schedule, of: schedule });
    expect(r.replay?.digest).toBeUndefined();
    const box = JSON.parse(open(app, r.replay!.sealed!));
    expect(box).toEqual({ nonce: NONCE, digest: expect.stringMatching(/^[0-9a-f]{64}$/), val_bpb: r.val_bpb });
    for (const where of [text, readFileSync(join(world.outDir, 'train.log'), 'utf8'), core.summary]) expect(where).not.toContain(box.digest);
    expect(core.summary).toContain("a replay of a schedule of 30 steps; checkpoint digest sealed to the App's key");

    // the same replay without a seal key: the same digest, in clear
    world.newJob(core);
    core.inputs = world.inputs(shaPr, '7', { replay: schedule });
    await run();
    expect(core.setFailed).not.toHaveBeenCalled();
    expect(parseResult(world.readResultText()).replay?.digest).toBe(box.digest);
  }, 180_000);
});
