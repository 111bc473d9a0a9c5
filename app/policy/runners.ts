// Which runner should verify a claim. GitHub's `runs-on` cannot exclude a label, so the App
// targets the `owner-<login>` label of an online, idle runner of the same class owned by
// someone else; the result is checked on return (class and owner) whatever runner took it.
// node:crypto is read at call time (crypto.randomInt), so the simulator can seed it: see sim/determinism.ts
import crypto from 'node:crypto';
export interface ApiRunner {
  name: string;
  status: string; // online | offline
  busy: boolean;
  labels: { name: string }[];
}

export const OWNER_LABEL_PREFIX = 'owner-';

export function runnerOwner(r: ApiRunner): string | null {
  const l = r.labels.find((x) => x.name.startsWith(OWNER_LABEL_PREFIX));
  return l ? l.name.slice(OWNER_LABEL_PREFIX.length) : null;
}

/**
 * The label to target for a verify run, or null when no other owner has a runner on that class: an
 * idle runner when there is one, else a busy one (it takes the job after its current one), **drawn**
 * among them by `draw` in [0, 1) (by default from node:crypto, at call time). The first by name was
 * a fixed choice: with every runner busy, every verify run of a class went to the owner whose runner
 * name sorts first (the simulator's lazy runner verified 41% of its class's claims, echoing them) and
 * queued behind it past the deadline. An adversary could pick such a login; a draw it cannot predict
 * spreads the checks over the eligible owners.
 */
export function pickVerifierLabel(runners: ApiRunner[], hardwareClass: string, excludeOwners: string[], draw: number = crypto.randomInt(2 ** 31) / 2 ** 31): string | null {
  const excluded = new Set(excludeOwners.map((o) => o.toLowerCase()));
  const candidates = runners.filter((r) => {
    const owner = runnerOwner(r);
    return r.status === 'online' && owner !== null && !excluded.has(owner.toLowerCase()) && r.labels.some((l) => l.name === hardwareClass);
  });
  // idle ones first; a busy runner still takes the job after its current one. One draw per owner
  // (an owner's several runners do not weigh more), in a fixed order so that a given draw is reproducible.
  const idle = candidates.some((r) => !r.busy);
  const owners = [...new Set(candidates.filter((r) => !idle || !r.busy).map((r) => runnerOwner(r)!))].sort();
  const chosen = owners.length ? owners[Math.min(owners.length - 1, Math.floor(Math.max(0, draw) * owners.length))] : null;
  return chosen ? `${OWNER_LABEL_PREFIX}${chosen}` : null;
}

/**
 * Where a verify run goes: an online runner's owner (pickVerifierLabel), else, while every eligible
 * runner of the class is offline, an offline one's owner label: GitHub queues a job until a runner
 * with its labels comes online (and fails it after 24 h queued; the App re-dispatches an overdue job
 * before that). The class label instead could be taken by an owner the run excludes, whose result is
 * refused and the job run again (a dispute in a class of three owners ran max_attempts times so).
 * null: GitHub lists no runner of the class outside `excludeOwners` (an ephemeral one is off the list
 * between jobs: app/waiting.ts verifierFor then asks the ledger's registrations).
 */
export function verifierTarget(runners: ApiRunner[], hardwareClass: string, excludeOwners: string[], draw?: number): string | null {
  const asOnline = runners.filter((r) => r.status === 'offline').map((r) => ({ ...r, status: 'online', busy: false }));
  return pickVerifierLabel(runners, hardwareClass, excludeOwners, draw) ?? pickVerifierLabel(asOnline, hardwareClass, excludeOwners, draw);
}

/** Hardware classes of online runners (labels that look like a class). */
export function onlineClasses(runners: ApiRunner[]): string[] {
  const classes = new Set<string>();
  for (const r of runners) {
    if (r.status !== 'online') continue;
    for (const l of r.labels) if (/^(gpu|cpu)-/.test(l.name)) classes.add(l.name);
  }
  return [...classes].sort();
}

/**
 * The registration a runner's labels amount to when a repository admin (not the route) created
 * it: owner from its `owner-<login>` label, class from its one class label; null otherwise.
 */
export function fleetRegistration(r: ApiRunner): { runner_name: string; owner: string; hardware_class: string; labels: string[]; registered_by: 'labels' } | null {
  const owner = runnerOwner(r);
  const classes = r.labels.map((l) => l.name).filter((l) => /^(gpu|cpu)-[a-z0-9][a-z0-9-]*$/.test(l));
  if (!owner || classes.length !== 1) return null;
  return { runner_name: r.name, owner, hardware_class: classes[0], labels: r.labels.map((l) => l.name), registered_by: 'labels' };
}
