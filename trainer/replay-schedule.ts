// The one wall-clock input to training, written down so that a run can be replayed.
//
// A candidate's `trainStep(x, y, progress)` gets `progress` in [0, 1]: the fraction of the budget
// spent. It is the only thing the clock feeds into training (the data order comes from the
// dispatched seed, the initial weights from the seed handed to `createModel`). The supervisor
// quantizes it to 1/QUANTUM of the budget and records, for every level, the first step that saw
// it. With the step count, those marks are the run's schedule: a replay serves the same batches
// with the same progress values for the same number of steps and, on a deterministic backend,
// ends with the same checkpoint bit for bit, whatever the pace of either machine (docs/trust.md,
// "Replays").
//
// Encoding (fits a workflow_dispatch input): `v1.<steps>.<base64url of LEB128 varints>`, the
// varints being the marks as deltas (the first from step 0). At most QUANTUM marks, so at most a
// few kB whatever the step count.

export const QUANTUM = 1024;
/** more steps than any budget allows on any machine; a bound for parsing untrusted schedules */
export const MAX_STEPS = 100_000_000;
const PREFIX = 'v1';

export interface Schedule {
  /** batches served (the steps trained) */
  steps: number;
  /** marks[q]: the first step (0-based) whose progress was at least (q + 1) / QUANTUM; non-decreasing, each < steps */
  marks: number[];
}

/** The quantized progress for a fraction of the budget spent. */
export function quantize(fraction: number): number {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return Math.floor(f * QUANTUM) / QUANTUM;
}

/** Records the progress of each served step; `progress(step, fraction)` must be called with steps 0, 1, 2, ... */
export class ScheduleRecorder {
  private readonly marks: number[] = [];
  private next = 0;

  /** The progress to hand to the candidate for step `step` (0-based), `fraction` of the budget spent. */
  progress(step: number, fraction: number): number {
    if (step !== this.next) throw new Error(`schedule: expected step ${this.next}, got ${step}`);
    this.next++;
    const level = Math.round(quantize(fraction) * QUANTUM);
    while (this.marks.length < level) this.marks.push(step);
    return this.marks.length / QUANTUM;
  }

  schedule(): Schedule {
    return { steps: this.next, marks: [...this.marks] };
  }
}

/** The progress a replay hands to the candidate at each step; call with steps 0, 1, 2, ... */
export class ScheduleReplayer {
  private level = 0;
  constructor(readonly schedule: Schedule) {}

  progress(step: number): number {
    const m = this.schedule.marks;
    while (this.level < m.length && m[this.level] <= step) this.level++;
    return this.level / QUANTUM;
  }
}

/** The schedule of a run of `steps` steps whose progress grows evenly with the step: a step budget. */
export function linearSchedule(steps: number): Schedule {
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) throw new Error(`a step budget must be an integer from 1 to ${MAX_STEPS}, got ${steps}`);
  const r = new ScheduleRecorder();
  for (let i = 0; i < steps; i++) r.progress(i, i / steps);
  return r.schedule();
}

export function encodeSchedule(s: Schedule): string {
  const bytes: number[] = [];
  let prev = 0;
  for (const m of s.marks) {
    let d = m - prev;
    prev = m;
    do {
      let b = d & 0x7f;
      d = Math.floor(d / 128);
      if (d > 0) b |= 0x80;
      bytes.push(b);
    } while (d > 0);
  }
  return `${PREFIX}.${s.steps}.${Buffer.from(bytes).toString('base64url')}`;
}

/** Parses an untrusted schedule; one error naming what is wrong. */
export function decodeSchedule(text: string): Schedule {
  const bad = (why: string): never => {
    throw new Error(`invalid replay schedule (${why}); it must be the "replay.schedule" of a result.json, as written by the harness: v1.<steps>.<base64url>`);
  };
  if (typeof text !== 'string' || text.length > 16 * QUANTUM) bad('not a string of at most 16 kB');
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) bad(`expected three dot-separated parts starting with ${PREFIX}`);
  if (!/^[0-9]{1,9}$/.test(parts[1])) bad('the step count is not a number');
  const steps = Number(parts[1]);
  if (steps < 1 || steps > MAX_STEPS) bad(`the step count must be 1 to ${MAX_STEPS}`);
  if (!/^[A-Za-z0-9_-]*$/.test(parts[2])) bad('the marks are not base64url');
  const bytes = Buffer.from(parts[2], 'base64url');
  const marks: number[] = [];
  let prev = 0;
  for (let i = 0; i < bytes.length; ) {
    let d = 0;
    let mul = 1;
    for (;;) {
      if (i >= bytes.length) bad('a mark is cut short');
      const b = bytes[i++];
      d += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) break;
      if (mul > 2 ** 35) bad('a mark is too long');
    }
    prev += d;
    if (prev >= steps) bad(`a mark (${prev}) is past the last step (${steps - 1})`);
    marks.push(prev);
    if (marks.length > QUANTUM) bad(`more than ${QUANTUM} marks`);
  }
  return { steps, marks };
}
