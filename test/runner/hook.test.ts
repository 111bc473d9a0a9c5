// Only the experiment workflow reaches a runner. A pull request's own workflow with
// `runs-on: [self-hosted, autoresearch]` (GitHub runs it without approval for anyone with one
// merged PR, under its default policy) is what this stops; each case runs the very hook
// `runner join` installs, with the variables the runner gives a job.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOOK_ENV, installHook, jobStartedHook } from '../../runner/hook.js';
import { runnerEnv } from '../../runner/join-loop.js';

const REPO = 'Acme/Swarm';
const dir = mkdtempSync(join(tmpdir(), 'hook-test-'));

/** the App's bot, the sender of what its installation token does (its dispatches) */
const APP = { login: 'autoresearch-swarm[bot]', type: 'Bot' };
function job(env: Record<string, string>, event: unknown = { repository: { default_branch: 'main' }, sender: APP }) {
  const hook = join(dir, 'job-started.sh');
  writeFileSync(hook, jobStartedHook(REPO));
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event));
  // as the runner runs it: bash -e <file>, with the job's default variables
  const r = spawnSync('bash', ['-e', hook], { encoding: 'utf8', env: { PATH: process.env.PATH, GITHUB_EVENT_PATH: eventPath, ...env } });
  return { code: r.status, out: r.stdout + r.stderr };
}

const dispatched = {
  GITHUB_REPOSITORY: 'acme/swarm',
  GITHUB_EVENT_NAME: 'workflow_dispatch',
  GITHUB_WORKFLOW_REF: 'acme/swarm/.github/workflows/experiment.yml@refs/heads/main',
};

describe('the job-started hook', () => {
  it('lets the App-dispatched experiment workflow of the default branch run', () => {
    const r = job(dispatched);
    expect(r.out).toContain('autoresearch: acme/swarm/.github/workflows/experiment.yml@refs/heads/main may run here.');
    expect(r.code).toBe(0);
  });

  it.each([
    ["a PR's own workflow", { GITHUB_EVENT_NAME: 'pull_request', GITHUB_WORKFLOW_REF: 'acme/swarm/.github/workflows/mine.yml@refs/pull/12/merge' }, /started by pull_request, not workflow_dispatch/],
    ["a PR's edited experiment.yml", { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_WORKFLOW_REF: 'acme/swarm/.github/workflows/experiment.yml@refs/heads/main' }, /started by pull_request_target/],
    ['another workflow, dispatched', { GITHUB_WORKFLOW_REF: 'acme/swarm/.github/workflows/pages.yml@refs/heads/main' }, /workflow is acme\/swarm\/.github\/workflows\/pages.yml@refs\/heads\/main, not acme\/swarm\/.github\/workflows\/experiment.yml@refs\/heads\/main/],
    ['experiment.yml of another branch', { GITHUB_WORKFLOW_REF: 'acme/swarm/.github/workflows/experiment.yml@refs/heads/evil' }, /not acme\/swarm\/.github\/workflows\/experiment.yml@refs\/heads\/main/],
    ['a push', { GITHUB_EVENT_NAME: 'push' }, /started by push/],
    ['another repository', { GITHUB_REPOSITORY: 'mallory/swarm', GITHUB_WORKFLOW_REF: 'mallory/swarm/.github/workflows/experiment.yml@refs/heads/main' }, /belongs to mallory\/swarm/],
    ['no variables at all', { GITHUB_REPOSITORY: '', GITHUB_EVENT_NAME: '', GITHUB_WORKFLOW_REF: '' }, /belongs to an unknown repository/],
  ])('fails %s before its first step, saying why', (_what, over, why) => {
    const r = job({ ...dispatched, ...over });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^::error title=Not an autoresearch experiment::/);
    expect(r.out).toMatch(why);
    expect(r.out).toContain('This runner only runs Acme/Swarm/.github/workflows/experiment.yml of the default branch');
  });

  it('takes the default branch from GitHub\'s event payload', () => {
    expect(job({ ...dispatched, GITHUB_WORKFLOW_REF: 'acme/swarm/.github/workflows/experiment.yml@refs/heads/trunk' }, { repository: { default_branch: 'trunk' }, sender: APP }).code).toBe(0);
    expect(job(dispatched, { repository: { default_branch: 'trunk' }, sender: APP }).code).toBe(1);
    expect(job(dispatched, 'not an event').out).toMatch(/event payload \(GITHUB_EVENT_PATH\) could not be read/);
  });

  // Any writer of the repository can dispatch experiment.yml (with a real job's inputs and an
  // honest owner's runner label), or re-run one of the App's runs: the App ignores such a run
  // (app/starts.ts), so the volunteer's machine trained it for nothing. Only an App's dispatch, never
  // a person's (nor a workflow's GITHUB_TOKEN, github-actions[bot]), reaches the runner.
  it.each([
    ['a writer\'s own dispatch', { ...dispatched }, { repository: { default_branch: 'main' }, sender: { login: 'mallory', type: 'User' } }, /started by mallory, not by an App/],
    ['a writer\'s re-run of the App\'s run', { ...dispatched, GITHUB_TRIGGERING_ACTOR: 'mallory' }, undefined, /started by mallory, not by an App/],
    ['a dispatch from a workflow\'s GITHUB_TOKEN', { ...dispatched }, { repository: { default_branch: 'main' }, sender: { login: 'github-actions[bot]', type: 'Bot' } }, /started by github-actions\[bot\], not by an App/],
    ['an event without a sender', { ...dispatched }, { repository: { default_branch: 'main' } }, /started by an unknown account, not by an App/],
  ])('fails %s', (_what, env, event, why) => {
    const r = job(env, event);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(why);
  });

  it('lets the App\'s own re-run through (GITHUB_TRIGGERING_ACTOR is its bot)', () => {
    expect(job({ ...dispatched, GITHUB_TRIGGERING_ACTOR: APP.login }).code).toBe(0);
  });

  it('refuses values that would break the script', () => {
    expect(() => jobStartedHook("acme/x'; rm -rf ~; '")).toThrow(/not owner\/name/);
    expect(() => jobStartedHook(REPO, '../x.sh')).toThrow(/not a workflow file name/);
  });

  it('`runner join` writes it into the runner copy and points the runner at it', async () => {
    const runnerDir = mkdtempSync(join(tmpdir(), 'hook-runner-'));
    const path = await installHook(runnerDir, REPO);
    expect(statSync(path).mode & 0o111).not.toBe(0);
    expect(readFileSync(path, 'utf8')).toContain("SWARM_REPO='Acme/Swarm'");
    expect(runnerEnv('jit', { PATH: '/usr/bin', GITHUB_TOKEN: 'x' }, path)).toEqual({ PATH: '/usr/bin', ACTIONS_RUNNER_INPUT_JITCONFIG: 'jit', [HOOK_ENV]: path });
  });
});

