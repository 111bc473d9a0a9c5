// Who proposed what and whose GPUs ran it. Credits come from the ledger module's own balance
// computation (passed in); this module only counts experiments, merges, runners and GPU time.
import type { LedgerEntry } from '../../ledger/entries.js';
import type { ApiContributor, ApiRunner } from './api-schema.js';
import { isEntry, type Experiment } from './experiments.js';
import { ownerTrust } from './owner-trust.js';

/** The fields of the ledger's Balance that the leaderboard shows. */
export interface BalanceFigures {
  earned: number;
  pending: number;
  spent: number;
  reversed: number;
  balance: number;
}

/**
 * A run's GPU time as the site counts it: its result's total_seconds is the runner's own claim (a
 * claim of 1e308 twice summed to Infinity, which JSON writes as null), so it counts at most the job
 * time GitHub measured (`job_seconds`), as the ledger's credits do; an older entry without one, at
 * most twice the budget its dispatch gave (the harness stops every phase well within that).
 */
function givenSeconds(d: Pick<LedgerEntry<'result_recorded'>['data'], 'job_seconds' | 'result'>): number {
  const r = d.result;
  if (!r) return 0;
  const cap = typeof d.job_seconds === 'number' ? d.job_seconds : 2 * r.budget_seconds;
  return Math.min(r.total_seconds, cap);
}

export function contributorsAndRunners(
  entries: readonly LedgerEntry[],
  experiments: readonly Experiment[],
  balances: ReadonlyMap<string, BalanceFigures>,
): { contributors: ApiContributor[]; runners: ApiRunner[] } {
  const people = new Map<string, ApiContributor>();
  const person = (login: string): ApiContributor => {
    let p = people.get(login);
    if (!p) {
      const b = balances.get(login);
      p = { login, experiments: 0, merged: 0, gpu_seconds: 0, earned: b?.earned ?? 0, pending: b?.pending ?? 0, spent: b?.spent ?? 0, reversed: b?.reversed ?? 0, balance: b?.balance ?? 0 };
      people.set(login, p);
    }
    return p;
  };
  for (const login of balances.keys()) person(login);
  for (const e of experiments) {
    if (!e.author) continue;
    const p = person(e.author);
    p.experiments++;
    if (e.status === 'merged') p.merged++;
  }

  const runners = new Map<string, ApiRunner>();
  for (const e of entries) {
    if (isEntry(e, 'runner_registered')) {
      const d = e.data;
      runners.set(d.runner_name, { runner_name: d.runner_name, owner: d.owner, hardware_class: d.hardware_class, labels: d.labels, active: true, jobs: runners.get(d.runner_name)?.jobs ?? 0, gpu_seconds: runners.get(d.runner_name)?.gpu_seconds ?? 0 });
      person(d.owner);
    } else if (isEntry(e, 'runner_retired')) {
      const r = runners.get(e.data.runner_name);
      if (r) r.active = false;
    } else if (isEntry(e, 'result_recorded')) {
      // GPU time given counts validated runs of every role (candidate, baseline, verify).
      const d = e.data;
      if (!d.validated || !d.result || !d.runner_owner) continue;
      const seconds = givenSeconds(d);
      person(d.runner_owner).gpu_seconds += seconds;
      const r = d.runner_name ? runners.get(d.runner_name) : undefined;
      if (r) {
        r.jobs++;
        r.gpu_seconds += seconds;
      }
    }
  }
  const trust = ownerTrust(entries as LedgerEntry[]);
  for (const p of people.values()) p.trust = trust.get(p.login.toLowerCase()) ?? null;
  const contributors = [...people.values()].sort((a, b) => b.merged - a.merged || b.experiments - a.experiments || b.gpu_seconds - a.gpu_seconds || a.login.localeCompare(b.login));
  const runnerList = [...runners.values()].sort((a, b) => a.hardware_class.localeCompare(b.hardware_class) || a.runner_name.localeCompare(b.runner_name));
  return { contributors, runners: runnerList };
}
