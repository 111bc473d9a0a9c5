// The Action with pinned FineWeb-Edu shards (the data-pins input the App dispatches), against
// the real harness and a loopback server that serves parquet files this test writes with
// hyparquet-writer: an honest run trains and is scored on the pinned shards and names them;
// a server (or mirror, or proxy) that serves another file under a pinned URL is refused before
// training. Nothing leaves the machine: every URL is 127.0.0.1.
import { describe, it, expect, beforeAll, beforeEach, afterAll } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { writeFileSync } from 'node:fs';
import { loadConfigText } from '../../app/config.js';
import { datasetProblem, pinsInput } from '../../app/data-pins.js';
import { main as pinData } from '../../trainer/data/pin-data.js';
import { finewebDatasetName, fromRaw, pinsJson, toRaw, type PinnedShard } from '../../trainer/data/pins.js';
import { parseResult } from '../../trainer/result.js';
import { fixture, mockCore, World } from './helpers/action-world.js';

const core = mockCore();
const { run } = await import('../../action/src/main.js');

const parquet = (docs: string[]) => Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: docs, type: 'STRING' }] }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const train = parquet(Array.from({ length: 300 }, (_, i) => `Lesson ${i}: the water cycle moves water between oceans, air and land. ${'ab'.repeat(i % 40)}`));
const val = parquet(Array.from({ length: 120 }, (_, i) => `Held-out ${i}: a plant cell has a wall, a membrane and chloroplasts; ${'cd'.repeat(i % 30)}`));
// what a hostile mirror would rather serve under the val URL: text a candidate carries
const swapped = parquet(Array.from({ length: 120 }, () => 'zzzz zzzz zzzz zzzz zzzz zzzz zzzz zzzz zzzz zzzz'));

let server: Server;
let base = '';
let serveSwapped = false;
let world: World;
let sha7 = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = req.url === '/train.parquet' ? train : req.url === '/val.parquet' ? (serveSwapped ? swapped : val) : null;
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  world = new World();
  sha7 = world.pullRequest(7, { 'trainer/train.ts': fixture('count-bigram.ts').replace('const CONTEXT = 32;', 'const CONTEXT = 16;') });
});
afterAll(async () => {
  world.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  world.newJob(core);
  serveSwapped = false;
});

const pins = (): PinnedShard[] => [
  { id: 'edu/train-0', url: `${base}/train.parquet`, sha256: sha(train), split: 'train', maxTextBytes: 1 << 20 },
  { id: 'edu/val-0', url: `${base}/val.parquet`, sha256: sha(val), split: 'val', maxTextBytes: 1 << 20 },
];

function experiment(extra: Record<string, string>) {
  core.inputs = world.inputs(sha7, '7', { 'cache-dir': mkdtempSync(join(world.tmp, 'cache-')), ...extra });
  return run();
}

describe('the Action with pinned shards', () => {
  it('end to end: the operator pins, the App dispatches the pins, the Action trains and evaluates on them, the App takes the result', async () => {
    // the operator, on a networked machine: npm run pin-data -- --shards shards.yml --config autoresearch.yml
    const op = mkdtempSync(join(world.tmp, 'operator-'));
    writeFileSync(join(op, 'shards.yml'), `fineweb_shards:\n${pins().map((p) => `  - { id: ${p.id}, url: "${p.url}", split: ${p.split}, max_text_bytes: ${p.maxTextBytes} }`).join('\n')}\n`);
    writeFileSync(join(op, 'autoresearch.yml'), 'max_in_flight: 2\n');
    const quiet = { out: () => undefined, err: () => undefined, cwd: op };
    expect(await pinData(['--shards', 'shards.yml', '--config', 'autoresearch.yml'], quiet)).toBe(0);
    // the App: its config, and the input it sends with the dispatch (experiment.yml passes it on as data-pins)
    const { config, notice } = loadConfigText(readFileSync(join(op, 'autoresearch.yml'), 'utf8'));
    expect(notice).toBeNull();
    const input = pinsInput(config).data_pins!;
    expect(input).toBe(pinsJson(pins()));
    // the runner
    await experiment({ 'data-pins': input });
    expect(core.setFailed).not.toHaveBeenCalled();
    const r = parseResult(world.readResultText());
    expect(r).toMatchObject({ status: 'ok', eval_split: 'heldout', eval_seed: 11, dataset: finewebDatasetName(pins()) });
    // the App's intake
    expect(datasetProblem(r, config)).toBeNull();
  });

  it('trains and evaluates on the pinned shards, and the result names them', async () => {
    await experiment({ 'data-pins': pinsJson(pins()) });
    expect(core.setFailed).not.toHaveBeenCalled();
    const r = parseResult(world.readResultText());
    expect(r.status).toBe('ok');
    expect(r.eval_split).toBe('heldout');
    expect(r.dataset).toBe(finewebDatasetName(pins()));
    // the App, configured with the same pins, takes it; configured with none, it would not
    expect(datasetProblem(r, { fineweb_shards: toRaw(pins()) })).toBeNull();
    expect(datasetProblem(r, {})).toMatch(/no shards are pinned/);
    // no Brown warning on a pinned run
    expect(core.warning).not.toHaveBeenCalledWith(expect.stringContaining('Brown'));
  });

  it('refuses, before training, a val shard whose bytes are not the pinned ones', async () => {
    // Attack: a mirror (or a proxy on the runner's network) serves other text under the pinned
    // URL. With the sha256 check removed from the loader, this run trained and was scored on it.
    serveSwapped = true;
    await experiment({ 'data-pins': pinsJson(pins()) });
    const r = parseResult(world.readResultText());
    expect(r.status).toBe('failed');
    expect(r.val_bpb).toBeNull();
    expect(r.failure?.kind).toBe('harness_error');
    expect(r.failure?.message).toContain(`shard edu/val-0 from ${base}/val.parquet has sha256 ${sha(swapped)}, expected ${sha(val)}`);
    const log = readFileSync(join(world.outDir, 'train.log'), 'utf8');
    expect(log).not.toMatch(/\[harness\] train:/); // no candidate process was started
    expect(r.steps).toBe(0);
  });

  it('runs on Brown without pins, and warns that the split is public', async () => {
    await experiment({});
    const r = parseResult(world.readResultText());
    expect(r.dataset).toBe('brown');
    expect(core.warning).toHaveBeenCalledWith(expect.stringMatching(/public Brown split.*docs\/harness\.md/));
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ 'data-pins': '{"fineweb_shards": [' }, /^Input data-pins is not JSON/],
    [
      { 'data-pins': JSON.stringify({ fineweb_shards: [{ id: 'a', url: 'https://x.org/a.parquet', sha256: 'AB', split: 'train', max_text_bytes: 1 }] }) },
      /^Input data-pins: fineweb_shards\.0\.sha256 must be the sha256 of the shard file, 64 lowercase hex digits; write the block with `npm run pin-data/,
    ],
    [{ data: 'fineweb' }, /^Input data is fineweb but data-pins is empty/],
  ])('refuses bad data inputs %j with one clear message, before anything runs', async (bad, message) => {
    await experiment(bad);
    expect(core.setFailed).toHaveBeenCalledWith(expect.stringMatching(message));
    expect(existsSync(join(world.outDir, 'result.json'))).toBe(false);
  });

  it('refuses data brown with pins set', async () => {
    await experiment({ data: 'brown', 'data-pins': pinsJson(fromRaw(toRaw(pins()))) });
    expect(core.setFailed).toHaveBeenCalledWith(expect.stringMatching(/^Input data is brown but data-pins is set/));
  });
});
