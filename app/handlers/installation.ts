// On install, and when repositories are added to an installation: baseline runs of each
// repository's default branch on every hardware class with an online runner, so the first
// experiments have something to beat.
import type { Context } from 'probot';
import { dispatchAllowed } from '../containment-gate.js';
import { dispatchJobs } from '../dispatch.js';
import { viewOf } from '../ledger-view.js';
import { onlineClasses } from '../policy/runners.js';
import { listRunners } from '../github/runners.js';
import { clocked, configOf, type AppDeps, type Session } from '../session.js';
import { stickyAuthor } from '../github/sticky-comment.js';
import { baselineJobs } from '../baselines.js';

export async function onInstallation(
  context: Context<'installation.created'> | Context<'installation_repositories.added'>,
  deps: AppDeps,
): Promise<void> {
  const p = context.payload;
  const repos = 'repositories_added' in p ? p.repositories_added : (p.repositories ?? []);
  for (const r of repos) {
    const [owner, name] = r.full_name.split('/');
    const repo = { owner, repo: name };
    const octokit = context.octokit;
    const { data: meta } = await octokit.rest.repos.get(repo);
    const cfg = await configOf(octokit, repo, meta.default_branch);
    const botLogin = deps.botLogin ?? (async () => null);
    stickyAuthor(octokit, botLogin);
    const s: Session = { octokit, repo, fullName: r.full_name, defaultBranch: meta.default_branch, cfg, ledger: clocked(deps.ledgerFor(octokit, repo), deps.now), log: context.log, now: deps.now, seal: deps.sealKeys ?? null, botLogin };
    const { data: head } = await octokit.rest.git.getRef({ ...repo, ref: `heads/${meta.default_branch}` });
    const runners = await listRunners(octokit, repo);
    const view = viewOf(await s.ledger.read());
    if (!(await dispatchAllowed(s, view))) continue;
    const jobs = onlineClasses(runners).flatMap((cls) => baselineJobs(view, cls, head.object.sha, cfg.config));
    await dispatchJobs(s, jobs);
    context.log.info(`${r.full_name}: ${jobs.length} baseline runs dispatched on ${head.object.sha.slice(0, 7)}`);
  }
}
