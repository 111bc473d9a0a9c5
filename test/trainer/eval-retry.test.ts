// The probe child loads its backend while the scored child runs candidate code. A harness error
// in that preparation (its backend failed to load or differs from training's: the scored child
// took the GPU's memory, so the probe child fell back) may be the candidate's doing, and a
// harness_error result is nobody's fault: the App re-runs the job elsewhere, a free re-roll for a
// candidate that saw its scored bytes going badly. Such a child is prepared once more, in a fresh
// process, once the other is gone; only a second harness error stands.
//
// No realistic way for a candidate to cause it on the CPU was found (on a GPU: taking the card's
// memory), so the failure is injected here: these are tests of the retry itself.
import { describe, expect, it } from '@jest/globals';
import { prepareBeside } from '../../trainer/eval-phase.js';
import { RunFailure } from '../../trainer/run-failure.js';

interface Fake {
  phase: string;
  n: number;
  killed: string | null;
  done: Promise<unknown>;
  kill(kind: string, message: string): void;
}

function world(failures: (RunFailure | null)[]) {
  const launched: Fake[] = [];
  const events: string[] = [];
  let releaseOther = () => {};
  const other = new Promise<void>((r) => (releaseOther = r)).then(() => events.push('other gone'));
  const launch = () => {
    let end = () => {};
    const ch: Fake = {
      phase: 'probe',
      n: launched.length,
      killed: null,
      done: new Promise<void>((r) => (end = r)),
      kill(kind) {
        this.killed ??= kind;
        end();
      },
    };
    launched.push(ch);
    events.push(`launch ${ch.n}`);
    return ch;
  };
  const prepare = async (ch: Fake) => {
    const f = failures[ch.n];
    if (f) throw f;
    return { backend: 'wasm', n: ch.n };
  };
  return { launched, events, other, releaseOther, launch, prepare };
}

const harness = () => new RunFailure('harness_error', 'the probe process got backend cpu (gpu false) but training ran on tensorflow (gpu true); pass --backend explicitly.');

describe('a child prepared beside candidate code', () => {
  it('is prepared again, in a fresh process once the other is gone, after a harness error', async () => {
    const w = world([harness(), null]);
    const lines: string[] = [];
    const got = prepareBeside(w.launch, w.prepare, w.other, (l) => lines.push(l));
    await new Promise((r) => setTimeout(r, 20));
    expect(w.events).toEqual(['launch 0']); // not beside the candidate's code again
    w.releaseOther();
    const { ch, hello } = await got;
    expect(w.events).toEqual(['launch 0', 'other gone', 'launch 1']);
    expect(ch).toBe(w.launched[1]);
    expect(hello).toEqual({ backend: 'wasm', n: 1 });
    expect(w.launched[0].killed).not.toBeNull();
    expect(lines.join('\n')).toMatch(/probe: .*training ran on tensorflow.*prepared again/);
  });

  it('a second harness error stands', async () => {
    const w = world([harness(), harness()]);
    w.releaseOther();
    await expect(prepareBeside(w.launch, w.prepare, w.other, () => {})).rejects.toMatchObject({ kind: 'harness_error' });
    expect(w.launched).toHaveLength(2);
  });

  it("a failure of the candidate's, or a harness error with nothing beside it, is not retried", async () => {
    for (const kind of ['crash', 'timeout', 'oom', 'invalid_candidate'] as const) {
      const w = world([new RunFailure(kind, 'x'), null]);
      w.releaseOther();
      await expect(prepareBeside(w.launch, w.prepare, w.other, () => {})).rejects.toMatchObject({ kind });
      expect(w.launched).toHaveLength(1);
    }
    const alone = world([harness(), null]);
    await expect(prepareBeside(alone.launch, alone.prepare, undefined, () => {})).rejects.toMatchObject({ kind: 'harness_error' });
    expect(alone.launched).toHaveLength(1);
  });
});
