// The command line of one harness child, and where a checkout file appears inside its
// container: the supervisor's view of isolation (trainer/isolation.ts for Docker,
// trainer/sandbox.ts for bubblewrap, trainer/runtime.ts for the worker entry).
import { join, relative, sep } from 'node:path';
import { dockerRunArgs, type ChildSpec } from './isolation.js';
import { RunFailure } from './run-failure.js';
import { childEntry } from './runtime.js';
import { sandboxChildArgv } from './sandbox.js';

/** docker always gets a memory cap; without --memory-mb this one */
const DOCKER_DEFAULT_MEMORY_MB = 16384;

/** One child at a time holds the GPU, but TensorFlow must still not reserve all of it up front. */
export const CHILD_ENV_SET = { TF_FORCE_GPU_ALLOW_GROWTH: 'true' };

/** The command line of one child: node on the host (its entry from trainer/runtime.ts), in the
 * bubblewrap sandbox (trainer/sandbox.ts), or `docker run -i` through trainer/isolation.ts with
 * only the trusted source mounted; it talks over stdin/stdout. */
export function childArgv(c: {
  phase: 'train' | 'eval';
  isolation: 'none' | 'docker' | 'sandbox';
  image: string;
  gpu: boolean;
  memoryMb: number | null;
  repoDir: string;
  name: string;
  pidsLimit?: number;
}): string[] {
  const { nodeArgs, worker } = childEntry(c.phase, c.isolation);
  if (c.isolation === 'none') return [process.execPath, ...nodeArgs, join(c.repoDir, worker)];
  if (c.isolation === 'sandbox') return sandboxChildArgv({ ...c, dataMounts: [], env: { ...CHILD_ENV_SET } });
  const spec: ChildSpec = {
    phase: c.phase,
    image: c.image,
    gpu: c.gpu,
    memoryMb: c.memoryMb ?? DOCKER_DEFAULT_MEMORY_MB,
    repoDir: c.repoDir,
    interactive: true,
    dataMounts: [],
    command: ['node', ...nodeArgs, worker],
    env: { ...CHILD_ENV_SET },
    name: c.name,
    pidsLimit: c.pidsLimit,
  };
  return ['docker', ...dockerRunArgs(spec)];
}

/** Where a host file of the checkout appears inside the container (/app). */
export function containerPath(repoDir: string, file: string): string {
  const rel = relative(repoDir, file);
  if (rel.startsWith('..') || !rel.startsWith(`trainer${sep}`)) {
    throw new RunFailure('harness_error', `with isolation docker or sandbox the candidate must live under ${join(repoDir, 'trainer')}; got ${file}.`);
  }
  return `/app/${rel.split(sep).join('/')}`;
}
