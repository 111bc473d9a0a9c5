// THE ONE PLACE the one-machine swarm chooses how a runner contains the candidate's code: as the
// Action does for an official run (action/src/isolation.ts): Docker when an engine answers, else
// the bubblewrap sandbox, else none only when asked for by name (the App then refuses the score
// unless its config trusts the runner's owner, as `containment.trusted_fleets`).
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseIsolation as actionIsolation, type Isolation } from '../action/src/isolation.js';
import { SOURCE_MOUNTS } from '../trainer/isolation.js';
import { REPO_DIR } from '../trainer/supervisor.js';

export type SwarmIsolation = Isolation;

/** the trainer image for docker isolation (build it with `docker build -t autoresearch-trainer -f trainer/Dockerfile .`) */
export const DEFAULT_IMAGE = 'autoresearch-trainer:latest';

/**
 * `auto` as the Action resolves it, for the runners' checkouts under `stateDir` (work/<runner>/
 * checkout, node_modules linked to this install: swarm/runner.ts); or what --isolation asked
 * for. The sandbox is probed on a stand-in checkout laid out the same way, so the probe reads
 * what a candidate's sandbox will (the state folder's path, this install's node_modules).
 * Where neither Docker nor the sandbox works, `auto` falls back to none with `note` saying so:
 * a local demonstration may, an official run never does.
 */
export async function chooseIsolation(asked: 'auto' | SwarmIsolation, stateDir: string): Promise<{ isolation: SwarmIsolation; note: string | null }> {
  const probe = join(stateDir, 'work', 'isolation-probe');
  try {
    standInCheckout(probe);
    return { isolation: await actionIsolation(asked, probe), note: null };
  } catch (e) {
    if (asked !== 'auto') throw e;
    return { isolation: 'none', note: `${(e as Error).message.split('. ')[0]}. The swarm runs the candidates unisolated on this machine, and its App trusts this fleet (containment.trusted_fleets).` };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** A checkout's shape at `dir`: the sandbox's source mounts (empty) and this install's node_modules. */
function standInCheckout(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'trainer'), { recursive: true });
  // the sandbox's uid (a root runner drops to one) must traverse the state folder to its checkouts
  for (const d of [join(dir, '..', '..'), join(dir, '..')]) chmodSync(d, 0o755);
  for (const f of SOURCE_MOUNTS) if (f !== 'trainer') writeFileSync(join(dir, f), '{}\n');
  symlinkSync(join(REPO_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
}
