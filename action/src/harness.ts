// Runs the trusted harness CLI of the checkout as its own process (the bundle never loads
// tfjs or candidate code) and streams its log to the job log.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { newRunId, removeContainers, RUN_ID_ENV, RUN_LABEL } from '../../trainer/containers.js';
import { scrubbedEnv } from '../../trainer/isolation.js';
import { paceFloorsInput, type PaceFloors } from '../../trainer/pace-floors.js';
import { killTree as killProcessTree, released } from '../../trainer/process-tree.js';
import { backstopSeconds } from '../../trainer/run-deadline.js';

export interface HarnessRun {
  args: string[];
  exitCode: number | null;
  signal: string | null;
  /** the harness's stdout (with --json: only the result JSON) */
  stdout: string;
  /** the last lines of stderr, for an error message */
  stderrTail: string;
}

export interface HarnessOptions {
  cwd: string;
  budget: number;
  evalSeed: number;
  seed: number;
  outDir: string;
  isolation: 'docker' | 'sandbox' | 'none';
  image: string;
  data: 'brown' | 'fineweb';
  /** a file holding the pinned shards (JSON), for --data fineweb; null for Brown */
  pinsFile?: string | null;
  cacheDir: string;
  /** null: the harness default */
  evalBytes: number | null;
  /** null: the harness default */
  memoryMb: number | null;
  /** a schedule to replay (--replay); empty or absent: a run on the clock */
  replay?: string;
  /** the App's seal key (--seal-key, with --nonce); empty or absent: the digest in clear */
  sealKey?: string;
  /** the job's nonce, sealed with the digest */
  nonce?: string;
  /** the App's pre-flight floors (--pace-floors); null or absent: no check */
  paceFloors?: PaceFloors | null;
  onLine?: (line: string) => void;
  /** aborting it kills the harness's whole process tree at once, as the backstop does; the
   * one-machine swarm's deadline on a job (swarm/runner.ts) */
  signal?: AbortSignal;
  /** tests: the backstop in place of harnessBackstopSeconds */
  backstopSeconds?: number;
}

export function harnessArgs(o: HarnessOptions): string[] {
  const args = [
    'trainer/cli.ts',
    '--budget', String(o.budget),
    '--eval-seed', String(o.evalSeed),
    '--seed', String(o.seed),
    '--backend', 'auto',
    '--out', o.outDir,
    '--json',
  ];
  if (o.isolation === 'docker') args.push('--isolation', 'docker', '--image', o.image);
  if (o.isolation === 'sandbox') args.push('--isolation', 'sandbox');
  if (o.memoryMb !== null) args.push('--memory-mb', String(o.memoryMb));
  if (o.evalBytes !== null) args.push('--eval-bytes', String(o.evalBytes));
  if (o.data !== 'brown') args.push('--data', o.data, '--cache-dir', o.cacheDir);
  if (o.pinsFile) args.push('--pins', o.pinsFile);
  if (o.replay) args.push('--replay', o.replay);
  if (o.sealKey) args.push('--seal-key', o.sealKey, '--nonce', o.nonce ?? '');
  const floors = paceFloorsInput(o.paceFloors);
  if (floors) args.push('--pace-floors', floors);
  return args;
}

/**
 * The harness ends every run itself (trainer/run-deadline.ts), whatever the candidate does; this
 * only kills a wedged harness, after that deadline (a replay's included) and before the job's
 * timeout-minutes: a harness killed here leaves no result, and the job runs again elsewhere.
 */
export function harnessBackstopSeconds(o: Pick<HarnessOptions, 'budget' | 'replay'>): number {
  return backstopSeconds(o.budget, !!o.replay);
}

export async function runHarness(o: HarnessOptions): Promise<HarnessRun> {
  const tsx = join(o.cwd, 'node_modules', '.bin', 'tsx');
  if (!existsSync(tsx)) throw new Error(`${tsx} is missing; run "npm ci" in the checkout before this Action.`);
  const args = harnessArgs(o);
  const backstopMs = (o.backstopSeconds ?? harnessBackstopSeconds(o)) * 1000;
  return new Promise((resolve, reject) => {
    // a process group of its own, and the whole tree killed: tsx passed a SIGTERM on to the
    // supervisor alone, whose children (candidate code deaf to its closed channel) lived on past
    // the result, holding the GPU (test/action/backstop.test.ts)
    // every container the harness starts carries this run's id (trainer/containers.ts)
    const run = newRunId();
    // RUNNER_TRACKING_ID is the runner's tag (github_<guid>), no credential: once a step ends, the
    // runner kills every process whose environment holds it, the harness's too should the Action
    // be killed before it could (cancel.ts); the supervisor hands candidate code an allowlist alone
    const tracking = process.env.RUNNER_TRACKING_ID ? { RUNNER_TRACKING_ID: process.env.RUNNER_TRACKING_ID } : {};
    const env = { ...scrubbedEnv(process.env), ...tracking, [RUN_ID_ENV]: run };
    const child = spawn(tsx, args, { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let killed: number[] = [];
    const killTree = () => {
      if (!child.pid) return;
      killed = killProcessTree(child.pid);
      try {
        process.kill(-child.pid, 'SIGKILL'); // what left the tree but not the group
      } catch {
        // already gone
      }
    };
    if (o.signal?.aborted) killTree();
    o.signal?.addEventListener('abort', killTree, { once: true });
    let stdout = '';
    let tail: string[] = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        o.onLine?.(l);
        tail = [...tail.slice(-19), l];
      }
    });
    const timer = setTimeout(killTree, backstopMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', killTree);
      reject(new Error(`Could not start the harness (${tsx}): ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', killTree);
      if (partial) {
        o.onLine?.(partial);
        tail.push(partial);
      }
      // once every process of a killed tree let go of what it held (the GPU), and every container
      // of the run is gone: the engine's, they outlive the harness that started them
      const containers = o.isolation !== 'docker' ? Promise.resolve(true) : removeContainers(RUN_LABEL, run).then((gone) => {
        if (!gone) o.onLine?.(`[action] the run's containers may still be running (docker did not remove them); run: docker rm -f $(docker ps -a -q --filter label=${RUN_LABEL}=${run})`);
      });
      void Promise.all([released(killed), containers]).then(() => resolve({ args, exitCode: code, signal, stdout, stderrTail: tail.join('\n').trim() }));
    });
  });
}

/** Pull the trainer image unless it is already on the runner, so that a missing or private
 * image is one clear error before training rather than a failed child mid-run. */
export async function ensureImage(image: string): Promise<void> {
  const inspect = await execFileResult('docker', ['image', 'inspect', '--format', '{{.Id}}', image], 30_000);
  if (inspect.ok) return;
  const pull = await execFileResult('docker', ['pull', '--quiet', image], 30 * 60_000);
  if (!pull.ok) {
    throw new Error(
      `Could not pull the trainer image ${image}: ${pull.stderr.trim().split('\n').pop()}. Make the GHCR package public (or run \`docker login ghcr.io\` on the runner), or pass the image input.`,
    );
  }
}

function execFileResult(cmd: string, args: string[], timeout: number): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 16 << 20, env: process.env }, (err, _stdout, stderr) => resolve({ ok: !err, stderr: String(stderr || err?.message || '') }));
  });
}

/** Whether a Docker engine answers on this runner (for isolation: auto). */
export function dockerAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 15000, env: process.env }, (err) => resolve(!err));
  });
}
