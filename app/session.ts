// Everything one webhook's handling needs: the installation client, the repository, its
// settings, its ledger and a clock. Built once per event; holds no state between events.
import type { Context } from 'probot';
import type { LedgerEntry, LedgerStore, NewEntriesFor, NewEntry } from '../ledger/index.js';
import { CONFIG_FILE, loadConfig, type LoadedConfig } from './config.js';
import type { Octo, RepoRef } from './github/octokit.js';

export interface AppDeps {
  /** the ledger of a repository (GitHubLedgerStore on its `ledger` branch in production) */
  ledgerFor(octokit: Octo, repo: RepoRef): LedgerStore;
  now(): Date;
}

export interface Session {
  octokit: Octo;
  repo: RepoRef;
  fullName: string;
  defaultBranch: string;
  cfg: LoadedConfig;
  ledger: LedgerStore;
  log: Context['log'];
  now(): Date;
}

type RepoPayload = { repository: { name: string; full_name: string; default_branch: string; owner: { login: string } } };

/** The store, with entries stamped by the App's clock (so deadlines and free-tier days use one time). */
export function clocked(store: LedgerStore, now: () => Date): LedgerStore {
  const stamp = (news: NewEntry[]): NewEntry[] => news.map((n) => ({ time: now().toISOString(), ...n }));
  return {
    read: () => store.read(),
    append: (news: NewEntry[], files?: Record<string, string>) => store.append(stamp(news), files),
    ...(store.appendFor ? { appendFor: (build: NewEntriesFor, files?: Record<string, string>) => store.appendFor!((entries) => stamp(build(entries)), files) } : {}),
  };
}

/**
 * Appends what `build` makes of the ledger, in one commit. With a store that rebuilds on a
 * conflict (appendFor), `build` sees the chain it really appends to, so a second App process
 * handling the same event finds the work done and appends nothing. Returns the entries added.
 */
export async function appendBuilt(s: Session, current: LedgerEntry[], build: (entries: LedgerEntry[]) => NewEntry[], files: Record<string, string> = {}): Promise<LedgerEntry[]> {
  if (s.ledger.appendFor) return s.ledger.appendFor(build, files);
  const news = build(current);
  return news.length || Object.keys(files).length ? s.ledger.append(news, files) : [];
}

/**
 * `atCommit`: read the config as of that default-branch commit (a workflow run's head_sha) and
 * cache it, since a commit's files never change; otherwise read the default branch's head.
 */
export async function openSession(context: Context, deps: AppDeps, atCommit?: string): Promise<Session> {
  const { repository } = context.payload as unknown as RepoPayload;
  const repo = { owner: repository.owner.login, repo: repository.name };
  let raw: unknown;
  const key = atCommit ? `${repository.full_name}@${atCommit}` : null;
  if (key && configCache.has(key)) raw = configCache.get(key);
  else if (atCommit) {
    const { config, files } = await context.octokit.config.get({ ...repo, path: `.github/${CONFIG_FILE}`, branch: atCommit });
    raw = files.some((f) => f.config !== null) ? config : null;
    if (configCache.size > 256) configCache.clear();
    configCache.set(key!, raw);
  } else raw = await context.config(CONFIG_FILE);
  const cfg = loadConfig(raw);
  return {
    octokit: context.octokit,
    repo,
    fullName: repository.full_name,
    defaultBranch: repository.default_branch,
    cfg,
    ledger: clocked(deps.ledgerFor(context.octokit, repo), deps.now),
    log: context.log,
    now: deps.now,
  };
}

const configCache = new Map<string, unknown>();

/** Forgets cached configs (tests count calls from a cold start). */
export function clearConfigCache(): void {
  configCache.clear();
}
