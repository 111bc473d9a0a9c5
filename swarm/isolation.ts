// THE ONE PLACE the one-machine swarm chooses how a runner contains the candidate's code: as the
// Action does for an official run (action/src/isolation.ts): Docker when an engine answers, else
// the bubblewrap sandbox, else none only when asked for by name (the App then refuses the score
// unless its config trusts the runner's owner, as `containment.trusted_fleets`).
import { chooseIsolation as actionIsolation, type Isolation } from '../action/src/isolation.js';

export type SwarmIsolation = Isolation;

/** the trainer image for docker isolation (build it with `docker build -t autoresearch-trainer -f trainer/Dockerfile .`) */
export const DEFAULT_IMAGE = 'autoresearch-trainer:latest';

/**
 * `auto` as the Action resolves it (for checkouts under `cwd`); or what --isolation asked for.
 * Where neither Docker nor the sandbox works, `auto` falls back to none with `note` saying so:
 * a local demonstration may, an official run never does.
 */
export async function chooseIsolation(asked: 'auto' | SwarmIsolation, cwd: string = process.cwd()): Promise<{ isolation: SwarmIsolation; note: string | null }> {
  try {
    return { isolation: await actionIsolation(asked, cwd), note: null };
  } catch (e) {
    if (asked !== 'auto') throw e;
    return { isolation: 'none', note: `${(e as Error).message.split('. ')[0]}. The swarm runs the candidates unisolated on this machine, and its App trusts this fleet (containment.trusted_fleets).` };
  }
}
