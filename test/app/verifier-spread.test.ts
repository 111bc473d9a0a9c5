// Who verifies a claim. The App picked the first runner by name among the eligible ones (idle first):
// when every runner of a class was busy, every verify run of that class went to the owner whose
// runner name sorts first, and queued behind it. In the simulator (seed 1, 1,000 PRs, 20% adversarial)
// the lazy runner `lazy-1` ran 55 of the GPU class's ~135 verify runs (41%, ten owners) and `forger-0`
// 36 of the CPU class's: both echo the claim they verify. An adversary only has to pick a login that
// sorts first to verify most claims; and the queue behind one owner ran verify jobs past their
// deadline (re-dispatched: 25-145 extra runs per 1,000 PRs).
import { describe, it, expect } from '@jest/globals';
import { pickVerifierLabel, type ApiRunner } from '../../app/policy/runners.js';

const r = (name: string, owner: string, cls: string, busy: boolean): ApiRunner => ({
  name,
  status: 'online',
  busy,
  labels: [{ name: 'self-hosted' }, { name: cls }, { name: `owner-${owner}` }],
});

describe('the verifier is drawn among the eligible runners, not the first by name', () => {
  const busy = ['aaa-echo', 'bob', 'cat', 'dan', 'eve'].map((o) => r(`ars-${o}-1`, o, 'gpu-x', true));
  it('with every runner busy, an owner whose name sorts first does not get every verify run', () => {
    const got = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const l = pickVerifierLabel(busy, 'gpu-x', ['bob'], i / 1000)!;
      got.set(l, (got.get(l) ?? 0) + 1);
    }
    // four eligible owners (bob excluded): each about a quarter
    expect(got.get('owner-aaa-echo')).toBe(250);
    expect([...got.keys()].sort()).toEqual(['owner-aaa-echo', 'owner-cat', 'owner-dan', 'owner-eve']);
  });
  it('idle runners first: the draw is among idle ones when there are any', () => {
    const some = [...busy.slice(0, 3), r('ars-fay-1', 'fay', 'gpu-x', false), r('ars-gus-1', 'gus', 'gpu-x', false)];
    const got = new Set<string>();
    for (let i = 0; i < 100; i++) got.add(pickVerifierLabel(some, 'gpu-x', [], i / 100)!);
    expect([...got].sort()).toEqual(['owner-fay', 'owner-gus']);
  });
  it('without a draw, one is taken from node:crypto at call time (unpredictable to runners)', () => {
    const got = new Set<string>();
    for (let i = 0; i < 200; i++) got.add(pickVerifierLabel(busy, 'gpu-x', [])!);
    expect(got.size).toBeGreaterThan(1);
  });
});
