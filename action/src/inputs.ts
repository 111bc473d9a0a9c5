// The Action's inputs, validated once: every bad value gets one sentence saying which input
// and what a good value looks like.
import * as core from '@actions/core';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type JobRole = 'candidate' | 'baseline' | 'verify';
export type IsolationInput = 'docker' | 'sandbox' | 'none' | 'auto';

export interface ActionInputs {
  sha: string;
  role: JobRole;
  nonce: string;
  evalSeed: number;
  budget: number;
  pr: number | null;
  isolation: IsolationInput;
  image: string;
  seed: number;
  data: 'brown' | 'fineweb';
  cacheDir: string;
  evalBytes: number | null;
  memoryMb: number | null;
  outDir: string;
  workingDirectory: string;
  /** read token for `git fetch` only */
  token: string;
}

export function readInputs(env: NodeJS.ProcessEnv = process.env): ActionInputs {
  const sha = core.getInput('sha', { required: true }).toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`Input sha "${sha}" is not a full 40-character commit SHA; pass the PR head SHA the App dispatched.`);

  const role = core.getInput('role', { required: true });
  if (role !== 'candidate' && role !== 'baseline' && role !== 'verify') {
    throw new Error(`Input role "${role}" must be candidate, baseline or verify.`);
  }

  const nonce = core.getInput('nonce', { required: true });
  if (!/^[A-Za-z0-9_-]{8,128}$/.test(nonce)) {
    throw new Error(`Input nonce "${nonce}" must be 8 to 128 letters, digits, "-" or "_" (the App's nonce for this job).`);
  }

  const evalSeed = integer('eval-seed', core.getInput('eval-seed', { required: true }));
  const budget = Number(core.getInput('budget') || '300');
  if (!Number.isFinite(budget) || budget <= 0 || budget > 86400) {
    throw new Error(`Input budget "${core.getInput('budget')}" must be a number of seconds between 0 and 86400, e.g. 300.`);
  }

  const prText = core.getInput('pr');
  const pr = prText === '' ? null : integer('pr', prText);
  if (pr !== null && pr <= 0) throw new Error(`Input pr "${prText}" must be a positive pull request number, or empty for a baseline.`);
  if (pr === null && role !== 'baseline') throw new Error(`Input pr is empty but role is ${role}; a ${role} run needs the pull request number.`);

  const isolation = core.getInput('isolation') || 'auto';
  if (isolation !== 'docker' && isolation !== 'sandbox' && isolation !== 'none' && isolation !== 'auto') {
    throw new Error(`Input isolation "${isolation}" must be auto, docker, sandbox or none.`);
  }

  const data = core.getInput('data') || 'brown';
  if (data !== 'brown' && data !== 'fineweb') throw new Error(`Input data "${data}" must be brown or fineweb.`);

  const owner = (env.GITHUB_REPOSITORY_OWNER ?? env.GITHUB_REPOSITORY?.split('/')[0] ?? 'autoresearch').toLowerCase();
  const image = core.getInput('image') || `ghcr.io/${owner}/autoresearch-trainer:latest`;
  const temp = env.RUNNER_TEMP || tmpdir();

  return {
    sha,
    role,
    nonce,
    evalSeed,
    budget,
    pr,
    isolation,
    image,
    seed: integer('seed', core.getInput('seed') || '1337'),
    data,
    // Beside the runner CLI's own cache (~/.cache/autoresearch-swarm, whose free space its
    // doctor checks): it outlives the job's checkout, which is cleaned every run.
    cacheDir: resolve(core.getInput('cache-dir') || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'autoresearch-swarm', 'data')),
    evalBytes: core.getInput('eval-bytes') === '' ? null : integer('eval-bytes', core.getInput('eval-bytes')),
    memoryMb: core.getInput('memory-mb') === '' ? null : integer('memory-mb', core.getInput('memory-mb')),
    outDir: resolve(core.getInput('out-dir') || join(temp, `autoresearch-${nonce}`)),
    workingDirectory: resolve(core.getInput('working-directory') || '.'),
    token: readToken(),
  };
}

function readToken(): string {
  const token = core.getInput('token');
  if (token) core.setSecret(token);
  return token;
}

function integer(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n)) throw new Error(`Input ${name} "${text}" must be an integer.`);
  return n;
}
