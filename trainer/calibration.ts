// A fixed workload timed on the run's backend before the candidate loads: in the train child
// (before training) and in the first eval child (after training). The same work on every
// machine of a class, so the App can tell a loaded or throttled machine from a worse
// candidate. Harness code only; it runs before any candidate code exists in the process.
import type { TF } from './candidate-api.js';
import type { Calibration } from './worker-protocol.js';

/**
 * n x n by n x n float32 matmuls, `reps` of them, after one untimed call (kernel set-up). A GPU
 * gets the large workload; a software WebGPU adapter (a CPU: Mesa's llvmpipe) the small one: the
 * large took 11 s on it, in each of a run's three processes.
 */
export function calibrationWorkload(backend: string, software = false): { n: number; reps: number } {
  return (backend === 'tensorflow' || backend === 'webgpu') && !software ? { n: 1024, reps: 20 } : { n: 256, reps: 10 };
}

export async function calibrate(tf: TF, backend: string, software = false, now: () => number = () => performance.now()): Promise<Calibration> {
  const { n, reps } = calibrationWorkload(backend, software);
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  // await data(), not dataSync(): the webgpu backend in Node cannot read a tensor synchronously
  const run = async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  };
  await run();
  const t0 = now();
  for (let i = 0; i < reps; i++) await run();
  const seconds = Math.max((now() - t0) / 1000, 1e-9);
  a.dispose();
  b.dispose();
  return { workload: `matmul-${n}x${n}x${n}x${reps}@${backend}`, gflops: (2 * n ** 3 * reps) / seconds / 1e9 };
}
