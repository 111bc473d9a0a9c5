// How the one-machine swarm contains candidates (swarm/isolation.ts): `auto` probes the sandbox on
// a checkout shaped as the runners' are (under the state folder, node_modules linked to this
// install). It probed the bare state folder before, which has no node_modules, so `npm run swarm`
// always fell back to isolation none, saying "run npm ci first" on a machine with a working sandbox.
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseIsolation } from '../../swarm/isolation.js';
import { sandboxProblem } from '../../trainer/sandbox.js';

describe('the swarm chooses isolation as the Action does', () => {
  it('auto finds the sandbox for checkouts under a fresh state folder wherever the sandbox works here', async () => {
    const state = mkdtempSync(join(tmpdir(), 'swarm-iso-'));
    try {
      const chosen = await chooseIsolation('auto', state);
      const problem = sandboxProblem(null);
      if (problem === null) expect(chosen).toEqual({ isolation: expect.stringMatching(/^(sandbox|docker)$/), note: null });
      else expect(chosen.note ?? '').not.toMatch(/node_modules/);
      // the stand-in checkout is gone again
      expect(existsSync(join(state, 'work')) ? readdirSync(join(state, 'work')) : []).toEqual([]);
      expect(await chooseIsolation('none', state)).toEqual({ isolation: 'none', note: null });
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
