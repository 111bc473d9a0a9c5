// "Draw on the swarm": a contributor spends credits on a longer training run of a default-branch
// commit or a PR head, asked for with the issue form `.github/ISSUE_TEMPLATE/long-run.yml`.
// Pure: the issue body, the balance and the settings in; a request, a refusal or a cost out.

export const LONG_RUN_LABELS = { requested: 'long-run:requested', scheduled: 'long-run:scheduled', refused: 'long-run:refused' } as const;

/** The form's dropdown, in seconds of training. */
export const LONG_RUN_BUDGETS: Record<string, number> = { '30 minutes': 1800, '1 hour': 3600, '2 hours': 7200, '4 hours': 14400 };

export type LongRunTarget = { kind: 'pr'; pr: number } | { kind: 'commit'; sha: string };

export interface LongRunRequest {
  target: LongRunTarget;
  budget_seconds: number;
  hardware_class: string | null;
  max_credits: number;
  why: string;
}

export type ParsedForm = { ok: true; request: LongRunRequest } | { ok: false; problem: string };

// The form's field labels, as GitHub renders them into the issue body (`### <label>`); they
// must match `.github/ISSUE_TEMPLATE/long-run.yml` (a test checks it).
export const LONG_RUN_FIELDS = { target: 'What to run', budget: 'Training budget', hardware_class: 'Hardware class', max_credits: 'Most credits to spend', why: 'Why', terms: 'Terms' };
const FIELD = LONG_RUN_FIELDS;
const NO_RESPONSE = '_No response_';

/** The `### <label>` sections of an issue-form body, label -> trimmed value ('' for "_No response_"). */
export function formSections(body: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = body.replace(/\r\n/g, '\n').split(/^### +/m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    const label = (nl < 0 ? p : p.slice(0, nl)).trim();
    const value = nl < 0 ? '' : p.slice(nl + 1).trim();
    out.set(label, value === NO_RESPONSE ? '' : value);
  }
  return out;
}

/** The request in a long-run issue's body, or the first field that is wrong and how to fix it. */
export function parseLongRunForm(body: string | null): ParsedForm {
  const f = formSections(body ?? '');
  const bad = (field: keyof typeof FIELD, why: string): ParsedForm => ({ ok: false, problem: `**${FIELD[field]}**: ${why}` });
  const missing = (Object.keys(FIELD) as (keyof typeof FIELD)[]).find((k) => k !== 'hardware_class' && !f.has(FIELD[k]));
  if (missing) return bad(missing, `the issue has no "### ${FIELD[missing]}" section; open the issue with the "Draw on the swarm (long run)" form.`);

  const t = f.get(FIELD.target)!.replace(/`/g, '').trim();
  let target: LongRunTarget;
  const pr = /^#?(\d{1,9})$/.exec(t);
  if (pr) target = { kind: 'pr', pr: Number(pr[1]) };
  else if (/^[0-9a-f]{7,40}$/i.test(t)) target = { kind: 'commit', sha: t.toLowerCase() };
  else return bad('target', `"${t}" is neither a PR number (like \`#42\`) nor a commit SHA (7 to 40 hex digits) of the default branch.`);

  const b = f.get(FIELD.budget)!;
  // an own property only: "constructor" or "__proto__" read off the prototype is no price (every
  // comparison with it is false, so neither the cap nor the balance refused it)
  const budget_seconds = Object.hasOwn(LONG_RUN_BUDGETS, b) ? LONG_RUN_BUDGETS[b] : undefined;
  if (!budget_seconds) return bad('budget', `"${b}" is not one of ${Object.keys(LONG_RUN_BUDGETS).map((k) => `"${k}"`).join(', ')}.`);

  const hc = (f.get(FIELD.hardware_class) ?? '').replace(/`/g, '').trim();
  if (hc && !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(hc)) return bad('hardware_class', `"${hc}" is not a hardware class name (like \`gpu-h100-80gb\`); leave it empty for any class.`);

  const mc = f.get(FIELD.max_credits)!.replace(/[,_ ]/g, '');
  const max_credits = Number(mc);
  if (!mc || !Number.isFinite(max_credits) || max_credits <= 0) return bad('max_credits', `"${f.get(FIELD.max_credits)}" is not a positive number of credits (e.g. \`3600\`).`);

  const why = f.get(FIELD.why)!;
  if (!why) return bad('why', 'say what you expect to learn from the longer run.');
  if (!/^- \[[xX]\]/m.test(f.get(FIELD.terms)!)) return bad('terms', 'tick the box: credits are spent when the run is dispatched, whatever its result.');

  return { ok: true, request: { target, budget_seconds, hardware_class: hc || null, max_credits, why } };
}

/** One credit = one second of training on the reference class, so a long run costs its budget. */
export function longRunCost(budgetSeconds: number): number {
  return budgetSeconds;
}

/** Why the requester cannot have the run (with the numbers), or null when they can. */
export function longRunRefusal(login: string, balance: number, cost: number, maxCredits: number): string | null {
  if (cost > maxCredits) return `the run costs ${cost} credits, more than the most you would spend (${maxCredits}); raise "Most credits to spend" or pick a shorter budget.`;
  if (balance < cost) return `@${login} has ${balance} credits and the run costs ${cost} (${cost - balance} short); earn credits by running a runner for the swarm, or pick a shorter budget.`;
  return null;
}

// The credit_spent reason of a long run names the issue; it lives in the ledger so every reader
// (the App, the leaderboard) tells long runs apart from the ledger alone.
export { longRunReason, longRunIssue } from '../../ledger/long-run.js';
