// One experiment on this runner: the candidate's train.ts on the trusted checkout, the
// harness run (isolated where Docker is present), the result completed with the job block,
// the summary and the outputs. Any failure ends in one message a person can act on.
import * as core from '@actions/core';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finewebDatasetName, pinsJson } from '../../trainer/data/pins.js';
import { floorFor } from '../../trainer/pace-floors.js';
import { parseResult, type ExperimentResult, type JobInfo } from '../../trainer/result.js';
import { placeCandidate } from './candidate.js';
import { runHarnessUntilCancelled } from './cancel.js';
import { ensureImage } from './harness.js';
import { chooseIsolation } from './isolation.js';
import { describeHardware } from './hardware.js';
import { readInputs, type ActionInputs } from './inputs.js';
import { capLog } from './log-cap.js';
import { isolationWarning, renderSummary } from './summary.js';

export async function run(): Promise<void> {
  try {
    await experiment(readInputs());
  } catch (e) {
    const message = (e as Error).message;
    core.setOutput('status', 'error');
    core.setOutput('val_bpb', '');
    await core.summary
      .addRaw(`## ⚠️ The experiment did not run to a result\n\n${message}\n`)
      .write()
      .catch(() => undefined);
    core.setFailed(message);
  }
}

async function experiment(inputs: ActionInputs): Promise<void> {
  const cwd = inputs.workingDirectory;
  await mkdir(inputs.outDir, { recursive: true });
  const resultPath = join(inputs.outDir, 'result.json');
  const logPath = join(inputs.outDir, 'train.log');
  // Whatever is uploaded must come from this run.
  await Promise.all([rm(resultPath, { force: true }), rm(logPath, { force: true })]);

  const candidate = await placeCandidate(cwd, inputs.sha, inputs.pr, {
    serverUrl: process.env.GITHUB_SERVER_URL ?? 'https://github.com',
    token: inputs.token,
  });
  core.info(`Candidate ${inputs.sha}: trainer/train.ts (sha256 ${candidate.sha256}) placed on ${candidate.baseSha}.`);
  if (candidate.ignored.length > 0) {
    core.warning(`Only trainer/train.ts is used; ignored the candidate's other changes: ${candidate.ignored.join(', ')}`);
  }

  const isolation = await chooseIsolation(inputs.isolation, cwd);
  if (isolation === 'none') core.warning(isolationWarning());
  else if (isolation === 'docker') await ensureImage(inputs.image);

  // The pins go to the harness as a file of the runner's temp dir, outside the output folder
  // (where the supervisor tolerates nothing but its own files); it verifies every shard against
  // them before training starts.
  let pinsFile: string | null = null;
  if (inputs.dataPins) {
    pinsFile = join(inputs.tempDir, `autoresearch-pins-${inputs.nonce}.json`);
    await writeFile(pinsFile, pinsJson(inputs.dataPins));
    core.info(`Data: ${inputs.dataPins.length} pinned FineWeb-Edu shards (${finewebDatasetName(inputs.dataPins)}), checked by sha256 before training.`);
  } else {
    core.warning('Data: the public Brown split (no shards pinned in the App config): a candidate could have memorised part of it. docs/harness.md, "Held-out text", says how to pin FineWeb-Edu shards.');
  }

  const hardware = await describeHardware();
  core.info(`Hardware: ${hardware.description} (class ${hardware.hardwareClass}); isolation ${isolation}.`);

  // a cancelled job's harness is killed before the Action exits (cancel.ts)
  const run = await runHarnessUntilCancelled({
    cwd,
    budget: inputs.budget,
    evalSeed: inputs.evalSeed,
    seed: inputs.seed,
    outDir: inputs.outDir,
    isolation,
    image: inputs.image,
    data: inputs.data,
    pinsFile,
    cacheDir: inputs.cacheDir,
    evalBytes: inputs.evalBytes,
    memoryMb: inputs.memoryMb,
    replay: inputs.replay,
    sealKey: inputs.sealKey,
    nonce: inputs.nonce,
    paceFloors: inputs.paceFloors,
    onLine: (l) => core.info(l),
  });
  core.setOutput('result-path', resultPath);
  const cut = await capLog(logPath);
  if (cut > 0) core.warning(`train.log was cut by ${cut} bytes from its middle (the candidate printed that much) so that the result artifact stays readable by the App.`);
  const exit = run.exitCode ?? run.signal;
  // The log goes into the artifact whatever happened; the harness writes its own, and when
  // it could not, its stderr is the best record there is.
  if (!existsSync(logPath)) await writeFile(logPath, `${run.stderrTail}\n(harness exited with ${exit})\n`);
  if (!existsSync(resultPath)) {
    throw new Error(
      `The harness exited with ${exit} without writing result.json: ${lastLine(run.stderrTail)}. This is a runner or harness problem, not the candidate's; see train.log in the result-${inputs.nonce} artifact.`,
    );
  }

  const harnessResult = parseResult(await readFile(resultPath, 'utf8'), `${resultPath} (from the harness)`);
  const result = completeResult(harnessResult, inputs, candidate.sha256, run.exitCode, {
    repo: process.env.GITHUB_REPOSITORY ?? '',
    runId: process.env.GITHUB_RUN_ID ? Number(process.env.GITHUB_RUN_ID) : null,
    runnerName: process.env.RUNNER_NAME ?? null,
    isolation,
  });
  await writeFile(resultPath, `${JSON.stringify(result, null, 2)}\n`);

  core.setOutput('status', result.status);
  core.setOutput('val_bpb', result.val_bpb === null ? '' : String(result.val_bpb));
  await core.summary
    .addRaw(
      renderSummary({
        result,
        hardware: hardware.description,
        hardwareClass: hardware.hardwareClass,
        diff: candidate.diff,
        ignored: candidate.ignored,
        baseSha: candidate.baseSha,
      }),
    )
    .write();

  if (result.failure?.kind === 'harness_error') {
    core.setFailed(
      `The harness failed on this runner (not the candidate's fault): ${result.failure.message} See train.log in the result-${inputs.nonce} artifact; \`npx autoresearch-swarm doctor\` checks the runner.`,
    );
  } else if (result.status === 'off_pace') {
    // not a failure: the job is given back, and the App runs it on another runner
    core.warning(
      `This machine is below the pace the App expects of ${result.hardware_class}: the calibration ran at ${result.preflight?.gflops.toFixed(2)} GFLOP/s before training, the floor is ${result.preflight?.floor_gflops}. The job was given back without training and runs elsewhere; nothing is credited and nothing is held against you. Free the machine (other GPU or CPU load) to take jobs again.`,
    );
  } else if (result.status === 'failed') {
    core.setFailed(
      `The candidate at ${inputs.sha.slice(0, 12)} failed (${result.failure?.kind}): ${result.failure?.message} See train.log in the result-${inputs.nonce} artifact.`,
    );
  } else {
    core.info(`val_bpb ${result.val_bpb} (unigram ${result.unigram_bpb}, bigram ${result.bigram_bpb}).`);
  }
}

