// A side replay (of a baseline run or a fresh-seed verify run) is numbered after every job that
// replayed the same run, whichever path sent it. A claim's chain numbers its replays of a verify run
// by the chain (workflow-run.ts: the judged job's attempt + 1) while the side replays counted only
// the replay jobs so far: at seed 3 of `npm run simulate -- --faults --experiments 300` a chain's
// replay and the next side replay of one verify run were both attempt 2, and the fault run's
// invariant (two runs of one (PR, head, role, attempt, run verified) on one default branch) counted
// a job sent twice. Attack first: before, the next side replay here was attempt 3 again.
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { online, reg, World } from './world.js';
import { appendEntries, type NewEntry } from '../../ledger/index.js';
import { closeJob } from '../../app/dispatch.js';
import { chainAttempt, viewOf } from '../../app/ledger-view.js';
import { sideReplaysDue } from '../../app/policy/side-replays.js';

afterEach(() => {
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });

describe('side replay attempts', () => {
  it('the next side replay of a run comes after the highest attempt of any job that replayed it', async () => {
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nbaseline_runs: 3\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol')] });
    online(w, 'runner-c', 'carol');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05, { tamper: WASM });
    const base = w.gh.dispatches.find((d) => d.inputs.role === 'baseline')!;
    await w.complete(base, 'runner-a', 2.0, { tamper: WASM }); // alice is on probation: her run awaits a replay
    const chain = w.ledger();
    const replays = chain.filter((e) => e.type === 'job_dispatched' && (e.data as { replay?: string; verifies?: string | null }).replay && (e.data as { verifies?: string | null }).verifies === base.inputs.nonce);
    expect(replays.map((e) => (e.data as { attempt: number }).attempt)).toEqual([1]);
    // that replay is lost, and another path replays the same run as attempt 4 (a claim chain numbers
    // its replays so), lost too: the next side replay must not reuse an attempt number
    const dispatched = replays[0].data as { job_id: string };
    const other = { ...dispatched, job_id: `${dispatched.job_id.slice(0, -4)}beef`, attempt: 4 } as never;
    const more: NewEntry[] = [
      closeJob(dispatched as never, 'no result within 20 minutes'),
      { type: 'job_dispatched', data: other },
      closeJob(other, 'no result within 20 minutes'),
    ];
    const view = viewOf([...chain, ...appendEntries(chain, more.map((e) => ({ ...e, time: w.clock.toISOString() })))]);
    const due = sideReplaysDue(view, w.sealKeys).filter((d) => d.original === base.inputs.nonce);
    expect(due.map((d) => d.attempt)).toEqual([5]);
  });
});

describe("a claim's verify chain continued by a side replay", () => {
  // Found in the fault run (seed 1, 300 PRs): a claim's chain had reached attempt 9 when the replay
  // of one of its verify runs (that replay's own chain at attempt 5) settled and continued the
  // claim; the next verify run was numbered from the replay's count (6), not the chain's, so a
  // second verify job of the claim was attempt 6 (the invariant's "double dispatch") and the chain
  // went on past its max_attempts + max_runs bound. Before: workflow-run.ts used job.attempt + 1.
  it('goes on from the chain\'s own count, not the replay\'s', () => {
    const claim = 'claim-1';
    const jobs = new Map<string, { role: string; verifies: string | null; attempt: number }>();
    for (let a = 1; a <= 9; a++) jobs.set(`v${a}`, { role: 'verify', verifies: claim, attempt: a });
    jobs.set('r5', { role: 'verify', verifies: 'v8', attempt: 5 }); // a replay of verify run v8, its 5th attempt
    const view = { jobs } as unknown as Parameters<typeof chainAttempt>[0];
    expect(chainAttempt(view, claim, jobs.get('r5')!)).toBe(9);
    expect(chainAttempt(view, claim, jobs.get('v9')!)).toBe(9);
    expect(chainAttempt({ jobs: new Map() } as never, claim, { attempt: 1, verifies: claim })).toBe(1);
  });
});
