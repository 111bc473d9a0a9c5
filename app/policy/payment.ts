// How an author pays for an experiment: from their balance when it covers the cost (the ledger
// audit allows no overdraft), else with one of the day's free-tier runs (amount 0), else it waits.
// An author in debt (a balance below zero: credits they had spent were reversed since) gets no
// free-tier run either, until their runners earn the debt back.
import { FREE_TIER_REASON } from '../../ledger/index.js';

export type Payment = { amount: number; reason: string } | null;

/** One credit = one second of training on the reference class, so a run costs its budget. */
export function experimentCost(budgetSeconds: number): number {
  return budgetSeconds;
}

export function payment(balance: number, cost: number, freeRunsLeft: number): Payment {
  if (balance >= cost) return { amount: cost, reason: 'experiment' };
  if (freeRunsLeft > 0 && balance >= 0) return { amount: 0, reason: FREE_TIER_REASON };
  return null;
}
