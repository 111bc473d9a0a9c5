// The containers of one run, found by label and removed. A container is the engine's, not a
// process of the harness's tree or group: killing the docker client (or the supervisor, or the
// whole harness) leaves it running, and candidate code deaf to its closed channel trains on past
// the result, holding the GPU. Every docker child carries two labels (trainer/isolation.ts): the
// run's id, which the Action picks and passes in RUN_ID_ENV, and the child's own name; the
// supervisor removes a child's container when it ends or is killed, the Action every container
// of its run once the harness is gone, and both wait until none is left.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** label key: the run's id (every container of one harness run) */
export const RUN_LABEL = 'autoresearch-swarm.run';
/** label key: one child's container name */
export const CHILD_LABEL = 'autoresearch-swarm.child';
/** the variable the Action passes the run's id to the harness in */
export const RUN_ID_ENV = 'AUTORESEARCH_RUN_ID';

const ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
const ownId = randomBytes(8).toString('hex');

/** This harness run's id: the Action's (RUN_ID_ENV), else one of this process's own. */
export function runId(env: NodeJS.ProcessEnv = process.env): string {
  const id = env[RUN_ID_ENV];
  return id !== undefined && ID.test(id) ? id : ownId;
}

/** A new id for a run (the Action's, passed in RUN_ID_ENV). */
export function newRunId(): string {
  return `run-${randomBytes(8).toString('hex')}`;
}

const REMOVE_TIMEOUT_MS = 60_000;
const POLL_MS = 200;

/**
 * `docker kill`, then `docker rm -f`, every container (running or not) with the label `key=value`,
 * until `docker ps -a -q --filter label=key=value` lists none, or a minute passed. Resolves
 * whatever happens (no docker, a daemon that does not answer): false if some may be left. `env`:
 * the docker client's (its PATH and DOCKER_HOST), so that it asks the daemon that started them.
 */
export async function removeContainers(key: string, value: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = REMOVE_TIMEOUT_MS): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ps = await docker(env, ['ps', '-a', '-q', '--filter', `label=${key}=${value}`], 30_000);
    if (!ps.ok) return false;
    const ids = ps.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    if (ids.length === 0) return true;
    if (Date.now() > end) return false;
    await docker(env, ['kill', ...ids], 30_000);
    await docker(env, ['rm', '-f', ...ids], 30_000);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function docker(env: NodeJS.ProcessEnv, args: string[], timeout: number): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { timeout, maxBuffer: 1 << 20, env }, (err, stdout) => resolve({ ok: !err, stdout: String(stdout ?? '') }));
  });
}
