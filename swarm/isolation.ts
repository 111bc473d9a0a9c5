// THE ONE PLACE the one-machine swarm chooses how a runner contains the candidate's code.
// Official runs use the experiment workflow's `isolation: auto`: the trainer container with
// no network when Docker answers, else none (with a warning in the job summary). The swarm
// does the same. When the bubblewrap sandbox lands (branch `contain`: isolation 'sandbox'),
// prefer it here, above Docker, when `bwrap` works on this machine.
import { dockerAvailable } from '../action/src/harness.js';

export type SwarmIsolation = 'docker' | 'none';

/** the trainer image for docker isolation (build it with `docker build -t autoresearch-trainer -f trainer/Dockerfile .`) */
export const DEFAULT_IMAGE = 'autoresearch-trainer:latest';

/** `auto` as the Action resolves it; or what --isolation asked for. */
export async function chooseIsolation(asked: 'auto' | SwarmIsolation): Promise<SwarmIsolation> {
  if (asked !== 'auto') return asked;
  return (await dockerAvailable()) ? 'docker' : 'none';
}
