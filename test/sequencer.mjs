// Jest's order for a clean clone (CI: no timing cache yet). Jest starts the largest files first,
// so a long suite could start last and leave one of the two workers idle at the end. The suites
// known to take a minute or more start first, longest first; then the rest, largest file first
// (jest's own rule). With a cache (a developer's machine), jest's timings decide as usual.
import Sequencer from '@jest/test-sequencer';

// seconds on CI's 2 cores (the clean-clone run of 2026-12-05), the longest first; attacks and replay
// start together, the swarm when one of them ends. simulate.test.ts (95 s) lost two of its five
// seeded runs to findings' and sim/replays' runs (about 40 s now): it moves down, and
// determinism.test.ts (57 s, not here before) comes in
const SLOW = [
  'test/trainer/attacks.test.ts',
  'test/trainer/replay.test.ts',
  'test/swarm/swarm.test.ts',
  'test/trainer/harness.test.ts',
  'test/leaderboard/browser.test.ts',
  'test/trainer/containment.test.ts',
  'test/app/ledger-view.test.ts',
  'test/sim/findings.test.ts',
  'test/sim/determinism.test.ts',
  'test/sim/replays.test.ts',
  'test/sim/simulate.test.ts',
  'test/sim/preflight.test.ts',
];

export default class SlowFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const rank = (t) => {
      const i = SLOW.findIndex((p) => t.path.endsWith(p));
      return i < 0 ? SLOW.length : i;
    };
    const cached = sorted.some((t) => t.duration != null);
    return cached ? sorted : [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
