// The fault a first run brings when it completes a flat pattern (ledger/flat-scores.ts): the
// owner's last first runs on a val_bpb class scatter far less than its class's, as a runner that
// reports scores near the baseline without training does. Pure: the ledger before the result,
// the result's entry and the entries recorded with it in; the fault's entries out.
import { BAND_C, FLAT_P, flatCrossed } from '../../ledger/flat-scores.js';
import type { EntryDataOf, LedgerState, NewEntry } from '../../ledger/index.js';
import { faultEntries, type Run } from './replication.js';

export function flatFault(state: LedgerState, d: EntryDataOf<'result_recorded'>, pending: NewEntry[]): NewEntry[] {
  const policy = state.trust.policy;
  const owner = d.runner_owner;
  if (!policy || !owner || state.trust.banned(owner)) return [];
  if (pending.some((e) => e.type === 'owner_faulted' && (e.data as EntryDataOf<'owner_faulted'>).login.toLowerCase() === owner.toLowerCase())) return [];
  const sample = state.trust.flatSampleOf(d, state.longRuns.has(d.job_id));
  const test = sample ? state.trust.flatOf(owner, d.result!.hardware_class, sample) : null;
  if (!test || !flatCrossed(test)) return [];
  const b = test.band;
  const cls = d.result!.hardware_class;
  const why = test.p < FLAT_P
    ? `${owner}'s last ${test.n} first runs on ${cls} scatter by ${(test.sd * 1000).toFixed(1)} mbpb around their mean, where its class's other owners scatter by ${(test.scale * 1000).toFixed(1)} (chance ${test.p.toExponential(1)} for an owner who trains`
    : `${b!.k} of ${owner}'s last ${b!.n} first runs on ${cls} sit within ${(BAND_C * test.scale * 1000).toFixed(1)} mbpb of their median, where at most ${(b!.share * 100).toFixed(0)}% of its class's other owners' do (chance ${b!.p.toExponential(1)} for an owner who trains`;
  const reason = `flat scores: ${why}, a fault below ${FLAT_P}): scores near the baseline without the training`;
  const own = (id: string): Run => ({ job_id: id, owner, val_bpb: null });
  const out = faultEntries(state, policy, d.job_id, [own(d.job_id)], test.job_ids.map(own), reason, undefined, { flat: { n: test.n, sd: test.sd, scale: test.scale, q: test.q, p: test.p, ...(b ? { band: b } : {}) } });
  // The runs the test cites are the evidence: as a set, scores no training produced. Their credit
  // goes too, granted or not, where a replay's score agreed with them (all a score replay shows on
  // a GPU class is a plausible score), unless a bit-exact replay proved the training. Before, a
  // guesser kept every cited run another owner's replay had agreed with until a second fault
  // banned it ~25 first runs later (test/app/flat-scores.test.ts; session 20).
  for (const j of test.job_ids) {
    const g = state.grants.get(j);
    if (!g || state.reversals.has(j) || state.trust.proven.has(j) || out.some((e) => e.type === 'credit_reversed' && (e.data as { job_id: string }).job_id === j)) continue;
    out.push({ type: 'credit_reversed', data: { login: g.data.login, amount: g.data.amount, job_id: j, reason: `fault: ${reason}` } });
  }
  return out;
}
