// Candidates that fail (diverge, crash, hang) against the real harness: a failed status with
// the reason, the result and the log still written for upload, and the step failed with a
// message naming the failure and where the log is.
import { describe, it, expect, beforeAll, beforeEach, afterAll } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResult } from '../../trainer/result.js';
import { bigramWithStep, fixture, mockCore, NONCE, World } from './helpers/action-world.js';

const core = mockCore();
const { run } = await import('../../action/src/main.js');

let world: World;
const shas: Record<string, string> = {};

beforeAll(() => {
  world = new World();
  shas.nan = world.pullRequest(8, { 'trainer/train.ts': fixture('nan-loss.ts') });
  shas.crash = world.pullRequest(9, { 'trainer/train.ts': "export function createModel(): never {\n  throw new Error('out of ideas');\n}\n" });
  // trains normally, then one step never returns: the harness kills it after its grace period
  shas.hang = world.pullRequest(12, { 'trainer/train.ts': bigramWithStep('if (progress > 0.5) for (;;);') });
});
afterAll(() => world.close());
beforeEach(() => world.newJob(core));

async function failedRun(sha: string, pr: string, extra: Record<string, string> = {}) {
  core.inputs = world.inputs(sha, pr, extra);
  await run();
  expect(core.outputs.status).toBe('failed');
  expect(core.outputs.val_bpb).toBe('');
  const r = parseResult(world.readResultText());
  expect(r.val_bpb).toBeNull();
  expect(r.job?.pr).toBe(Number(pr));
  expect(core.setFailed).toHaveBeenCalledTimes(1);
  return { result: r, log: readFileSync(join(world.outDir, 'train.log'), 'utf8'), message: core.setFailed.mock.calls[0][0] };
}

describe('a failing candidate', () => {
  it('diverging (NaN): failed (nan), its log kept, the step failed clearly', async () => {
    // isolation auto on a runner whose docker CLI has no engine: the bubblewrap sandbox (this
    // machine has it), never none
    world.docker('#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2\nexit 1\n');
    const { result, log, message } = await failedRun(shas.nan, '8', { isolation: 'auto' });
    expect(result.failure?.kind).toBe('nan');
    expect(result.job?.isolation).toBe('sandbox');
    expect(log).toMatch(/\[harness\] train: env -i PATH=\S+ .*prlimit --nproc=\d+:\d+ --nofile=1024:1024 -- .*bwrap --unshare-user .*--seccomp 3 /);
    expect(log.length).toBeGreaterThan(0);
    expect(message).toMatch(new RegExp(`^The candidate at ${shas.nan.slice(0, 12)} failed \\(nan\\): .+ See train.log in the result-${NONCE} artifact\\.$`, 's'));
    expect(core.summary).toContain('## ❌ Failed (nan)');
    expect(core.summary).not.toContain('ISOLATION: NONE');
  });

  it('crashing: failed (crash) with its own error message', async () => {
    const { result, message } = await failedRun(shas.crash, '9');
    expect(result.failure?.kind).toBe('crash');
    expect(result.failure?.message).toContain('out of ideas');
    expect(message).toMatch(/failed \(crash\): .*out of ideas/s);
  });

  it('hanging mid-training: failed (timeout), the log says it did not stop', async () => {
    const { result, log, message } = await failedRun(shas.hang, '12');
    expect(result.failure?.kind).toBe('timeout');
    expect(log).toMatch(/did not stop/);
    expect(message).toMatch(/failed \(timeout\): .*did not stop/s);
  });
});
