// The attack: the App reads a run's artifact (result.json and train.log) only up to 8 MiB
// inflated (app/github/artifact.ts); a larger one is no result at all: "refused", nobody's
// fault, and the job runs again on another owner's runner. The harness keeps up to 8 MiB of the
// candidate's own output in train.log, plus a time stamp per line. So a candidate that prints
// enough decides, while it runs, that its run never counts: after a bad training loss (or a bad
// loss on the evaluation windows its eval child is given), it prints 9 MB and is run again with
// a fresh seed, elsewhere, until it is lucky: a failed or poor result is never recorded, and
// each volunteer's time is spent for nothing. The Action uploads a log cut to fit, whatever the
// candidate printed; the harness itself now keeps less than that (timestamps counted).
import { describe, it, expect, beforeAll, beforeEach, afterAll } from '@jest/globals';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_ARTIFACT_BYTES } from '../../app/github/artifact.js';
import { parseResult } from '../../trainer/result.js';
import { capLog, MAX_UPLOADED_LOG_BYTES } from '../../action/src/log-cap.js';
import { fixture, mockCore, World } from './helpers/action-world.js';

const core = mockCore();
const { run } = await import('../../action/src/main.js');

let world: World;
let flooder: string;

beforeAll(() => {
  world = new World();
  const head = 'export function createModel(tf: TF, _seed: number): Candidate {';
  const src = fixture('count-bigram.ts');
  expect(src).toContain(head);
  // 9.4 MB of its own output, in lines of 2,000 characters (the harness's longest)
  flooder = world.pullRequest(21, { 'trainer/train.ts': src.replace(head, `${head}\n  process.stderr.write(('#'.repeat(1999) + '\\n').repeat(4700));`) });
});
afterAll(() => world.close());
beforeEach(() => world.newJob(core));

describe('a candidate that floods its log', () => {
  it('still uploads an artifact the App reads: the log is cut to fit, saying so, and the result is intact', async () => {
    core.inputs = world.inputs(flooder, '21');
    await run();
    const resultPath = join(world.outDir, 'result.json');
    const logPath = join(world.outDir, 'train.log');
    const uploaded = statSync(resultPath).size + statSync(logPath).size;
    expect({ uploaded, fits: uploaded <= MAX_ARTIFACT_BYTES }).toEqual({ uploaded, fits: true });
    const r = parseResult(readFileSync(resultPath, 'utf8'));
    expect(r.status).toBe('ok');
    expect(core.outputs.status).toBe('ok');
    const log = readFileSync(logPath, 'utf8');
    // the harness keeps less child output than the Action uploads (trainer/run-output.ts
    // DEFAULT_MAX_LOG_BYTES), counted with its time stamps: the log needs no cut, and says what it dropped
    expect(statSync(logPath).size).toBeLessThanOrEqual(MAX_UPLOADED_LOG_BYTES);
    expect(log).toMatch(/\[harness\] child output is over \d+ bytes: the rest is not kept/);
    expect(log).toMatch(/^\s*[\d.]+ \[harness\] /);
    expect(log).toMatch(/\[harness\] val_bpb /);
    expect(log.trimEnd().split('\n').pop()).toMatch(/\[harness\] \d+ bytes of child output were dropped\.$/);
  }, 60_000);
});

describe('a log over the upload limit (a harness with another log budget)', () => {
  it('is cut from its middle, its start and its end kept, the cut stated', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'log-cap-')), 'train.log');
    writeFileSync(path, `first line\n${'#'.repeat(99).concat('\n').repeat(20_000)}last line\n`);
    const cut = await capLog(path, 100_000);
    expect(cut).toBeGreaterThan(1_900_000);
    const log = readFileSync(path, 'utf8');
    expect(statSync(path).size).toBeLessThanOrEqual(100_000);
    expect(log.startsWith('first line\n')).toBe(true);
    expect(log.endsWith('last line\n')).toBe(true);
    expect(log).toMatch(/\[action\] train\.log was \d+ bytes: \d+ bytes from its middle were cut here/);
  });
});