// A failed job-started hook fails the job, but the runner goes on to run every later step whose
// `if:` holds on a failed job: `if: always()`, `if: failure()`, an action's `pre-if` (defaults to
// always()) and post steps (actions/runner#2811, still so in src/Runner.Worker/StepsRunner.cs:
// each step's condition is evaluated against the job's status, the hook being just the first
// step). So a PR's own workflow on `[self-hosted, autoresearch]` whose steps all say
// `if: always()` ran on the volunteer's machine, unsandboxed, past the refusal. The stand-in below
// is the runner's Runner.Worker: it runs the hook as its child, then that step, as the runner does.
describe('a refused job', () => {
  const worker = join(dir, 'Runner.Worker');
  writeFileSync(worker, '#!/bin/bash\nbash -e "$1"\necho "hook exited $?"\ntouch "$STEP_RAN"\n');
  chmodSync(worker, 0o755);
  const hook = join(dir, 'job-started.sh');
  const eventPath = join(dir, 'event.json');

  function runWorker(env: Record<string, string>) {
    writeFileSync(hook, jobStartedHook(REPO));
    writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: 'main' }, sender: APP }));
    const stepRan = join(mkdtempSync(join(tmpdir(), 'hook-step-')), 'always-step-ran');
    const r = spawnSync(worker, [hook], { encoding: 'utf8', env: { PATH: process.env.PATH, GITHUB_EVENT_PATH: eventPath, STEP_RAN: stepRan, ...env } });
    return { stepRan: existsSync(stepRan), signal: r.signal, out: r.stdout + r.stderr };
  }

  it("runs none of the job's later steps, `if: always()` ones included: the hook ends the job's worker", () => {
    const r = runWorker({ ...dispatched, GITHUB_EVENT_NAME: 'pull_request', GITHUB_WORKFLOW_REF: 'acme/swarm/.github/workflows/mine.yml@refs/pull/12/merge' });
    expect(r.out).toMatch(/^::error title=Not an autoresearch experiment::The job was started by pull_request/);
    expect({ stepRan: r.stepRan, signal: r.signal }).toEqual({ stepRan: false, signal: 'SIGKILL' });
  });

  it('the experiment workflow goes on to its steps', () => {
    const r = runWorker(dispatched);
    expect(r.out).toContain('hook exited 0');
    expect({ stepRan: r.stepRan, signal: r.signal }).toEqual({ stepRan: true, signal: null });
  });
});
