// The loss curve a result carries: bounded, whatever the step count.
import type { LossPoint } from './result.js';

const MAX_CURVE_POINTS = 256;

/** Keep the first points (determinism checks read them) and an even sample of the rest. */
export function sampleCurve(points: LossPoint[], max = MAX_CURVE_POINTS): LossPoint[] {
  if (points.length <= max) return points;
  const head = points.slice(0, 20);
  const rest = points.slice(20);
  const k = max - head.length;
  const out = [...head];
  for (let i = 0; i < k; i++) out.push(rest[Math.round((i * (rest.length - 1)) / (k - 1))]);
  return out;
}
