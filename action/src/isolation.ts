// Which isolation an official run gets. Every role the Action runs (candidate, verify, baseline)
// is official, so `auto` never falls back to running the candidate unisolated: Docker when an
// engine answers, else the bubblewrap sandbox, else the job fails naming the fix. Isolation none
// happens only when asked for by name (the input, or AUTORESEARCH_ISOLATION=none that an
// operator sets on runners whose pod is the container), and the result says so: the App counts
// such a score only from a fleet its config trusts.
import { sandboxProblem } from '../../trainer/sandbox.js';
import { dockerAvailable } from './harness.js';
import type { IsolationInput } from './inputs.js';

export type Isolation = 'docker' | 'sandbox' | 'none';

export interface IsolationProbes {
  docker: () => Promise<boolean>;
  /** why the sandbox cannot run here, or null */
  sandbox: (cwd: string) => string | null;
}

const realProbes: IsolationProbes = { docker: dockerAvailable, sandbox: sandboxProblem };

export async function chooseIsolation(input: IsolationInput, cwd: string, env: NodeJS.ProcessEnv = process.env, probes: IsolationProbes = realProbes): Promise<Isolation> {
  if (input === 'none') return 'none';
  if (input === 'docker') {
    if (await probes.docker()) return 'docker';
    throw new Error('Input isolation is docker but no Docker engine answers on this runner; install Docker (and the NVIDIA container toolkit for GPUs), or set isolation: auto to use the bubblewrap sandbox.');
  }
  if (input === 'auto' && (await probes.docker())) return 'docker';
  const problem = probes.sandbox(cwd);
  if (problem === null) return 'sandbox';
  if (input === 'auto' && env.AUTORESEARCH_ISOLATION === 'none') return 'none';
  throw new Error(
    `This runner can contain the candidate neither in Docker (no engine answers) nor in the sandbox: ${problem} ` +
      'Install Docker or bubblewrap (see `npx autoresearch-swarm runner doctor`). An official run never falls back to running the candidate unisolated; ' +
      'only where the runner itself is a disposable container (an actions-runner-controller pod) may its operator set AUTORESEARCH_ISOLATION=none, and the swarm then counts its scores only if it trusts that fleet.',
  );
}