/** What the job asked for (a subset of the Action's inputs; no replay and no seal key when absent). */
export type JobRequest = Pick<ActionInputs, 'role' | 'nonce' | 'pr' | 'sha' | 'evalSeed' | 'budget'> & Partial<Pick<ActionInputs, 'replay' | 'sealKey' | 'paceFloors'>>;

/**
 * The harness's result checked against the job's request and completed with the job block, as
 * uploaded in the result artifact (also used by the one-machine swarm, swarm/runner.ts).
 */
export function completeResult(
  harnessResult: ExperimentResult,
  inputs: JobRequest,
  candidateSha256: string,
  exitCode: number | null,
  ctx: { repo: string; runId: number | null; runnerName: string | null; isolation: JobInfo['isolation'] },
): ExperimentResult {
  checkHarnessResult(harnessResult, inputs, candidateSha256, exitCode);
  const job: JobInfo = {
    role: inputs.role,
    nonce: inputs.nonce,
    repo: ctx.repo,
    pr: inputs.pr,
    sha: inputs.sha,
    run_id: ctx.runId,
    runner_name: ctx.runnerName,
    isolation: ctx.isolation,
  };
  if (!/^[^/\s]+\/[^/\s]+$/.test(job.repo)) throw new Error('GITHUB_REPOSITORY is not set to owner/name; run this Action inside a GitHub Actions job.');
  // Re-validated through the one schema: what is uploaded is exactly what the App accepts.
  return parseResult(JSON.stringify({ ...harnessResult, job }), 'result.json');
}

/** The harness is trusted code, but the Action states what it asked for; a result that does
 * not match the request is a harness bug and must not be uploaded as a score. */
function checkHarnessResult(r: ExperimentResult, inputs: JobRequest, candidateSha256: string, exitCode: number | null): void {
  const problems: string[] = [];
  if (r.candidate_sha256 !== candidateSha256) problems.push(`candidate_sha256 ${r.candidate_sha256} is not the placed train.ts (${candidateSha256})`);
  if (r.eval_seed !== inputs.evalSeed) problems.push(`eval_seed ${r.eval_seed} is not the requested ${inputs.evalSeed}`);
  if (r.budget_seconds !== inputs.budget) problems.push(`budget_seconds ${r.budget_seconds} is not the requested ${inputs.budget}`);
  if (r.job !== null) problems.push('the job block is already filled');
  // a replay must say what it replayed, and an official run's proof must be sealed, never in clear
  const of = inputs.replay || null;
  if (r.replay) {
    if (r.replay.of !== of) problems.push(`replay.of ${clip(r.replay.of)} is not the requested replay ${clip(of)}`);
    if (inputs.sealKey && r.replay.digest !== undefined) problems.push('replay.digest is in clear although a seal key was given');
    if (inputs.sealKey && !r.replay.sealed) problems.push('replay.sealed is missing although a seal key was given');
  } else if (r.status === 'ok') {
    problems.push('an ok result carries no replay block');
  }
  // the pre-flight check against the floor this job was sent, and nothing else
  if (r.preflight) {
    const floor = floorFor(inputs.paceFloors, r.hardware_class, r.preflight.workload);
    if (floor !== r.preflight.floor_gflops) problems.push(`preflight.floor_gflops ${r.preflight.floor_gflops} is not the requested floor ${floor ?? '(none)'} for ${r.hardware_class}`);
  }
  // cli.ts: 0 ok, 1 the candidate failed, 2 a harness error (still with a result.json when it could write one), 3 given back (off pace)
  const expectedExit = r.status === 'ok' ? 0 : r.status === 'off_pace' ? 3 : r.failure?.kind === 'harness_error' ? 2 : 1;
  if (exitCode !== expectedExit) problems.push(`exit code ${exitCode} does not match status ${r.status}`);
  if (problems.length > 0) throw new Error(`The harness's result.json does not match this job: ${problems.join('; ')}.`);
}

function clip(s: string | null): string {
  return s === null ? 'null (on the clock)' : JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() || '(no output)';
}
