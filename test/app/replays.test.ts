// Replays (docs/trust.md, "Replays"): a trust check re-runs a result with the same seeds and
// progress schedule, and on a deterministic backend the checkpoint's sealed digest must come out
// the same. Attack first: each attack here succeeded against the App before replays (see the
// commit messages).
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { World } from './world.js';
import { auditLedger } from '../../ledger/index.js';

const OTHER = 'export const LR = 1e-3;\n';

afterEach(() => {
  const audit = auditLedger(World.last!.ledger(), { freeRunsPerDay: 3 });
  expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('every dispatch carries the App\'s seal key', () => {
  it('the seal_key input is the App\'s X25519 public key, recorded with the job; a run on the clock has replay \'\'', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const [d] = w.gh.dispatches;
    expect(d.inputs.seal_key).toBe(w.sealKeys!.publicKey);
    expect(d.inputs.replay).toBe('');
    expect(w.entries('job_dispatched')[0].data).toMatchObject({ seal_key: w.sealKeys!.publicKey });
    expect(w.entries('job_dispatched')[0].data.replay).toBeUndefined();
  });

  it('an App without a key sends seal_key \'\' and records none', async () => {
    const w = new World({ seal: false });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    expect(w.gh.dispatches[0].inputs).toMatchObject({ seal_key: '', replay: '' });
    expect(w.entries('job_dispatched')[0].data.seal_key).toBeUndefined();
  });
});
