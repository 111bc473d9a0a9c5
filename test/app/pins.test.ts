// The App and pinned evaluation data: the `fineweb_shards` block of .github/autoresearch.yml is
// validated (one clear error naming the key and the fix), sent with every dispatch as one JSON
// input the real experiment.yml declares, and a result on other data than the pins is run again;
// without pins, every official score says it was measured on the public Brown split.
import { afterEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { loadConfigText } from '../../app/config.js';
import { datasetProblem, expectedDataset, pinsInput } from '../../app/data-pins.js';
import { brownNotice, scoreSummary } from '../../app/messages.js';
import { finewebDatasetName, fromRaw, pinsJson, type PinnedShard } from '../../trainer/data/pins.js';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { writePinsInto } from '../../trainer/data/pin-data.js';
import { World } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';

const PINS: PinnedShard[] = [
  { id: '10BT/000_00000', url: 'https://huggingface.co/datasets/HuggingFaceFW/fineweb-edu/resolve/main/sample/10BT/000_00000.parquet', sha256: 'a1'.repeat(32), split: 'train', maxTextBytes: 512 * 2 ** 20 },
  { id: '10BT/013_00000', url: 'https://huggingface.co/datasets/HuggingFaceFW/fineweb-edu/resolve/main/sample/10BT/013_00000.parquet', sha256: 'b2'.repeat(32), split: 'val', maxTextBytes: 256 * 2 ** 20 },
];
const raw = (p: PinnedShard[]) => p.map((s) => ({ id: s.id, url: s.url, sha256: s.sha256, split: s.split, max_text_bytes: s.maxTextBytes }));
const pinsConfig = `max_in_flight: 2\nclose_on_discard: false\n${toYaml({ fineweb_shards: raw(PINS) })}`;

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('fineweb_shards in the App config', () => {
  it('is optional; a valid block is kept as pinned shards', () => {
    expect(loadConfigText('max_in_flight: 2\n').config.fineweb_shards).toBeUndefined();
    const loaded = loadConfigText(pinsConfig);
    expect(loaded.notice).toBeNull();
    expect(fromRaw(loaded.config.fineweb_shards!)).toEqual(PINS);
    expect(pinsInput(loaded.config)).toEqual({ data_pins: pinsJson(PINS) });
    expect(expectedDataset(loaded.config)).toBe(finewebDatasetName(PINS));
  });

  it('the block npm run pin-data writes into this repository\'s example config is one the App takes, the rest unchanged', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'config-')), 'autoresearch.yml');
    copyFileSync('.github/autoresearch.yml', path);
    const before = loadConfigText(readFileSync(path, 'utf8'));
    expect(before.config.fineweb_shards).toBeUndefined(); // the example: empty, Brown
    writePinsInto(path, raw(PINS));
    const after = loadConfigText(readFileSync(path, 'utf8'));
    expect(after.notice).toBeNull();
    expect(after.mayAct).toBe(true);
    expect(after.config).toEqual({ ...before.config, fineweb_shards: raw(PINS) });
    expect(readFileSync(path, 'utf8').split('\n').slice(0, 10)).toEqual(readFileSync('.github/autoresearch.yml', 'utf8').split('\n').slice(0, 10));
  });

  it.each([
    ['a sha256 in capitals', { 1: { sha256: 'B2'.repeat(32) } }, 'fineweb_shards.1.sha256', 'must be the sha256 of the shard file, 64 lowercase hex digits'],
    ['a sha256 cut short', { 0: { sha256: 'a1'.repeat(20) } }, 'fineweb_shards.0.sha256', 'must be the sha256 of the shard file'],
    ['a split that is neither', { 1: { split: 'test' } }, 'fineweb_shards.1.split', 'must be train or val'],
    ['a url that is not http(s)', { 0: { url: 'file:///etc/passwd' } }, 'fineweb_shards.0.url', 'must be the http(s) URL of the parquet file'],
    ['no val shard', { 1: { split: 'train' } }, 'fineweb_shards', 'needs at least one train and one val shard'],
    ['the train file again as val', { 1: { sha256: 'a1'.repeat(32) } }, 'fineweb_shards.1.sha256', 'is the same file as shard 0 (10BT/000_00000)'],
  ])('a malformed block (%s) gets one notice naming the key and the fix, and no pins are used', (_name, edits, key, message) => {
    const shards = raw(PINS).map((s, i) => ({ ...s, ...((edits as Record<number, object>)[i] ?? {}) }));
    const loaded = loadConfigText(`max_in_flight: 2\n${toYaml({ fineweb_shards: shards })}`);
    expect(loaded.mayAct).toBe(false);
    expect(loaded.config.fineweb_shards).toBeUndefined();
    expect(loaded.notice).toContain(`\`.github/autoresearch.yml\` is invalid at \`${key}\`: ${message}`);
    expect(loaded.notice).toContain('(write the block with `npm run pin-data -- --config .github/autoresearch.yml` on a machine with network access');
    expect(loaded.notice).toContain('official runs are scored on Brown');
  });

  it('a result on other data than the config dispatches is named as such', () => {
    const withPins = { fineweb_shards: raw(PINS) };
    expect(datasetProblem({ dataset: finewebDatasetName(PINS) }, withPins)).toBeNull();
    expect(datasetProblem({ dataset: 'brown' }, withPins)).toBe(`the run was scored on brown, not on the shards pinned in the App's config (${finewebDatasetName(PINS)})`);
    // same ids, another val file: another digest
    const other = [PINS[0], { ...PINS[1], sha256: 'c3'.repeat(32) }];
    expect(datasetProblem({ dataset: finewebDatasetName(other) }, withPins)).toMatch(/not on the shards pinned/);
    expect(datasetProblem({ dataset: 'brown' }, {})).toBeNull();
    expect(datasetProblem({ dataset: finewebDatasetName(PINS) }, {})).toMatch(/no shards are pinned in the App's config, so official runs use brown/);
  });
});

