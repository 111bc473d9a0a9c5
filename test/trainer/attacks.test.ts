// Hostile candidates through the real harness, one or more per way of getting a score that
// was not earned (issue 12) or of reaching outside the run through the harness's own I/O
// (issue 13: links, output floods). Each fixture under fixtures/attacks/ says what it does;
// every one of them got through the harness before the framed channel, the two-process
// probe and the supervisor-measured facts (see the commit that added this file).
import { describe, expect, it } from '@jest/globals';
import { lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { brownDataset, expectFailure, fixtures, runHarness } from './run-harness.js';

const victimOf = (base: string) => readFileSync(join(base, 'victim.txt'), 'utf8');
// for attacks whose outcome does not depend on how long the candidate trains (a peek the probe
// sees, forged facts, a planted link): a third of the default budget, which still trains dozens
// of steps on a loaded machine
const short = { budgetSeconds: 0.5 };

describe('attacks on the causality probe', () => {
  it('a look-ahead under a constant shift of every logit', async () => {
    const { result, outDir } = await runHarness('attacks/shift-peek.ts', short);
    expectFailure(result, outDir, 'non_causal', /log-probability of byte \d+ at position \d+ moved by 0\.\d+ nats/);
  });

  it('a leak at one single position (T-2), in every run', async () => {
    const { result, outDir } = await runHarness('attacks/single-leak.ts', short);
    expectFailure(result, outDir, 'non_causal', /at position 14 moved by .* after position 14/);
  });

  it('dynamic evaluation: adapting to the windows it has seen', async () => {
    const { result, outDir } = await runHarness('attacks/stateful.ts', short);
    expectFailure(result, outDir, 'non_causal', /windows seen before/);
  });

  it('a look-ahead from the second logits() call on, past the one batch the probe process sees', async () => {
    const { result, outDir } = await runHarness('attacks/late-peek.ts', short);
    expectFailure(result, outDir, 'non_causal', /moved by/);
  });
});

describe('attacks on the evaluation input', () => {
  it('a lookup table over all windows: there is no file of them to read, so the peek shows', async () => {
    const { result, outDir } = await runHarness('attacks/lookup.ts', short);
    expectFailure(result, outDir, 'non_causal', /moved by/);
  });
});

describe('attacks on the clock', () => {
  it('training while the model is built is inside the budget: past its end, the run is over', async () => {
    const { result, outDir } = await runHarness('attacks/setup-trainer.ts');
    // 4 s in createModel against a 1.5 s budget (before: a setup timeout of 180 s, off the clock)
    expectFailure(result, outDir, 'timeout', /did not stop within 2\.\d+s of the end of its budget/);
    expect(result.steps).toBe(0);
  });

  it('training after the stop signal is cut off by the measured allowance', async () => {
    const { result, outDir } = await runHarness('attacks/post-stop.ts');
    expectFailure(result, outDir, 'timeout', /did not stop within 2\.\d+s of the end of its budget/);
  });

  it('an eval process that trains on data it finds finds none, and scores no better than its checkpoint', async () => {
    // a short budget keeps the honest checkpoint well above the bigram reference on a quiet machine too
    const { result } = await runHarness('attacks/eval-trainer.ts', { budgetSeconds: 0.5 });
    expect(result.status).toBe('ok');
    // with the train split on disk it scored at the bigram reference (3.6 vs 4.05 honest)
    expect(result.val_bpb!).toBeGreaterThan(result.bigram_bpb + 0.1);
  });

  it('setup stalled in training buys no more than itself in evaluation', async () => {
    // the floor is lowered so that what the stall buys shows: 2 s stalled in training (paid from
    // the budget), 4 s spent building the model in each eval process. Before, either of two things
    // let it through: 1 s + 2 x the setup, and a clock that started only after the checkpoint's
    // send, which waited for the busy child (now: 1 s + 1 x the setup + the transfer, from the hello)
    const { result, outDir } = await runHarness('attacks/setup-stall.ts', { budgetSeconds: 3, evalLimits: { setupFloorSeconds: 1 } });
    expectFailure(result, outDir, 'timeout', /the eval process took longer than \d+\.\ds to build the model and load the checkpoint \(training's setup took 2\.\ds\)/);
    expect(result.timings?.setup).toBeGreaterThanOrEqual(2);
  });

  it('test-time compute in evaluation is bounded by the measured training step', async () => {
    const { result, outDir } = await runHarness('attacks/eval-slow.ts', { evalLimits: { passFloorSeconds: 2 } });
    expectFailure(result, outDir, 'timeout', /forward passes took longer than \d+\.\ds for \d+ rows .* evaluation is forward passes only/);
  });
});

describe('attacks with carried held-out text', () => {
  it('text carried in 64 KiB wins on a small public split, and next to nothing on windows drawn from a large corpus', async () => {
    const brown = brownDataset();
    // a held-out corpus of ~6 MB (the dev split and the train text): the memorizer carries its first bytes
    const big = { name: 'large-heldout', train: brown.train, val: new Uint8Array(Buffer.concat([brown.val, brown.train])) };
    let n = 200_000;
    let carried = '';
    for (;;) {
      carried = deflateSync(Buffer.from(big.val.subarray(0, n)), { level: 9 }).toString('base64');
      if (carried.length < 60_000) break;
      n = Math.floor(n * 0.9);
    }
    const dir = mkdtempSync(join(tmpdir(), 'memorizer-'));
    const file = join(dir, 'memorizer.ts');
    const template = readFileSync(join(fixtures, 'attacks', 'memorizer.template.ts'), 'utf8');
    writeFileSync(file, template.replace('__CARRIED__', carried).replaceAll("'../../../../trainer/", `'${join(fixtures, '../../../trainer/')}`));
    expect(statSync(file).size).toBeLessThan(64 * 1024);
    // it never trains (trainStep is a constant), so the budget only has to cover building its index
    // of the carried text, which is inside the budget: 0.5 s was too little once on CI's loaded cores
    const opts = { dataset: big, budgetSeconds: 4, evalBytes: 32_768 };
    // the public split it carries: far below uniform's 8.0
    const dev = await runHarness(file, opts);
    expect(dev.result.failure).toBeNull();
    expect(dev.result.val_bpb!).toBeLessThan(3);
    // windows drawn by an eval seed from the whole corpus: within 0.3 bits of uniform
    const heldout = await runHarness(file, { ...opts, evalSeed: 12345 });
    expect(heldout.result.status).toBe('ok');
    expect(heldout.result.val_bpb!).toBeGreaterThan(7.7);
  }, 180_000);
});

describe('attacks on the facts in the result', () => {
  it('printed status lines claiming a GPU, 1,000 params and huge step counts change nothing', async () => {
    const { result, outDir } = await runHarness('attacks/forged-print.ts', short);
    expect(result.status).toBe('ok');
    expect(result.backend).toBe('wasm');
    expect(result.hardware_class).toMatch(/^cpu-/);
    expect(result.params).toBe(256 * 256);
    expect(result.tokens).toBe(result.steps * 8 * 16);
    expect(result.steps).toBeLessThan(10_000);
    // the prints are in the log, as the candidate's output
    expect(readFileSync(join(outDir, 'train.log'), 'utf8')).toMatch(/\[train\] @@harness \{"type":"backend","backend":"tensorflow"/);
  });

  it('extra fields in the checkpoint entries never reach the eval processes, nor count as anything', async () => {
    const { result } = await runHarness('attacks/smuggle-entries.ts', short);
    // before: "crash: logits threw: ... the eval process received what the train process smuggled"
    expect(result.failure).toBeNull();
    expect(result.status).toBe('ok');
    expect(result.params).toBe(256 * 256);
  });

  it('a context longer than the evaluation is the candidate\'s invalid_candidate, not the harness\'s error', async () => {
    const { result, outDir } = await runHarness('attacks/long-context.ts', short);
    // before: harness_error (the runner's fault: retried on other machines, never discarded)
    expectFailure(result, outDir, 'invalid_candidate', /contextLength 5000 is longer than the evaluation allows: cannot evaluate 4096 bytes/);
  });

  it('a failed frame of kind harness_error written by the candidate counts as its crash', async () => {
    const { result, outDir } = await runHarness('attacks/forged-failure.ts', short);
    expectFailure(result, outDir, 'crash', /train: the backend could not load \(forged\)/);
  });

  it('a harness frame written to the channel by the candidate is a protocol violation', async () => {
    const { result, outDir } = await runHarness('attacks/forged-frames.ts');
    expectFailure(result, outDir, 'tamper', /sent a "hello" frame where the harness expected next/);
  });
});

describe('attacks on the harness I/O', () => {
  for (const kind of ['link', 'hardlink']) {
    it(`a ${kind} planted as result.json is replaced, never written through`, async () => {
      const { result, outDir, base } = await runHarness(`attacks/${kind}-result.ts`, short);
      expectFailure(result, outDir, 'tamper', /created result\.json in the output directory/);
      expect(victimOf(base)).toBe('precious');
      expect(lstatSync(join(outDir, 'result.json')).isFile()).toBe(true);
      expect(statSync(join(outDir, 'result.json')).nlink).toBe(1);
    });
  }

  it('a 600 MB line and 300,000 more on stderr: the run is scored, the log stays small and says what it cut', async () => {
    const { result, outDir } = await runHarness('attacks/loud.ts', { maxLogBytes: 1 << 20, budgetSeconds: 15 });
    expect(result.failure).toBeNull();
    const log = readFileSync(join(outDir, 'train.log'), 'utf8');
    expect(log.length).toBeLessThan(2 << 20);
    expect(log).toMatch(/\[train\] x{100}.*\[\.\.\. line truncated: \d+ more bytes\]/);
    expect(log).toMatch(/child output is over 1048576 bytes: the rest is not kept/);
    expect(log).toMatch(/\d+ bytes of child output were dropped/);
    expect(log).toMatch(/val_bpb/);
  }, 120_000);

  it('a child that stops reading its stdin is killed, not waited for', async () => {
    const { result, outDir } = await runHarness('attacks/deaf.ts');
    expectFailure(result, outDir, 'timeout', /the train process stopped reading what the harness sends it \(10s\)/);
  });

  it('600 MB of garbage on the channel ends the run at once as tampering', async () => {
    const { result, outDir } = await runHarness('attacks/loud-stdout.ts');
    expectFailure(result, outDir, 'tamper', /frame header of \d+ bytes .* not a harness frame/);
  });
});

describe('the candidate file', () => {
  it('is refused over the App size limit, and when it is a symbolic link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'candidate-'));
    const big = join(dir, 'big.ts');
    writeFileSync(big, `export const table = "${'a'.repeat(70_000)}";\nexport { createModel } from ${JSON.stringify(join(fixtures, 'tiny.ts'))};\n`);
    const a = await runHarness(big);
    expectFailure(a.result, a.outDir, 'invalid_candidate', /is 70\d{3} bytes; the limit is 65536 \(the App's max_file_bytes\)/);
    const link = join(dir, 'link.ts');
    symlinkSync(join(fixtures, 'tiny.ts'), link);
    const b = await runHarness(link);
    expectFailure(b.result, b.outDir, 'invalid_candidate', /is a symbolic link; pass the file itself/);
  });
});
