// An experiment's loss curve as its page's chart reads it: a file of its own (not in the page's
// HTML: 256 points at full precision were 40% of a page), compact: at 100,000 experiments every
// 100 bytes here is 10 MB of a site that must stay under GitHub Pages' 1 GB. At most 64 points
// (a smooth curve on a chart 700 px wide): the first 8 recorded (the steep start), then an even
// sample of the rest that ends with the last; the result in the ledger keeps all of them. Steps
// are stored as differences between consecutive steps (the first one from 0), the training loss
// in thousandths of a bit per byte (nats / ln 2: the unit of val_bpb). About 0.5 KB.
import type { LossPoint } from '../../trainer/result.js';

export interface CurveFile {
  /** step[i] - step[i-1], with step[-1] = 0 */
  d_step: number[];
  /** the training loss at that step, in milli-bits per byte */
  m_bpb: number[];
}

export const SHOWN_POINTS = 64;
const FIRST_POINTS = 8;

/** The points the site shows: all of them up to SHOWN_POINTS, else the first 8 and an even sample of the rest, ending with the last. */
export function shownPoints<T>(points: readonly T[], max = SHOWN_POINTS): T[] {
  if (points.length <= max) return points.slice();
  const out = points.slice(0, FIRST_POINTS);
  const rest = points.length - FIRST_POINTS;
  const k = max - FIRST_POINTS;
  for (let i = 0; i < k; i++) out.push(points[FIRST_POINTS + Math.round((i * (rest - 1)) / (k - 1))]);
  return out;
}

export function compactCurve(points: readonly LossPoint[]): CurveFile {
  const d_step: number[] = [];
  const m_bpb: number[] = [];
  let last = 0;
  for (const p of shownPoints(points)) {
    const m = Math.round((p.loss / Math.LN2) * 1000);
    // a loss near 1e308 (a runner's claim) is Infinity here, which JSON writes as null: left out
    if (!Number.isFinite(m)) continue;
    d_step.push(p.step - last);
    last = p.step;
    m_bpb.push(m);
  }
  return { d_step, m_bpb };
}

/** The curve in plain figures: steps, and train bpb. */
export function expandCurve(c: CurveFile): { step: number[]; bpb: number[] } {
  let s = 0;
  return { step: c.d_step.map((d) => (s += d)), bpb: c.m_bpb.map((m) => m / 1000) };
}

/** One sentence about a curve, for readers without the chart (no JavaScript, a screen reader). */
export function describeCurve(points: readonly LossPoint[]): string {
  const bpb = (p: LossPoint) => (p.loss / Math.LN2).toFixed(3);
  const first = points[0];
  const last = points[points.length - 1];
  let low = first;
  for (const p of points) if (p.loss < low.loss) low = p;
  const shown = Math.min(points.length, SHOWN_POINTS);
  return `Training loss went from ${bpb(first)} bits per byte at step ${first.step} to ${bpb(last)} at step ${last.step} (lowest ${bpb(low)} at step ${low.step}); ${shown === points.length ? `${shown} points` : `${shown} of the ${points.length} points recorded`}.`;
}
