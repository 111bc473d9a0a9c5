// The Action's inputs, validated once: every bad value gets one sentence saying which input
// and what a good value looks like.
import * as core from '@actions/core';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PinsFile, fromRaw, pinsError, type PinnedShard } from '../../trainer/data/pins.js';
import { parsePaceFloors, type PaceFloors } from '../../trainer/pace-floors.js';

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
  /** the pinned shards (data-pins), checked by the harness before training; null for Brown */
  dataPins: PinnedShard[] | null;
  cacheDir: string;
  evalBytes: number | null;
  memoryMb: number | null;
  /** a schedule to replay ('' for a run on the clock); the harness validates it (a malformed one is its harness_error) */
  replay: string;
  /** the App's X25519 public key, base64 ('' for none: the digest in clear); the harness validates it */
  sealKey: string;
  /** the App's pre-flight floors (pace-floors); null: no pre-flight check */
  paceFloors: PaceFloors | null;
  outDir: string;
  /** the runner's temp dir (RUNNER_TEMP): the pins file goes here */
  tempDir: string;
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

  const dataPins = readPins(core.getInput('data-pins'));
  const data = core.getInput('data') || (dataPins ? 'fineweb' : 'brown');
  if (data !== 'brown' && data !== 'fineweb') throw new Error(`Input data "${data}" must be brown or fineweb.`);
  if (data === 'fineweb' && !dataPins) throw new Error('Input data is fineweb but data-pins is empty; the App sends the pinned shards as data-pins (fineweb_shards in .github/autoresearch.yml).');
  if (data === 'brown' && dataPins) throw new Error('Input data is brown but data-pins is set; leave data empty to run on the pinned shards.');

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
    dataPins,
    // Beside the runner CLI's own cache (~/.cache/autoresearch-swarm, whose free space its
    // doctor checks): it outlives the job's checkout, which is cleaned every run.
    cacheDir: resolve(core.getInput('cache-dir') || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'autoresearch-swarm', 'data')),
    evalBytes: core.getInput('eval-bytes') === '' ? null : integer('eval-bytes', core.getInput('eval-bytes')),
    memoryMb: core.getInput('memory-mb') === '' ? null : integer('memory-mb', core.getInput('memory-mb')),
    replay: core.getInput('replay'),
    sealKey: core.getInput('seal-key'),
    paceFloors: parsePaceFloors(core.getInput('pace-floors'), 'Input pace-floors'),
    outDir: resolve(core.getInput('out-dir') || join(temp, `autoresearch-${nonce}`)),
    tempDir: resolve(temp),
    workingDirectory: resolve(core.getInput('working-directory') || '.'),
    token: readToken(),
  };
}

/** The data-pins input: `{"fineweb_shards": [...]}` as JSON (YAML is accepted too), or empty. */
function readPins(text: string): PinnedShard[] | null {
  if (text.trim() === '') return null;
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new Error(`Input data-pins is not JSON (${(e as Error).message.split('\n')[0]}); the App sends {"fineweb_shards": [...]}.`);
  }
  const got = PinsFile.safeParse(raw);
  if (!got.success) throw pinsError('Input data-pins', got.error);
  return fromRaw(got.data.fineweb_shards);
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
