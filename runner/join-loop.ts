// The join loop: one JIT config, one ephemeral runner, one job; then a fresh copy and again.
// Each copy gets the job-started hook (runner/hook.ts): a job that is not the swarm's experiment
// workflow of the default branch, dispatched by workflow_dispatch, fails before its first step.
//
// Each job gets a fresh copy of the verified runner directory, deleted afterwards, so nothing a
// job leaves behind survives it. The runner process gets a minimal environment: the volunteer's
// tokens and other variables never reach it, and the JIT config travels in
// ACTIONS_RUNNER_INPUT_JITCONFIG (the runner reads it from there) rather than argv, which any
// local user could read in `ps`.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, requestJitConfig } from './app-client.js';
import type { TokenSource } from './auth.js';
import { HOOK_ENV, installHook } from './hook.js';
import { privateDirProblem } from './private-dir.js';

export interface JoinLoopOptions {
  appUrl: string;
  repo: string;
  hardwareClass: string;
  auth: TokenSource;
  /** the verified, extracted runner (never modified: each job runs in a copy) */
  runnerDir: string;
  /** where per-job copies live */
  workRoot: string;
  /** stop after this many jobs (default: run until stopped) */
  maxJobs?: number;
  log: (line: string) => void;
  /** seconds between retries when the App or the runner keeps failing (doubles up to 5 min) */
  backoffSeconds?: number;
  /** the volunteer chose --allow-unisolated: the Action may run the candidate with isolation none */
  unisolated?: boolean;
}

/**
 * Variables the runner may inherit; everything else (tokens, cloud keys) stays with the volunteer.
 * DOCKER_HOST/XDG_RUNTIME_DIR: rootless Docker; CUDA_VISIBLE_DEVICES: one `join` per GPU.
 */
const PASS_ENV = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
  'DOCKER_HOST', 'XDG_RUNTIME_DIR', 'CUDA_VISIBLE_DEVICES',
];

export function runnerEnv(jitConfig: string, from: NodeJS.ProcessEnv = process.env, jobStartedHook?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of PASS_ENV) if (from[k] !== undefined) env[k] = from[k];
  env.ACTIONS_RUNNER_INPUT_JITCONFIG = jitConfig;
  if (jobStartedHook) env[HOOK_ENV] = jobStartedHook;
  return env;
}

export class JoinLoop {
  private stopping = false;
  private readonly abort = new AbortController();
  private child: ChildProcess | null = null;
  private auth: TokenSource;
  jobs = 0;

  constructor(private readonly opts: JoinLoopOptions) {
    this.auth = opts.auth;
  }

  /**
   * Ctrl-C. Between jobs: stop now. During a job: pass the signal to the runner, which cancels the
   * job and exits; a second call kills it outright.
   */
  stop(signal: NodeJS.Signals = 'SIGINT'): void {
    const { log } = this.opts;
    if (this.child && this.child.exitCode === null) {
      if (this.stopping) {
        log('Killing the runner now.');
        this.signalChild('SIGKILL');
      } else {
        log(`Stopping: cancelling the running job (${signal} sent to the runner; press Ctrl-C again to kill it).`);
        this.signalChild(signal);
      }
    } else if (!this.stopping) {
      log('Stopping: no job is running.');
    }
    this.stopping = true;
    this.abort.abort();
  }

  private signalChild(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal); // the runner's whole process group: run.sh, Listener, Worker
    } catch {
      this.child?.kill(signal);
    }
  }

  async run(): Promise<number> {
    const { log, maxJobs } = this.opts;
    const base = this.opts.backoffSeconds ?? 5;
    let delay = base;
    await mkdir(this.opts.workRoot, { recursive: true, mode: 0o700 });
    // each job's copy is made, then started: no one else may swap it in between
    const open = privateDirProblem(this.opts.workRoot, 'the job directory');
    if (open) throw new Error(open);
    while (!this.stopping && (maxJobs === undefined || this.jobs < maxJobs)) {
      let cfg;
      try {
        cfg = await requestJitConfig({
          appUrl: this.opts.appUrl,
          token: this.auth.token,
          repo: this.opts.repo,
          hardwareClass: this.opts.hardwareClass,
          signal: this.abort.signal,
        });
      } catch (e) {
        if (this.stopping) break;
        if (!(e instanceof AppError)) throw e;
        if (e.status === 401 && this.auth.renew) {
          log('Your GitHub login expired; logging in again.');
          this.auth = await this.auth.renew();
          continue;
        }
        if (!e.retryable) throw e;
        const wait = e.retryAfterSeconds ?? delay;
        log(`${e.message}; asking again in ${wait} s.`);
        await this.pause(wait);
        delay = Math.min(delay * 2, 300);
        continue;
      }
      const code = await this.runJob(cfg.runner_name, cfg.encoded_jit_config);
      this.jobs++;
      if (this.stopping) break;
      if (code === 0) {
        delay = base;
      } else {
        // a runner that fails at once (bad clock, old version, no network) must not spin
        log(`The runner exited with code ${code}; starting the next one in ${delay} s.`);
        await this.pause(delay);
        delay = Math.min(delay * 2, 300);
      }
    }
    log(`Stopped after ${this.jobs} job${this.jobs === 1 ? '' : 's'}.`);
    return this.jobs;
  }

  private async pause(seconds: number): Promise<void> {
    await sleep(seconds * 1000, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  private async runJob(name: string, jitConfig: string): Promise<number> {
    const { log } = this.opts;
    const dir = await mkdtemp(join(this.opts.workRoot, 'job-'));
    try {
      await cp(this.opts.runnerDir, dir, { recursive: true, mode: fsc.COPYFILE_FICLONE });
      // only the swarm's experiment workflow may run here: anything else fails before its first step
      const hook = await installHook(dir, this.opts.repo);
      log(`Runner ${name} is waiting for a job (labels: self-hosted, autoresearch, ${this.opts.hardwareClass}).`);
      const env = runnerEnv(jitConfig, process.env, hook);
      if (this.opts.unisolated) env.AUTORESEARCH_ISOLATION = 'none';
      const child = spawn(join(dir, 'run.sh'), [], { cwd: dir, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
      this.child = child;
      const code = await new Promise<number>((resolve) => {
        child.on('error', (e) => {
          log(`Could not start the runner: ${e.message}`);
          resolve(127);
        });
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 + (sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : 2) : 1)));
      });
      log(`Runner ${name} finished (exit code ${code}).`);
      return code;
    } finally {
      this.child = null;
      await rm(dir, { recursive: true, force: true });
    }
  }
}
