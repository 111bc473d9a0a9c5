// A replay need not match the thread count of the run it checks: the harness's kernels compute
// each output element whole on one thread, so 1 or 2 threads train the same bits (measured also
// at 3 and 8 threads, and on the cpu backend: docs/harness.md, "Replays"). A kernel that splits
// a reduction across threads would break replays across machines; this test says so.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { loadBackend } from '../../trainer/backend.js';
import { checkpointBlob } from '../../trainer/checkpoint.js';
import { sampleBatch } from '../../trainer/data/batches.js';
import { mulberry32 } from '../../trainer/data/rng.js';
import { poolThreads, usePool } from '../../trainer/kernels/threads.js';
import { createModel } from '../../trainer/train.js';
import { brownDataset } from './run-harness.js';

describe('kernel threads and replays', () => {
  it('the default train.ts trains the same bits on 1 and on 2 threads (wasm)', async () => {
    const be = await loadBackend('wasm');
    const tf = be.tf;
    const data = brownDataset().train;
    const train = async (threads: number) => {
      await usePool(threads);
      expect(poolThreads()).toBe(threads);
      const model = createModel(tf, 7, { ...be.device, threads });
      const rng = mulberry32(7);
      const steps = 6;
      for (let i = 0; i < steps; i++) {
        const b = sampleBatch(data, model.batchSize, model.contextLength, rng);
        const x = tf.tensor2d(b.x, [model.batchSize, model.contextLength], 'int32');
        const y = tf.tensor2d(b.y, [model.batchSize, model.contextLength], 'int32');
        const loss = model.trainStep(x, y, i / steps);
        await loss.data();
        tf.dispose([x, y, loss]);
      }
      const { blob } = await checkpointBlob(model.variables());
      tf.disposeVariables();
      return createHash('sha256').update(blob).digest('hex');
    };
    const one = await train(1);
    const two = await train(2);
    expect(two).toBe(one);
  }, 120_000);
});
