// Replays, end to end through the real supervisor and real children (wasm, tiny budgets): a run
// that trained can be replayed bit for bit at any pace, a run that did not train cannot produce
// the digest a replay reproduces, and an official run's digest is nowhere in clear
// (docs/trust.md, "Replays"; trainer/replay-proof.ts).
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { decodeSchedule, encodeSchedule, linearSchedule, ScheduleRecorder, type Schedule } from '../../trainer/replay-schedule.js';
import type { ExperimentResult } from '../../trainer/result.js';
import { open, sealKeyPairFrom } from '../../trainer/seal.js';
import type { ExperimentOptions } from '../../trainer/supervisor.js';
import { expectFailure, onDisk, runHarness } from './run-harness.js';

const run = (fixture: string, over: Partial<ExperimentOptions> = {}) => runHarness(fixture, over);
const steps = (n: number) => encodeSchedule(linearSchedule(n));
const digestOf = (r: ExperimentResult) => {
  expect(r.failure).toBeNull();
  expect(r.replay?.digest).toMatch(/^[0-9a-f]{64}$/);
  return r.replay!.digest!;
};

/** Busy threads in this process: they take CPU from the harness's children while they run. */
async function slowed<T>(threads: number, f: () => Promise<T>): Promise<T> {
  const ws = Array.from({ length: threads }, () => new Worker('for (;;) {}', { eval: true }));
  try {
    return await f();
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

describe('replays', () => {
  // one replay of scheduled.ts along 60 steps of linear progress, read by two tests: the digest the
  // variations are compared with, and the run whose digest is in clear (no seal key)
  let base: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    base = await run('scheduled.ts', { replay: steps(60) });
  }, 120_000);

  it('a replay of a run, on a machine slowed by busy threads, trains the same bits and scores the same', async () => {
    // scheduled.ts follows progress (its learning rate decays with it), so the progress values count
    const { result: original } = await run('scheduled.ts', { budgetSeconds: 2 });
    const digest = digestOf(original);
    expect(original.replay!.of).toBeNull();
    const s = decodeSchedule(original.replay!.schedule);
    expect(s.steps).toBe(original.steps);
    expect(s.marks.length).toBeGreaterThan(900); // it ran to the end of its budget
    // two busy threads on this machine's cores; the budget only caps a replay (at 3x), so a
    // larger one leaves a slowed shared machine room, and changes nothing in the bits
    const { result: replayed, outDir } = await slowed(2, () => run('scheduled.ts', { budgetSeconds: 20, replay: original.replay!.schedule }));
    expect(onDisk(outDir)).toEqual(replayed);
    expect(digestOf(replayed)).toBe(digest);
    expect(replayed.val_bpb).toBe(original.val_bpb);
    expect(replayed.steps).toBe(original.steps);
    expect(replayed.replay!.of).toBe(original.replay!.schedule);
    expect(replayed.replay!.schedule).toBe(original.replay!.schedule);
    // the first losses are the same too (the same batches, from the seed)
    expect(replayed.loss_curve.slice(0, 5).map((p) => p.loss)).toEqual(original.loss_curve.slice(0, 5).map((p) => p.loss));
  }, 120_000);

  it('a replay with another seed, fewer steps or other progress values trains other bits', async () => {
    const schedule = linearSchedule(60);
    expect(encodeSchedule(schedule)).toBe(steps(60));
    const digest = digestOf(base.result);
    expect(digestOf((await run('scheduled.ts', { replay: encodeSchedule(schedule) })).result)).toBe(digest);
    expect(digestOf((await run('scheduled.ts', { replay: encodeSchedule(schedule), seed: 8 })).result)).not.toBe(digest);
    const truncated: Schedule = { steps: 59, marks: schedule.marks.filter((m) => m < 59) };
    expect(digestOf((await run('scheduled.ts', { replay: encodeSchedule(truncated) })).result)).not.toBe(digest);
    // the same 60 batches, progress running twice as fast
    const r = new ScheduleRecorder();
    for (let i = 0; i < 60; i++) r.progress(i, (2 * i) / 60);
    expect(digestOf((await run('scheduled.ts', { replay: encodeSchedule(r.schedule()) })).result)).not.toBe(digest);
  }, 180_000);

  it('a candidate that uses Math.random, tf.randomNormal and tf.dropout without a seed still replays', async () => {
    const a = (await run('unseeded.ts', { replay: steps(40) })).result;
    const b = (await run('unseeded.ts', { replay: steps(40) })).result;
    expect(digestOf(b)).toBe(digestOf(a));
    expect(b.val_bpb).toBe(a.val_bpb);
    // the randomness comes from the run's seed
    expect(digestOf((await run('unseeded.ts', { replay: steps(40), seed: 8 })).result)).not.toBe(digestOf(a));
  }, 120_000);

  it('with a seal key the digest is nowhere in clear; the App opens the box and finds the job nonce', async () => {
    const app = sealKeyPairFrom('the App private key, in a test');
    const digest = digestOf(base.result);
    // without a key the digest is in the result and the log, where a grep finds it
    expect(readFileSync(join(base.outDir, 'train.log'), 'utf8')).toContain(digest);

    // the same replay with the App's key
    const { result, outDir } = await run('scheduled.ts', { replay: steps(60), sealKey: app.publicKey, nonce: 'job-nonce-0001' });
    expect(result.failure).toBeNull();
    expect(result.replay?.digest).toBeUndefined();
    for (const f of ['result.json', 'train.log']) expect(readFileSync(join(outDir, f), 'utf8')).not.toContain(digest);
    const box = JSON.parse(open(app, result.replay!.sealed!));
    expect(box).toEqual({ nonce: 'job-nonce-0001', digest, val_bpb: result.val_bpb });
    expect(() => open(sealKeyPairFrom('another key'), result.replay!.sealed!)).toThrow(/does not open/);
  }, 120_000);

  it('a candidate that reads the wall clock to change its training cannot be replayed (its problem)', async () => {
    const { result: original } = await run('wall-clock.ts', { budgetSeconds: 1 });
    const replayed = (await run('wall-clock.ts', { budgetSeconds: 1, replay: original.replay!.schedule })).result;
    expect(replayed.steps).toBe(original.steps);
    expect(digestOf(replayed)).not.toBe(digestOf(original));
  }, 120_000);

  it('fails a replay the machine is too slow for, saying so', async () => {
    const { result, outDir } = await run('tiny.ts', { budgetSeconds: 0.4, replay: steps(1_000_000) });
    expectFailure(result, outDir, 'timeout', /machine was too slow to replay this schedule: \d+ of 1000000 steps served .* at most 3x the budget of 0\.4s/);
    expect(result.replay ?? null).toBeNull();
  }, 60_000);

  it('a malformed schedule, a bad seal key or a seal key without a nonce: one harness error naming it', async () => {
    const bad = await run('tiny.ts', { replay: 'v1.10.%%' });
    expectFailure(bad.result, bad.outDir, 'harness_error', /--replay: invalid replay schedule \(the marks are not base64url\)/);
    const key = await run('tiny.ts', { sealKey: 'not-a-key', nonce: 'job-nonce-0001' });
    expectFailure(key.result, key.outDir, 'harness_error', /--seal-key: the seal key must be a raw X25519 public key/);
    const nonce = await run('tiny.ts', { sealKey: sealKeyPairFrom('k').publicKey });
    expectFailure(nonce.result, nonce.outDir, 'harness_error', /a seal key needs the job's nonce/);
  }, 60_000);
});
