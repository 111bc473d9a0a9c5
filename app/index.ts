// The App's wiring: each event goes to its handler with a fresh session. Decisions live in
// app/policy/; the handlers only read GitHub, ask the policy and write back.
import type { ApplicationFunction, Context } from 'probot';
import { GitHubLedgerStore, type LedgerStore } from '../ledger/index.js';
import type { Octo, RepoRef } from './github/octokit.js';
import { onInstallation } from './handlers/installation.js';
import { onLongRunIssue, type IssueEvent } from './handlers/long-run.js';
import { onPullRequest, onPullRequestClosed, type PullRequestEvent } from './handlers/pull-request.js';
import { onWorkflowRun, type WorkflowRunEvent } from './handlers/workflow-run.js';
import type { OAuthClient } from './github/token-check.js';
import { keepSchedulesRunning } from './github/schedules.js';
import { registerRunnerRoutes } from './routes/runners.js';
import { openSession, type AppDeps } from './session.js';
import { onWorkflowJob, type WorkflowJobEvent } from './starts.js';
import { sealKeysFromEnv } from './seal-keys.js';

export const LEDGER_BRANCH = 'ledger';

/**
 * `ledgerRetryDelayMs`: the base wait between attempts of a refused or failed ledger append (real
 * milliseconds, 250 by default). The simulator runs in virtual time and sets 0: its GitHub answers
 * at once, and the real waits made a 12-PR fault run take minutes of wall time doing nothing.
 */
export function createApp(overrides: Partial<AppDeps> & { ledgerRetryDelayMs?: number; oauthClient?: OAuthClient | null } = {}): ApplicationFunction {
  const { ledgerRetryDelayMs, oauthClient, ...depsOverrides } = overrides;
  return (app, _options) => {
    // One store per repository per process: it keeps its view of the ledger, so reading costs
    // nothing for 15 minutes after its own write or read, then one conditional GET (a 304 is free).
    // Correctness never depends on the view: every append is a compare-and-swap, rebuilt on conflict.
    const stores = new Map<string, LedgerStore>();
    // The App's bot login, asked of GitHub once per process (GET /app, as the App): what its
    // installation token does, GitHub's webhooks say `sender` did (app/outdated.ts carriedPlace).
    let bot: Promise<string | null> | null = null;
    const botLogin = (): Promise<string | null> =>
      (bot ??= app
        .auth()
        .then(async (octokit) => `${(await octokit.rest.apps.getAuthenticated()).data?.slug}[bot]`)
        .catch((e: Error) => {
          bot = null; // asked again next time
          app.log.warn(`could not learn the App's own login (GET /app): ${e.message}`);
          return null;
        }));
    const deps: AppDeps = {
      ledgerFor: (octokit: Octo, repo: RepoRef) => {
        const key = `${repo.owner}/${repo.repo}`;
        let store = stores.get(key);
        if (!store) {
          store = new GitHubLedgerStore(octokit, { ...repo, branch: LEDGER_BRANCH, ...(ledgerRetryDelayMs !== undefined ? { retryDelayMs: ledgerRetryDelayMs } : {}) });
          stores.set(key, store);
        }
        return store;
      },
      now: () => new Date(Date.now()),
      sealKeys: sealKeysFromEnv(process.env),
      botLogin,
      ...depsOverrides,
    };

    // every event's session: the App's clock (tick.yml) is a scheduled workflow GitHub disables after
    // 60 quiet days, so any event first enables it again (app/github/schedules.ts, once an hour)
    const session = async (context: unknown, sha?: string) => {
      const s = await openSession(context as Context, deps, sha);
      await keepSchedulesRunning(s.octokit, s.repo, s.now().getTime(), s.log);
      return s;
    };

    app.on(['pull_request.opened', 'pull_request.synchronize', 'pull_request.reopened'], async (context) => {
      const s = await session(context);
      await onPullRequest(s, context.payload as unknown as PullRequestEvent);
    });

    app.on('pull_request.closed', async (context) => {
      const s = await session(context);
      await onPullRequestClosed(s, context.payload as unknown as PullRequestEvent);
    });

    app.on('workflow_run.completed', async (context) => {
      const s = await session(context, context.payload.workflow_run.head_sha);
      await onWorkflowRun(s, context.payload as unknown as WorkflowRunEvent);
    });

    // A runner took a job's run: its deadline counts from now (app/starts.ts).
    app.on('workflow_job.in_progress', async (context) => {
      const s = await session(context);
      await onWorkflowJob(s, context.payload as unknown as WorkflowJobEvent);
    });

    // "Draw on the swarm": a long run asked for with the long-run issue form (or its label).
    app.on(['issues.opened', 'issues.labeled'], async (context) => {
      const s = await session(context);
      await onLongRunIssue(s, context.payload as unknown as IssueEvent);
    });

    app.on('installation.created', async (context) => onInstallation(context, deps));
    app.on('installation_repositories.added', async (context) => onInstallation(context, deps));

    // Volunteers' runners: POST /autoresearch/runners/jitconfig (docs/runners.md). It shares the
    // per-repository ledger store, so a registration and an experiment never race on a stale head.
    // Without its HTTP server (tests, app/replay.ts) Probot hands a throwing addHandler: no route then.
    try {
      if (_options.addHandler) registerRunnerRoutes(app, _options.addHandler, { ledgerFor: deps.ledgerFor, ...(oauthClient !== undefined ? { oauthClient } : {}) });
    } catch (e) {
      if ((e as Error).message !== 'No server instance') throw e;
    }
  };
}

export default createApp();
