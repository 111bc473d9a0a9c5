// A runner owner's machine in the one-machine swarm: takes a workflow run the faked GitHub
// Actions hands it and does what the experiment workflow does on a self-hosted runner: checks
// out the dispatched default-branch commit, takes only trainer/train.ts from the candidate
// commit, runs the real harness through the Action's own harness module (trainer/cli.ts ->
// runExperiment, contained as swarm/isolation.ts chooses), completes the result with the job
// block as the Action does (completeResult) and uploads result.json + train.log as the run's
// artifact. One training at a time on this machine (the caller holds the lock).
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { completeResult } from '../action/src/main.js';
import { parsePaceFloors } from '../trainer/pace-floors.js';
import { ensureImage, runHarness } from '../action/src/harness.js';
import type { FakeGitHub, RunArtifacts, WorkflowRun } from '../sim/github/fake.js';
import { OWNER, REPO } from '../sim/github/fake.js';
import { REPO_DIR } from '../trainer/supervisor.js';
import { parseResult, type ExperimentResult } from '../trainer/result.js';
import { sha256 } from '../trainer/harness-version.js';
import type { SwarmIsolation } from './isolation.js';

export interface JobSettings {
  isolation: SwarmIsolation;
  image: string;
  /** bytes of held-out text each run evaluates (small: the swarm's runs are short) */
  evalBytes: number;
  /** where checkouts and outputs go */
  workDir: string;
  onLine?: (line: string) => void;
  /** the harness's whole process tree is killed after this many seconds, and the job fails saying so */
  timeoutSeconds: number;
  /** aborting kills the harness at once (the swarm is giving up) */
  signal?: AbortSignal;
}

export interface JobOutcome {
  conclusion: 'success' | 'failure';
  result: ExperimentResult | null;
  artifact: RunArtifacts['artifact'];
  /** why there is no result, or the candidate's failure */
  problem: string | null;
}

/** Writes the files of `commit` under `dir` (a fresh checkout), with this install's node_modules. */
export function checkout(gh: FakeGitHub, commit: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const c = gh.commits.get(commit);
  if (!c) throw new Error(`commit ${commit} is not in the fake repository`);
  for (const [path, bytes] of gh.trees.get(c.tree)!) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
  // `npm ci` on a real runner; here the swarm's own install (the harness resolves tsx and tfjs from it)
  symlinkSync(join(REPO_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

/** Runs one experiment job (candidate, verify or baseline) for `runnerName`. */
export async function runJob(gh: FakeGitHub, run: WorkflowRun, runnerName: string, s: JobSettings): Promise<JobOutcome> {
  const i = run.inputs;
  const cwd = join(s.workDir, runnerName, 'checkout');
  const outDir = join(s.workDir, runnerName, `result-${i.nonce}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const log = join(outDir, 'train.log');
  const fail = (problem: string): JobOutcome => {
    const files: Record<string, string> = { 'train.log': existsSync(log) ? readFileSync(log, 'utf8') : `${problem}\n` };
    if (existsSync(join(outDir, 'result.json'))) files['result.json'] = readFileSync(join(outDir, 'result.json'), 'utf8');
    return { conclusion: 'failure', result: null, artifact: { name: `result-${i.nonce}`, files }, problem };
  };
  // the dispatched default-branch commit (trusted harness), then only train.ts of the candidate
  checkout(gh, run.head_sha, cwd);
  const candidate = gh.fileAt(i.sha, 'trainer/train.ts');
  if (!candidate) return fail(`Commit ${i.sha} has no trainer/train.ts; an experiment must change that file.`);
  writeFileSync(join(cwd, 'trainer/train.ts'), candidate);
  if (s.isolation === 'docker') await ensureImage(s.image);
  const budget = Number(i.budget);
  const evalSeed = Number(i.eval_seed);
  // the training seed the App drew for this run (a result trained with another is rejected as forged)
  const seed = i.seed === undefined ? 1337 : Number(i.seed);
  const kill = new AbortController();
  const timer = setTimeout(() => kill.abort(), s.timeoutSeconds * 1000);
  const stop = () => kill.abort();
  s.signal?.addEventListener('abort', stop, { once: true });
  let h: Awaited<ReturnType<typeof runHarness>>;
  try {
    // a replay (the App's `replay` input: a schedule, or a step budget's) and the App's seal key, as experiment.yml passes them
    h = await runHarness({ cwd, budget, evalSeed, seed, outDir, isolation: s.isolation, image: s.image, data: 'brown', cacheDir: join(s.workDir, 'cache'), evalBytes: s.evalBytes, memoryMb: null, onLine: s.onLine, signal: kill.signal, replay: i.replay ?? '', sealKey: i.seal_key ?? '', nonce: i.nonce, paceFloors: parsePaceFloors(i.pace_floors ?? '', 'the pace_floors input') });
  } finally {
    clearTimeout(timer);
    s.signal?.removeEventListener('abort', stop);
  }
  if (kill.signal.aborted) {
    const why = s.signal?.aborted ? 'the swarm stopped' : `it did not finish within ${s.timeoutSeconds} s (budget ${budget} s)`;
    return fail(`${runnerName}'s harness for the ${i.role} run of ${i.pr ? `PR #${i.pr}` : 'main'} @ ${i.sha.slice(0, 7)} was killed: ${why}. Its last lines: ${h.stderrTail.split('\n').slice(-3).join(' | ') || '(none)'}`);
  }
  if (!existsSync(log)) writeFileSync(log, `${h.stderrTail}\n(harness exited with ${h.exitCode ?? h.signal})\n`);
  if (!existsSync(join(outDir, 'result.json'))) return fail(`The harness exited with ${h.exitCode ?? h.signal} without writing result.json: ${h.stderrTail.split('\n').pop()}`);
  let result: ExperimentResult;
  try {
    const harnessResult = parseResult(readFileSync(join(outDir, 'result.json'), 'utf8'), 'result.json (from the harness)');
    const pr = i.pr ? Number(i.pr) : null;
    result = completeResult(harnessResult, { role: i.role as 'candidate' | 'baseline' | 'verify', nonce: i.nonce, pr, sha: i.sha, evalSeed, budget, replay: i.replay ?? '', sealKey: i.seal_key ?? '', paceFloors: parsePaceFloors(i.pace_floors ?? '', 'the pace_floors input') }, sha256(candidate), h.exitCode, {
      repo: `${OWNER}/${REPO}`,
      runId: run.id,
      runnerName,
      isolation: s.isolation,
    });
  } catch (e) {
    return fail((e as Error).message);
  }
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(outDir, 'result.json'), text);
  const artifact = { name: `result-${i.nonce}`, files: { 'result.json': text, 'train.log': readFileSync(log, 'utf8') } };
  // the Action fails the job when the candidate failed, and still uploads its result
  const failed = result.status !== 'ok';
  return { conclusion: failed ? 'failure' : 'success', result, artifact, problem: failed ? `${result.failure?.kind}: ${result.failure?.message}` : null };
}
