// The progress chart's data for one hardware class: every experiment as a point in time order,
// plus the staircase of the running best (baselines of the default branch and merged improvements).
import type { ApiProgress } from './api-schema.js';
import { API_VERSION } from './api-schema.js';
import type { Baseline, Experiment, Merge } from './experiments.js';

interface Row {
  seq: number;
  t: number;
  bpb: number | null;
  kind: ApiProgress['kind'][number];
  id: number | null;
  pr: number | null;
  title: string | null;
  /** what this row does to the running best */
  lowers: number | null;
}

export function progressFor(cls: string, experiments: readonly Experiment[], baselines: readonly Baseline[], merges: readonly Merge[]): ApiProgress {
  const rows: Row[] = [];
  const unix = (iso: string) => Date.parse(iso) / 1000;
  for (const b of baselines) {
    if (b.hardware_class === cls) rows.push({ seq: b.seq, t: unix(b.time), bpb: b.mean, kind: 'baseline', id: null, pr: null, title: null, lowers: b.mean });
  }
  // a merge lowers the best at the time of the merge, not of its result
  const mergeAt = new Map<string, Merge>();
  for (const m of merges) if (m.hardware_class === cls) mergeAt.set(`${m.pr}:${m.sha}`, m);
  for (const e of experiments) {
    if (e.hardware_class !== cls) continue;
    const merge = e.status === 'merged' ? mergeAt.get(`${e.pr}:${e.sha}`) : undefined;
    rows.push({ seq: merge?.seq ?? e.seq, t: unix(merge?.time ?? e.time), bpb: e.val_bpb, kind: e.status, id: e.seq, pr: e.pr, title: e.status === 'merged' ? e.title : null, lowers: e.status === 'merged' ? e.val_bpb : null });
  }
  rows.sort((a, b) => a.t - b.t || a.seq - b.seq);

  const out: Required<ApiProgress> = { schema_version: API_VERSION, hardware_class: cls, t: [], bpb: [], best: [], kind: [], id: [], pr: [], title: [] };
  let best: number | null = null;
  for (const r of rows) {
    if (r.lowers !== null && (best === null || r.lowers < best)) best = r.lowers;
    out.t.push(r.t);
    out.bpb.push(r.bpb);
    out.best.push(best);
    out.kind.push(r.kind);
    out.id.push(r.id);
    out.pr.push(r.pr);
    out.title.push(r.title);
  }
  return out;
}
