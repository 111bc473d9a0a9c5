import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { makeReporter } from '../../trainer/progress.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('progress', () => {
  it('prints plain lines (elapsed/budget, step, training loss in bits per byte, tokens/s) at most every 10 s off a terminal', () => {
    const s = sink();
    const r = makeReporter({ tty: false, stream: s.stream });
    r.phase('data: loading brown');
    r.start(300);
    r.update({ elapsed: 0.5, step: 1, loss: 5.5432, tokensPerSecond: 4096.4 });
    r.update({ elapsed: 5, step: 40, loss: 3.2, tokensPerSecond: 5000 });
    r.update({ elapsed: 10.6, step: 90, loss: 2.71234, tokensPerSecond: 5500 });
    r.stop();
    // the loss arrives in nats and is shown in bits per byte, the unit of val_bpb: 5.5432 / ln 2 = 7.9971
    expect(s.text()).toBe('data: loading brown\ntrain 1/300s step 1 train_bpb 7.9971 4096 tok/s\ntrain 11/300s step 90 train_bpb 3.9131 5500 tok/s\n');
  });

  it('draws a cli-progress bar on a terminal', () => {
    const s = sink();
    Object.assign(s.stream, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const r = makeReporter({ tty: true, stream: s.stream });
    r.start(300);
    r.update({ elapsed: 150, step: 1200, loss: Math.LN2 * 2.5, tokensPerSecond: 6000 });
    r.stop();
    expect(s.text()).toMatch(/train \[.*\] 150\/300s \| step 1200 \| train_bpb 2\.5000 \| 6000 tok\/s/);
  });

  it('prints nothing when quiet (--json keeps stdout and stderr clean)', () => {
    const s = sink();
    const r = makeReporter({ tty: false, stream: s.stream, quiet: true });
    r.phase('x');
    r.start(1);
    r.update({ elapsed: 20, step: 1, loss: 1, tokensPerSecond: 1 });
    expect(s.text()).toBe('');
  });
});
