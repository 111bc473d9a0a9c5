// The first minute on a GPU machine (bench/gpu-pack.sh's run.sh runs it first): the WebGPU
// adapter Dawn picks, the hardware class a runner on it would register, the device's limits,
// fp32 matmul throughput, and whether one matmul repeats bit for bit (docs/trust.md 2b: a replay
// is judged by its digest only where training is deterministic). One JSON line per figure.
//   node --import tsx trainer/gpu-probe.ts
import { describeAdapter, loadWebGpu, webgpuClass } from './webgpu.js';

const t0 = performance.now();
const w = await loadWebGpu();
const { tf } = w;
const backend = tf.findBackend('webgpu') as unknown as { device?: { limits?: Record<string, number> } } | null;
const lim = backend?.device?.limits ?? {};
console.log(
  JSON.stringify({
    adapter: w.adapter,
    device: describeAdapter(w.adapter),
    hardware_class: webgpuClass(w.adapter),
    limits: { maxBufferSize: lim.maxBufferSize, maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize, maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize },
    load_ms: Math.round(performance.now() - t0),
  }),
);
for (const n of w.adapter.software ? [256] : [1024, 2048, 4096]) {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const warm = tf.matMul(a, b);
  await warm.data();
  warm.dispose();
  const reps = n >= 4096 ? 5 : 20;
  const start = performance.now();
  let c = tf.matMul(a, b);
  for (let i = 1; i < reps; i++) {
    c.dispose();
    c = tf.matMul(a, b);
  }
  const first = await c.data();
  const ms = (performance.now() - start) / reps;
  const again = tf.matMul(a, b);
  const second = await again.data();
  const repeatable = first.length === second.length && first.every((v, i) => v === second[i]);
  console.log(JSON.stringify({ matmul: n, ms: +ms.toFixed(3), tflops_fp32: +((2 * n ** 3) / (ms / 1e3) / 1e12).toFixed(2), bitwise_repeatable: repeatable }));
  tf.dispose([a, b, c, again]);
}
w.close();
process.exit(0);
