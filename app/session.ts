// Everything one webhook's handling needs: the installation client, the repository, its
// settings, its ledger and a clock. Built once per event; holds no state between events.
import type { Context } from 'probot';
import type { LedgerEntry, LedgerStore, NewEntriesFor, NewEntry } from '../ledger/index.js';
import type { SealKeyPair } from '../trainer/seal.js';
import { CONFIG_FILE, loadConfig, loadConfigText, type LoadedConfig } from './config.js';
import { status, type Octo, type RepoRef } from './github/octokit.js';
import { stickyAuthor } from './github/sticky-comment.js';

export interface AppDeps {
  /** the ledger of a repository (GitHubLedgerStore on its `ledger` branch in production) */
  ledgerFor(octokit: Octo, repo: RepoRef): LedgerStore;
  now(): Date;
  /**
   * The App's seal key pair (trainer/seal.ts), derived from its GitHub App private key: every
   * dispatch carries its public key, and the App opens the checkpoint digests runs seal to it
   * (docs/trust.md, "Replays"). Null: no key (runs are dispatched without one and trust checks
   * re-run with a fresh seed).
   */
  sealKeys?: SealKeyPair | null;
  /** the login of the App's bot user (`<slug>[bot]`), the sender of what its installation token does; null: unknown */
  botLogin?: () => Promise<string | null>;
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
  /** the App's seal key pair, or null (see AppDeps.sealKeys) */
  seal: SealKeyPair | null;
  /** the App's bot login (see AppDeps.botLogin) */
  botLogin(): Promise<string | null>;
}

type RepoPayload = { repository: { name: string; full_name: string; default_branch: string; owner: { login: string } } };

/** The store, with entries stamped by the App's clock (so deadlines and free-tier days use one time). */
export function clocked(store: LedgerStore, now: () => Date): LedgerStore {
  const stamp = (news: NewEntry[]): NewEntry[] => news.map((n) => ({ time: now().toISOString(), ...n }));
  return {
    read: () => store.read(),
    ...(store.readFresh ? { readFresh: () => store.readFresh!() } : {}),
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
 * The config as of `atCommit` (a workflow run's head_sha: a commit's files never change, so it is
 * cached for good) or else the default branch's head.
 */
export async function openSession(context: Context, deps: AppDeps, atCommit?: string): Promise<Session> {
  const { repository } = context.payload as unknown as RepoPayload;
  const repo = { owner: repository.owner.login, repo: repository.name };
  const cfg = await configOf(context.octokit, repo, atCommit ?? repository.default_branch, Boolean(atCommit));
  const botLogin = deps.botLogin ?? (async () => null);
  stickyAuthor(context.octokit, botLogin);
  return {
    octokit: context.octokit,
    repo,
    fullName: repository.full_name,
    defaultBranch: repository.default_branch,
    cfg,
    ledger: clocked(deps.ledgerFor(context.octokit, repo), deps.now),
    log: context.log,
    now: deps.now,
    seal: deps.sealKeys ?? null,
    botLogin,
  };
}

/** Per `owner/repo@ref`: the file's ETag (null for a commit, which never changes) and what it said. */
const configCache = new Map<string, { etag: string | null; cfg: LoadedConfig }>();

/**
 * `.github/autoresearch.yml` at `ref`. A branch is revalidated with If-None-Match on every event:
 * GitHub answers 304 while the file is unchanged, and a 304 does not count against the
 * installation's rate limit, so the App always acts on the current settings for free.
 */
export async function configOf(octokit: Octo, repo: RepoRef, ref: string, immutable = false): Promise<LoadedConfig> {
  const key = `${repo.owner}/${repo.repo}@${ref}`;
  const known = configCache.get(key);
  if (known && immutable) return known.cfg;
  let cfg: LoadedConfig;
  let etag: string | null = null;
  try {
    const res = await octokit.rest.repos.getContent({ ...repo, path: `.github/${CONFIG_FILE}`, ref, headers: known?.etag ? { 'if-none-match': known.etag } : {} });
    const data = res.data as { type?: string; content?: string };
    if (Array.isArray(res.data) || data.type !== 'file') throw Object.assign(new Error('not a file'), { status: 404 });
    cfg = loadConfigText(Buffer.from(data.content ?? '', 'base64').toString('utf8'));
    etag = immutable ? null : (res.headers.etag ?? null);
  } catch (e) {
    if (status(e) === 304 && known) return known.cfg;
    if (status(e) !== 404) throw e;
    cfg = loadConfig(null);
  }
  if (configCache.size > 256) configCache.clear();
  configCache.set(key, { etag, cfg });
  return cfg;
}

/** Forgets cached configs (tests count calls from a cold start). */
export function clearConfigCache(): void {
  configCache.clear();
}
