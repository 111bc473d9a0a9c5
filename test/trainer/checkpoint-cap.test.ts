// A candidate that sees a bad training loss could send a checkpoint near the cap to make the
// supervisor (no memory cap of its own) run out of memory: no result, a re-run elsewhere. The
// cap follows the children's memory cap, is refused as its prefix arrives (nothing buffered),
// ends as the candidate's failure with a sentence that says so, and what is under it is held
// once (not gathered, joined and copied).
import { describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeFrame, FrameReader, type Frame } from '../../trainer/channel.js';
import { checkpointCapBytes } from '../../trainer/checkpoint.js';
import { runHarness } from './run-harness.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('the checkpoint cap', () => {
  it('is a quarter of the memory cap of a child, at most 2 GiB', () => {
    expect(checkpointCapBytes(4096)).toBe(2 ** 30);
    expect(checkpointCapBytes(64)).toBe(16 * 2 ** 20);
    expect(checkpointCapBytes(64 * 1024)).toBe(2 ** 31);
  });

  it('a frame is held once: at its delivery the reader keeps no second copy of its bytes', () => {
    const N = 48 * 2 ** 20;
    let live = 0;
    const frames: Frame[] = [];
    const r = new FrameReader(
      (f) => {
        frames.push(f);
        gc();
        live = process.memoryUsage().arrayBuffers;
      },
      () => N,
    );
    const parts = encodeFrame({ type: 'checkpoint' }, new Uint8Array(N).fill(7));
    gc();
    const before = process.memoryUsage().arrayBuffers;
    // the pipe's chunks: 64 KiB each (views of the test's bytes: no garbage to blur the count)
    for (const part of parts) for (let i = 0; i < part.length; i += 65536) r.push(Buffer.from(part.buffer, part.byteOffset + i, Math.min(65536, part.length - i)));
    expect(frames).toHaveLength(1);
    expect(frames[0].payload.length).toBe(N);
    expect(frames[0].payload[N - 1]).toBe(7);
    // the encoded frame (N) is the test's; the reader's own: one payload, not two
    expect(live - before).toBeLessThan(1.5 * N);
  });

  it('a checkpoint over the cap is refused before it is buffered: the candidate failed, with a sentence that says why', async () => {
    // the tiny model's checkpoint is 256 KiB; a cap of 64 KiB stands for a runner's small memory
    const { result } = await runHarness('tiny.ts', { maxCheckpointBytes: 64 * 1024 });
    expect(result.status).toBe('failed');
    expect(result.failure?.kind).toBe('oom');
    expect(result.failure?.message).toMatch(/checkpoint of 262144 bytes .* over the 65536 bytes/);
    expect(result.failure?.message).not.toMatch(/Only the harness writes/);
  }, 60_000);
});
