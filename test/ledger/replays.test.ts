// The replay verdict (ledger/replays.ts): the one rule the App judges replays by and the audit
// recomputes from the revealed digests.
import { describe, it, expect } from '@jest/globals';
import { digestCommitment, maxReplayRuns, replayBy, replayVerdict, type ReplayRun } from '../../ledger/index.js';

const D = (c: string) => c.repeat(64);
const run = (job_id: string, digest: string | null, val_bpb: number | null): ReplayRun => ({ job_id, digest, val_bpb });

describe('replayVerdict', () => {
  it('by digest: equal digests and scores agree; one replay that differs is pending, a third decides', () => {
    expect(replayVerdict([run('o', D('a'), 2), run('r1', D('a'), 2)], 'digest', 0)).toEqual({ verdict: 'agreed', group: ['o', 'r1'], outvoted: [] });
    expect(replayVerdict([run('o', D('a'), 2), run('r1', D('b'), 2)], 'digest', 0)).toEqual({ verdict: 'pending' });
    expect(replayVerdict([run('o', D('a'), 2), run('r1', D('b'), 2), run('r2', D('b'), 2)], 'digest', 0)).toEqual({ verdict: 'outvoted', group: ['r1', 'r2'], outvoted: ['o'] });
    expect(replayVerdict([run('o', D('a'), 2), run('r1', D('b'), 2), run('r2', D('a'), 2)], 'digest', 0)).toEqual({ verdict: 'agreed', group: ['o', 'r2'], outvoted: ['r1'] });
    expect(replayVerdict([run('o', D('a'), 2), run('r1', D('b'), 2), run('r2', D('c'), 2)], 'digest', 0)).toEqual({ verdict: 'not_replayable', group: [], outvoted: [] });
  });

  it('by digest: the same checkpoint with another score (a saboteur who trained) does not agree; a failed run reproduces nothing', () => {
    expect(replayVerdict([run('o', D('a'), 2.1), run('r1', D('a'), 2)], 'digest', 0).verdict).toBe('pending');
    expect(replayVerdict([run('o', null, null), run('r1', null, null)], 'digest', 0).verdict).toBe('pending');
  });

  it('by val_bpb: within the tolerance; a replay agreeing with both sides outvotes nobody', () => {
    expect(replayVerdict([run('o', null, 2), run('r1', null, 2.015)], 'val_bpb', 0.02).verdict).toBe('agreed');
    expect(replayVerdict([run('o', null, 2), run('r1', null, 2.03), run('r2', null, 2.015)], 'val_bpb', 0.02)).toEqual({ verdict: 'agreed', group: ['o', 'r1', 'r2'], outvoted: [] });
  });

  it('by val_bpb: the very same score from another checkpoint is a copy of the public score, not a replay', () => {
    expect(replayVerdict([run('o', D('a'), 2.0123), run('r1', D('b'), 2.0123)], 'val_bpb', 0.02).verdict).toBe('pending');
    // (seen in the 200-PR fault run: an honest GPU replay 0.0204 off, and a lazy replayer's copy of the original's score outvoted it)
    expect(replayVerdict([run('o', D('a'), 1.0863), run('r1', D('b'), 1.0659), run('r2', D('c'), 1.0863)], 'val_bpb', 0.02)).toEqual({ verdict: 'not_replayable', group: [], outvoted: [] });
  });

  it('quorum 3: two owners who agree with each other outvote nobody; a third agreeing owner decides', () => {
    const [a, b] = [D('a'), D('b')];
    // the framing pair (r1, r2) against an honest original: a fault with quorum 2, pending with 3
    const framed = [run('o', a, 2), run('r1', b, 2.1), run('r2', b, 2.1)];
    expect(replayVerdict(framed, 'digest', 0, 2)).toEqual({ verdict: 'outvoted', group: ['r1', 'r2'], outvoted: ['o'] });
    expect(replayVerdict(framed, 'digest', 0, 3)).toEqual({ verdict: 'pending' });
    // two honest replays more: the pair is outvoted instead
    expect(replayVerdict([...framed, run('r3', a, 2)], 'digest', 0, 3)).toEqual({ verdict: 'pending' });
    expect(replayVerdict([...framed, run('r3', a, 2), run('r4', a, 2)], 'digest', 0, 3)).toEqual({ verdict: 'agreed', group: ['o', 'r3', 'r4'], outvoted: ['r1', 'r2'] });
    // a third owner agreeing with the pair: the original is outvoted (three owners agree)
    expect(replayVerdict([...framed, run('r3', b, 2.1)], 'digest', 0, 3)).toEqual({ verdict: 'outvoted', group: ['r1', 'r2', 'r3'], outvoted: ['o'] });
    // one honest replay agreeing with the original against one dissenter: not yet a fault of the dissenter
    expect(replayVerdict([run('o', a, 2), run('r1', b, 2), run('r2', a, 2)], 'digest', 0, 3).verdict).toBe('pending');
    // no disagreement: two agreeing runs are enough, as before
    expect(replayVerdict([run('o', a, 2), run('r1', a, 2)], 'digest', 0, 3)).toEqual({ verdict: 'agreed', group: ['o', 'r1'], outvoted: [] });
  });

  it('quorum 3: two different wrong results do not make an honest run not replayable; no group within five runs does', () => {
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(D);
    const denied = [run('o', a, 2), run('r1', b, 2.1), run('r2', c, 2.2)];
    expect(replayVerdict(denied, 'digest', 0, 2).verdict).toBe('not_replayable');
    expect(replayVerdict(denied, 'digest', 0, 3).verdict).toBe('pending');
    expect(replayVerdict([...denied, run('r3', a, 2), run('r4', a, 2)], 'digest', 0, 3)).toEqual({ verdict: 'agreed', group: ['o', 'r3', 'r4'], outvoted: ['r1', 'r2'] });
    // a train.ts that reads the clock: every run differs; decided as soon as no group can reach three
    expect(replayVerdict([...denied, run('r3', d, 2.3)], 'digest', 0, 3).verdict).toBe('not_replayable');
    expect(replayVerdict([run('o', a, 2), run('r1', b, 2), run('r2', b, 2), run('r3', a, 2), run('r4', e, 2)], 'digest', 0, 3).verdict).toBe('not_replayable');
    expect(maxReplayRuns(3)).toBe(5);
    expect(maxReplayRuns(2)).toBe(3);
  });

  it('wasm and cpu compare digests unless the policy lists other deterministic backends', () => {
    expect([replayBy('wasm'), replayBy('cpu'), replayBy('tensorflow')]).toEqual(['digest', 'digest', 'val_bpb']);
    expect(replayBy('tensorflow', ['wasm', 'cpu', 'tensorflow'])).toBe('digest');
  });

  it('a commitment binds a digest to its job', () => {
    expect(digestCommitment(D('a'), 'job-1')).not.toBe(digestCommitment(D('a'), 'job-2'));
    expect(digestCommitment(D('a'), 'job-1')).toMatch(/^[0-9a-f]{64}$/);
  });
});