describe('official runs without pins', () => {
  it('every score the App posts says it was measured on the public Brown split and how to pin shards', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const [d] = w.gh.dispatches;
    expect(d.inputs.data_pins ?? '').toBe(''); // not sent: the workflow's default, Brown
    await w.complete(d, 'runner-a', 1.99);
    const [check] = w.gh.checksOf(head);
    expect(check.status).toBe('completed');
    expect(check.summary).toContain('**Scored on the public Brown validation split.**');
    expect(check.summary).toContain('`npm run pin-data -- --config .github/autoresearch.yml`');
    expect(check.summary).toMatch(/\[docs\/harness\.md, "Held-out text"\]\(https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/HEAD\/docs\/harness\.md#held-out-text\)/);
    expect(check.summary).toContain('| data | brown (public validation split) |');
  });

  it('a score on pinned shards carries no Brown notice, and a dataset not in the harness\'s shape is not echoed', () => {
    const base = { baseline: null, threshold: null, runnerName: 'r', runnerOwner: 'o', runUrl: 'https://github.com/acme/swarm/actions/runs/9', verdict: 'ok' };
    const result = { val_bpb: 1.5, unigram_bpb: 4, bigram_bpb: 3, hardware_class: 'gpu-x', device: 'd', backend: 'b', steps: 1, tokens_per_second: 1, job: {} } as any;
    const pinned = scoreSummary({ ...base, result: { ...result, dataset: finewebDatasetName(PINS) } });
    expect(pinned).not.toContain('Brown');
    expect(pinned).toContain(`| data | \`${finewebDatasetName(PINS)}\` (pinned shards) |`);
    expect(scoreSummary({ ...base, result: { ...result, dataset: 'x | [click](https://evil.example)' } })).toContain('| data | not one the harness names |');
    expect(brownNotice(null)).toContain('(docs/harness.md, "Held-out text")');
  });
});

describe('official runs with pins', () => {
  it('every dispatch carries the pins in the one data_pins input the real experiment.yml declares', async () => {
    const w = new World({ config: pinsConfig });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const [d] = w.gh.dispatches;
    expect(d.inputs.data_pins).toBe(pinsJson(PINS));
    expect(Object.keys(d.inputs)).toHaveLength(12); // GitHub allows 25 inputs, 65,535 characters in all (replay and seal_key: docs/trust.md "Replays"; pace_floors: "Load is noise")
    expect(JSON.stringify(d.inputs).length).toBeLessThan(65_535);
  });

  it('a result scored on the pins is taken, and its check run names the pinned data', async () => {
    const w = new World({ config: pinsConfig });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const [d] = w.gh.dispatches;
    await w.complete(d, 'runner-a', 1.99, { tamper: (r) => (r.dataset = finewebDatasetName(PINS)) });
    const [job] = w.entries('result_recorded');
    expect(job.data).toMatchObject({ validated: true, reason: null });
    const [check] = w.gh.checksOf(head);
    expect(check.summary).not.toContain('Brown');
    expect(check.summary).toContain('(pinned shards)');
  });

  it('a result scored on Brown while shards are pinned is refused and run again with the pins', async () => {
    // Attack: a runner (or a stale one) ignores data_pins and evaluates on Brown, which a
    // candidate can carry. Before the App compared the result's dataset with its pins, this
    // result was validated and scored like any other.
    const w = new World({ config: pinsConfig });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const [d] = w.gh.dispatches;
    await w.complete(d, 'runner-a', 1.2);
    const [rec] = w.entries('result_recorded');
    expect(rec.data).toMatchObject({ validated: false, reason: `the run was scored on brown, not on the shards pinned in the App's config (${finewebDatasetName(PINS)})` });
    expect(w.gh.dispatches).toHaveLength(2);
    expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'candidate', pr: '7', data_pins: pinsJson(PINS) });
    expect(w.gh.labelsOf(7)).not.toContain('experiment:merged');
  });
});
