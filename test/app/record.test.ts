// Recording a job's outcome once, on the chain the append lands on (app/record.ts).
import { describe, expect, it } from '@jest/globals';
import { appendEntries, type NewEntry } from '../../ledger/index.js';
import { resultEntry } from '../../app/dispatch.js';
import { viewOf } from '../../app/ledger-view.js';
import { once } from '../../app/record.js';

const T = '2026-12-01T00:00:00.000Z';
const job = (job_id: string): NewEntry => ({
  type: 'job_dispatched',
  data: { job_id, role: 'baseline', repo: 'o/r', pr: null, sha: 'a'.repeat(40), author: null, hardware_class: 'cpu-x', eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null },
  time: T,
});
const ran = (job_id: string): NewEntry => ({ ...resultEntry({ job_id, role: 'baseline', pr: null, sha: 'a'.repeat(40), author: null }, { runner_owner: 'mallory', runner_name: 'r-m', validated: true }), time: T });
const grant: NewEntry = { type: 'credit_granted', data: { login: 'mallory', amount: 18.6, job_id: 'j1', hardware_class: 'cpu-x', class_weight: 1, train_seconds: 300, weight_basis: 'test' }, time: T };
const reversal = (amount: number): NewEntry => ({ type: 'credit_reversed', data: { login: 'mallory', amount, job_id: 'j1', reason: 'fault: outvoted' }, time: T });

describe('a result recorded on a view older than the chain it lands on', () => {
  it('restates a reversal decided before the job was granted: reversed in full, as the audit requires (seed 1, 200 PRs, faults: "credit_reversed of 0 but job ... was granted 18.6")', () => {
    const seen = appendEntries([], [job('j1'), ran('j1'), job('j2')]);
    const chain = appendEntries(seen, [grant]); // another process granted j1 meanwhile
    const news = once(viewOf(seen), 'j2', [ran('j2'), reversal(0)])(chain)!;
    expect(news.filter((n) => n.type === 'credit_reversed').map((n) => n.data)).toEqual([expect.objectContaining({ job_id: 'j1', amount: 18.6 })]);
  });

  it('does not reverse a job twice when another process reversed it meanwhile', () => {
    const seen = appendEntries([], [job('j1'), ran('j1'), job('j2'), grant]);
    const chain = appendEntries(seen, [reversal(18.6)]);
    const news = once(viewOf(seen), 'j2', [ran('j2'), reversal(18.6)])(chain)!;
    expect(news.filter((n) => n.type === 'credit_reversed')).toEqual([]);
  });
});
