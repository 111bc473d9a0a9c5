// An official run is contained or refused: `auto` never falls back to running the candidate
// unisolated (it used to, silently, whenever `docker info` failed).
import { describe, expect, it } from '@jest/globals';
import { chooseIsolation, type IsolationProbes } from '../../action/src/isolation.js';

const probes = (docker: boolean, sandbox: string | null): IsolationProbes => ({ docker: async () => docker, sandbox: () => sandbox });
const NO_BWRAP = 'bubblewrap is not installed; install it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap).';

describe('chooseIsolation', () => {
  it('auto: Docker when an engine answers, else the sandbox', async () => {
    expect(await chooseIsolation('auto', '/w', {}, probes(true, null))).toBe('docker');
    expect(await chooseIsolation('auto', '/w', {}, probes(false, null))).toBe('sandbox');
  });

  it('auto with neither: fails naming both fixes, never none', async () => {
    await expect(chooseIsolation('auto', '/w', {}, probes(false, NO_BWRAP))).rejects.toThrow(
      /neither in Docker \(no engine answers\) nor in the sandbox: bubblewrap is not installed; install it .*never falls back to running the candidate unisolated/,
    );
  });

  it('none only by name: the input, or the operator of a pod that is itself the container', async () => {
    expect(await chooseIsolation('none', '/w', {}, probes(true, null))).toBe('none');
    expect(await chooseIsolation('auto', '/w', { AUTORESEARCH_ISOLATION: 'none' }, probes(false, NO_BWRAP))).toBe('none');
    // where a sandbox works, the operator's "none" does not weaken it
    expect(await chooseIsolation('auto', '/w', { AUTORESEARCH_ISOLATION: 'none' }, probes(false, null))).toBe('sandbox');
  });

  it('sandbox asked for by name and unavailable: the reason', async () => {
    await expect(chooseIsolation('sandbox', '/w', { AUTORESEARCH_ISOLATION: 'none' }, probes(true, NO_BWRAP))).rejects.toThrow(/bubblewrap is not installed/);
  });
});
