// One repository with the App installed, for the scenario tests and the benchmark: a fake
// GitHub (see fake-github.ts), a Probot instance running the real App, a seeded ledger, and
// helpers that open PRs and complete workflow runs the way GitHub would.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Bottleneck from 'bottleneck';
import nock from 'nock';
import { Probot, ProbotOctokit } from 'probot';
import { createApp } from '../../app/index.js';
import { appOctokit } from '../../app/github/throttle.js';
import { clearFileCache } from '../../app/github/files.js';
import { clearHashCache } from '../../app/github/hashes.js';
import { clearConfigCache } from '../../app/session.js';
import { forgetForkApprovalPolicies } from '../../app/github/fork-approval.js';
import { forgetScheduleChecks } from '../../app/github/schedules.js';
import { clearCompareCache } from '../../app/outdated.js';
import { appendEntries, auditLedger, ledgerFiles, parseLedgerText, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { harnessSha256, sha256 } from '../../trainer/harness-version.js';
import { ExperimentResult, RESULT_SCHEMA_VERSION } from '../../trainer/result.js';
import { encodeSchedule, linearSchedule } from '../../trainer/replay-schedule.js';
import { seal, sealKeyPairFrom, type SealKeyPair } from '../../trainer/seal.js';
import { expectRealGitHubCalls, resetRecordedCalls } from '../helpers/openapi.js';
import { afterEach, expect } from '@jest/globals';
import { APP_BOT, FakeGitHub, OWNER, REPO, userIdOf } from './fake-github.js';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples') as { name: string; examples: any[] }[];
const example = (name: string, action: string) => structuredClone(examples.find((e) => e.name === name)!.examples.find((x) => x.action === action));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

export const CLASS = 'gpu-test';
const EXPERIMENT_YML = readFileSync(new URL('../../.github/workflows/experiment.yml', import.meta.url), 'utf8');
const TICK_YML = readFileSync(new URL('../../.github/workflows/tick.yml', import.meta.url), 'utf8');
export const BASE_TRAIN = 'export const LR = 3e-4;\n// the default training file\n';
export const HARNESS = { 'trainer/bpb.ts': 'export const bits = 8;\n', 'trainer/result.ts': 'export const v = 1;\n' };

export interface WorldOptions {
  config?: string | null;
  /**
   * 'legacy' (default): the config gets `trust: {replicate_until: 0, spot_check_rate: 0}` and
   * `runners: {min_account_age_days: 0}` unless it sets them, so scenarios about other things see
   * every owner trusted and no spot checks; 'policy': the config as given (the trust defaults).
   */
  trust?: 'legacy' | 'policy';
  retries?: boolean;
  seed?: NewEntry[];
  /** the App has a seal key (default): dispatches carry it, and honest results seal their checkpoint digest to it */
  seal?: boolean;
  /** 'default': the App's default screen (0.8); else, unless the config sets one, `verification.screen: 1` (the scenarios' scores assume it) */
  screen?: 'default';
}

/**
 * How a pushed commit is made (red-team tests): `parent`, the commit it is made on (default: the
 * default branch's head); `listed`, GitHub's list of the PR's changed files (default: `changes`,
 * as against the default branch), e.g. as listed against another base branch.
 */
export interface PushShape {
  parent?: string;
  listed?: { filename: string; status: string; previous_filename?: string }[];
}

let notModified = 0;
/** Answers of 304 Not Modified to conditional requests since the last reset: GitHub does not count them against the rate limit. */
export function notModifiedCalls(): number {
  return notModified;
}
export function resetNotModified(): void {
  notModified = 0;
}
function countNotModified(octokit: any): void {
  octokit.hook.error('request', (e: any) => {
    if (e?.status === 304) notModified++;
    throw e;
  });
}

export class World {
  /** the world of the running test, for checks after it */
  static last: World | null = null;
  gh = new FakeGitHub();
  probot: Probot;
  main: string;
  clock = new Date('2026-11-24T12:00:00Z');
  private runId = 5000;
  /** the App's seal key pair (derived from its private key, as in production), or null */
  sealKeys: SealKeyPair | null;

  constructor(opts: WorldOptions = {}) {
    World.last = this;
    this.sealKeys = opts.seal === false ? null : sealKeyPairFrom(privateKey);
    nock.cleanAll();
    nock.disableNetConnect();
    resetRecordedCalls();
    clearFileCache();
    clearHashCache();
    clearConfigCache();
    forgetForkApprovalPolicies();
    forgetScheduleChecks();
    clearCompareCache();
    // GitHub's clock is the App's (a job's started_at, a run's times)
    this.gh = new FakeGitHub({ now: () => this.clock.getTime() });
    let config = opts.config === undefined ? 'max_in_flight: 2\nclose_on_discard: false\n' : opts.config;
    if (config !== null && (opts.trust ?? 'legacy') === 'legacy') {
      if (!/^trust:/m.test(config)) config += '\ntrust:\n  replicate_until: 0\n  spot_check_rate: 0\n';
      if (!/^runners:/m.test(config)) config += '\nrunners:\n  min_account_age_days: 0\n';
      // one verify run by another owner suffices (the default quorum is 2: docs/trust.md)
      // (scenario scores jump 0.1-0.5 bpb; the suspicious-jump rule has its own tests: test/app/outcome.test.ts)
      if (!/^verification:/m.test(config)) config += '\nverification:\n  quorum: 1\n  min_sigma_df: 0\n  suspicious_jump: 10\n';
    }
    // The scenarios' scores were written against a screen of one standard error (a first run of 1.99
    // against the baseline 2.0, sigma 0.01, just misses 1.9899); the default is 0.8 since session 13
    // (docs/trust.md 2a), exercised by the simulator and `screen: 'default'` here.
    if (config !== null && opts.screen !== 'default' && !/^\s+screen:/m.test(config)) {
      config = /^verification:/m.test(config) ? config.replace(/^verification:\n/m, 'verification:\n  screen: 1\n') : `${config}\nverification:\n  screen: 1\n`;
    }
    // the real experiment workflow: GitHub checks a dispatch's inputs against it and runs it in its concurrency group
    this.main = this.gh.commit({ ...HARNESS, 'trainer/train.ts': BASE_TRAIN, '.github/workflows/experiment.yml': EXPERIMENT_YML, '.github/workflows/tick.yml': TICK_YML, ...(config !== null ? { '.github/autoresearch.yml': config } : {}) }, null, 'initial');
    this.gh.refs.set('heads/main', this.main);
    const seed: NewEntry[] = opts.seed ?? [
      { type: 'runner_registered', data: { runner_name: 'runner-a', owner: 'alice', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-alice'], owner_created_at: '2015-01-01T00:00:00Z' } },
      { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'bob', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-bob'], owner_created_at: '2015-01-01T00:00:00Z' } },
      // (n 41: a class whose sigma is measured, 40 degrees of freedom; the merge bound k = 3.5 widens to 3.81)
      { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: this.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } },
    ];
    const entries = appendEntries([], seed.map((e) => ({ ...e, time: '2026-11-24T11:00:00.000Z' })));
    this.gh.refs.set('heads/ledger', this.gh.commit(ledgerFiles(entries), null, 'ledger'));
    this.gh.runners = [
      { id: 1, name: 'runner-a', status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-alice'] },
      { id: 2, name: 'runner-b', status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-bob'] },
    ];
    // With retries: the Octokit `npm start` hands Probot (app/github/throttle.ts), under Probot's
    // own production settings, with time compressed (a second of GitHub's waits is 1 ms here, and
    // writes are not spaced 1 s apart); its rate-limit callbacks are the production ones.
    const Base = opts.retries ? appOctokit({ msPerSecond: 1, throttle: { write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }) } }) : ProbotOctokit;
    const retry = opts.retries ? { retry: { enabled: true, retryAfterBaseValue: 1 } } : { retry: { enabled: false }, throttle: { enabled: false } };
    this.makeProbot = () => {
      const Octokit = Base.defaults((o: any) => ({ ...o, ...retry })).plugin(countNotModified) as typeof ProbotOctokit;
      const p = new Probot({ appId: 1, privateKey, Octokit, log: silentLog() as any });
      p.load(createApp({ now: () => this.clock, sealKeys: this.sealKeys }));
      return p;
    };
    this.probot = this.makeProbot();
  }

  /** Replaces the ledger branch with `seed` (a fresh world's, before any event). */
  seedLedger(seed: NewEntry[]): void {
    const entries = appendEntries([], seed.map((e) => ({ ...e, time: '2026-11-24T11:00:00.000Z' })));
    this.gh.refs.set('heads/ledger', this.gh.commit(ledgerFiles(entries), null, 'ledger'));
  }

  /** Another App process (its own caches and ledger store) on the same GitHub. */
  makeProbot: () => Probot;

  ledger(): LedgerEntry[] {
    const files = this.gh.ledgerFiles();
    return parseLedgerText([...files].filter(([p]) => p.startsWith('entries/')).map(([path, text]) => ({ path, text })));
  }

  entries<T extends LedgerEntry['type']>(type: T): LedgerEntry<T>[] {
    return this.ledger().filter((e) => e.type === type) as LedgerEntry<T>[];
  }

  private repository() {
    return { id: 1, name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: 'main', owner: { login: OWNER, id: 1, type: 'User' } };
  }

  /** The last webhook delivered, for redelivering it as GitHub's "Redeliver" does (same delivery id). */
  lastEvent: any = null;

  async redeliver(probot: Probot = this.probot): Promise<void> {
    await probot.receive(this.lastEvent);
  }

  /** Opens a PR (or pushes to it) whose head changes the given files, and delivers the webhook. */
  async push(pr: number, author: string, changes: Record<string, string | null>, action: 'opened' | 'synchronize' = 'opened', opts: { deliveries?: number; processes?: Probot[] } & PushShape = {}): Promise<string> {
    const { head, deliver } = this.prepare(pr, author, changes, action, opts);
    if (opts.processes) await Promise.all(opts.processes.map((p) => deliver(p)));
    else for (let k = 0; k < (opts.deliveries ?? 1); k++) await deliver();
    return head;
  }

  /** The push of `push`, with its webhook delivered later (or never): events out of order. */
  prepare(pr: number, author: string, changes: Record<string, string | null>, action: 'opened' | 'synchronize' = 'opened', shape: PushShape = {}): { head: string; deliver: (p?: Probot) => Promise<void> } {
    const head = this.gh.commit(changes, shape.parent ?? this.main, `pr ${pr}`);
    const existing = this.gh.pulls.get(pr);
    this.gh.pulls.set(pr, {
      number: pr,
      title: `Experiment ${pr}`,
      user: author,
      head,
      files: shape.listed ?? Object.entries(changes).map(([filename, c]) => ({ filename, status: c === null ? 'removed' : this.gh.fileAt(this.main, filename) ? 'modified' : 'added' })),
      labels: existing?.labels ?? [],
      state: 'open',
      merged: false,
      created_at: new Date(this.clock.getTime() + pr * 1000).toISOString(),
    });
    const payload = example('pull_request', action) ?? example('pull_request', 'opened');
    payload.action = action;
    payload.number = pr;
    Object.assign(payload.pull_request, { number: pr, state: 'open', title: `Experiment ${pr}`, labels: this.gh.labelsOf(pr).map((name) => ({ name })) });
    payload.pull_request.head.sha = head;
    // the author's own account id, as GitHub sends it (the example payload's is Codertocat's: every
    // author was one account, whose free-tier runs ledger/credits.ts counts together)
    Object.assign(payload.pull_request.user, { login: author, id: userIdOf(author) });
    // the author pushed it, onto the PR's head before (if it had one)
    payload.sender = { ...payload.sender, login: author, type: 'User' };
    if (existing) payload.before = existing.head;
    payload.after = head;
    payload.repository = { ...payload.repository, ...this.repository() };
    payload.installation = { id: 1 };
    const event = { id: `pr-${pr}-${head}`, name: 'pull_request', payload } as any;
    return {
      head,
      deliver: async (p: Probot = this.probot) => {
        this.lastEvent = event;
        await p.receive(event);
      },
    };
  }

  /** Closes a PR without merging and delivers pull_request.closed. */
  /**
   * pull_request.synchronize for the PR's head as the fake has it now: by default GitHub's update of
   * its branch for the App (sender: the App's bot; before: the head it merged into, its first parent).
   */
  async synchronize(pr: number, push: { before?: string; sender?: string } = {}): Promise<void> {
    const p = this.gh.pulls.get(pr)!;
    const payload = example('pull_request', 'synchronize');
    payload.number = pr;
    Object.assign(payload.pull_request, { number: pr, state: p.state, title: p.title, labels: this.gh.labelsOf(pr).map((name) => ({ name })) });
    payload.pull_request.head.sha = p.head;
    payload.pull_request.user.login = p.user;
    const sender = push.sender ?? APP_BOT;
    payload.sender = { ...payload.sender, login: sender, type: sender.endsWith('[bot]') ? 'Bot' : 'User' };
    payload.before = push.before ?? this.gh.commits.get(p.head)?.parents[0] ?? payload.before;
    payload.after = p.head;
    payload.repository = { ...payload.repository, ...this.repository() };
    payload.installation = { id: 1 };
    this.lastEvent = { id: `sync-${pr}-${p.head}`, name: 'pull_request', payload };
    await this.probot.receive(this.lastEvent);
  }

  async close(pr: number): Promise<void> {
    const p = this.gh.pulls.get(pr)!;
    p.state = 'closed';
    const payload = example('pull_request', 'closed');
    payload.number = pr;
    Object.assign(payload.pull_request, { number: pr, state: 'closed', merged: false, labels: p.labels.map((name) => ({ name })) });
    payload.pull_request.head.sha = p.head;
    payload.repository = { ...payload.repository, ...this.repository() };
    payload.installation = { id: 1 };
    await this.probot.receive({ id: `close-${pr}`, name: 'pull_request', payload } as any);
  }

  /** Reopens a closed PR (its head unchanged) and delivers pull_request.reopened. */
  async reopen(pr: number): Promise<void> {
    const p = this.gh.pulls.get(pr)!;
    p.state = 'open';
    const payload = example('pull_request', 'reopened') ?? example('pull_request', 'opened');
    payload.action = 'reopened';
    payload.number = pr;
    Object.assign(payload.pull_request, { number: pr, state: 'open', title: p.title, merged: false, labels: p.labels.map((name) => ({ name })) });
    payload.pull_request.head.sha = p.head;
    payload.pull_request.user.login = p.user;
    payload.repository = { ...payload.repository, ...this.repository() };
    payload.installation = { id: 1 };
    this.lastEvent = { id: `reopen-${pr}`, name: 'pull_request', payload };
    await this.probot.receive(this.lastEvent);
  }

  /**
   * Opens issue `n` by `login` with `body` (an issue form's rendering) and the long-run label,
   * as the form does, and delivers `issues.opened` (`deliveries` times, same delivery id).
   */
  async openIssue(n: number, login: string, body: string, opts: { action?: 'opened' | 'labeled'; deliveries?: number; processes?: Probot[] } = {}): Promise<void> {
    const labels = this.gh.issues.get(n)?.labels ?? ['long-run:requested'];
    this.gh.issues.set(n, { labels });
    const action = opts.action ?? 'opened';
    const payload = example('issues', action);
    payload.action = action;
    Object.assign(payload.issue, { number: n, body, state: 'open', labels: labels.map((name, i) => ({ id: i + 1, name })) });
    delete payload.issue.pull_request;
    Object.assign(payload.issue.user, { login, id: userIdOf(login) });
    if (action === 'labeled') payload.label = { ...payload.label, name: 'long-run:requested' };
    payload.repository = { ...payload.repository, ...this.repository() };
    payload.installation = { id: 1 };
    const event = { id: `issue-${n}-${action}`, name: 'issues', payload } as any;
    if (opts.processes) await Promise.all(opts.processes.map((p) => p.receive(event)));
    else for (let k = 0; k < (opts.deliveries ?? 1); k++) await this.probot.receive(event);
  }

  /** Delivers installation.created for this repository. */
  async install(): Promise<void> {
    const payload = example('installation', 'created');
    payload.installation = { ...payload.installation, id: 1 };
    payload.repositories = [{ id: 1, node_id: 'R_1', name: REPO, full_name: `${OWNER}/${REPO}`, private: false }];
    await this.probot.receive({ id: 'install-1', name: 'installation', payload } as any);
  }

  /** Delivers installation_repositories.added with this repository (the App was installed on others before). */
  async addToInstallation(): Promise<void> {
    const payload = example('installation_repositories', 'added');
    payload.installation = { ...payload.installation, id: 1 };
    payload.repositories_added = [{ id: 1, node_id: 'R_1', name: REPO, full_name: `${OWNER}/${REPO}`, private: false }];
    await this.probot.receive({ id: 'install-repos-1', name: 'installation_repositories', payload } as any);
  }

  /** The harness files and hash of a commit, as the runner would compute them. */
  harnessOf(commit: string): string {
    const c = this.gh.commits.get(commit)!;
    return harnessSha256([...this.gh.trees.get(c.tree)!].map(([path, content]) => ({ path, content })));
  }

  /** A result.json for the dispatched job, as an honest runner would write it (then `tamper` edits it). */
  result(d: { inputs: Record<string, string> }, runner: string, runId: number, val_bpb: number | null, tamper: (r: any) => void = () => {}): ExperimentResult {
    const i = d.inputs;
    const r: any = {
      schema_version: RESULT_SCHEMA_VERSION,
      harness_version: '1.0.0',
      status: val_bpb === null ? 'failed' : 'ok',
      failure: val_bpb === null ? { kind: 'nan', message: 'loss became NaN at step 12' } : null,
      val_bpb,
      unigram_bpb: 4.5,
      bigram_bpb: 3.6,
      eval_bytes: 65536,
      eval_split: 'heldout',
      dataset: 'brown',
      steps: 1200,
      tokens: 2_457_600,
      budget_seconds: Number(i.budget),
      train_seconds: 300,
      total_seconds: 330,
      tokens_per_second: 8192,
      params: 120_000,
      backend: 'tensorflow',
      device: 'NVIDIA Test GPU (CUDA)',
      hardware_class: CLASS,
      peak_memory_mb: 900,
      seed: i.seed === undefined ? 1337 : Number(i.seed),
      eval_seed: Number(i.eval_seed),
      candidate_sha256: sha256(this.gh.fileAt(i.sha, 'trainer/train.ts')!),
      harness_sha256: this.harnessOf(this.gh.refs.get('heads/main')!),
      loss_curve: [{ step: 0, t: 0, loss: 5.5 }],
      started_at: '2026-11-24T12:00:00Z',
      finished_at: '2026-11-24T12:05:30Z',
      job: { role: i.role, nonce: i.nonce, repo: `${OWNER}/${REPO}`, pr: i.pr ? Number(i.pr) : null, sha: i.sha, run_id: runId, runner_name: runner, isolation: 'docker' },
    };
    tamper(r);
    // as the harness does: the run's schedule (a replay's is the one it was given), and with a
    // seal key the checkpoint's digest sealed to it (a tamper that set `replay` keeps its own)
    if (r.replay === undefined && r.status === 'ok') {
      const schedule = i.replay || encodeSchedule(linearSchedule(r.steps));
      r.replay = { schedule, of: i.replay || null, ...(i.seal_key ? { sealed: seal(i.seal_key, JSON.stringify({ nonce: r.job.nonce, digest: this.digestOf(r, schedule), val_bpb: r.val_bpb })) } : { digest: this.digestOf(r, schedule) }) };
    }
    return r;
  }

  /**
   * The checkpoint digest an honest run of `r` ends with: on a deterministic backend a function of
   * what the run was given (train.ts, seeds, schedule) and the backend and threads it ran on.
   */
  digestOf(r: { candidate_sha256: string; seed: number; eval_seed: number | null; backend: string; threads?: number }, schedule: string): string {
    return sha256(JSON.stringify([r.candidate_sha256, r.seed, r.eval_seed, schedule, r.backend, r.threads ?? null]));
  }

  /** A sealed box for the App's key, as a runner would make it (for forgeries). */
  sealed(content: { nonce: string; digest: string; val_bpb: number | null }): string {
    return seal(this.sealKeys!.publicKey, JSON.stringify(content));
  }

  /** Delivers workflow_run.completed of the scheduled tick.yml (the App's clock), unless GitHub disabled its schedule (then false). */
  async tick(opts: { event?: string; branch?: string; processes?: Probot[] } = {}): Promise<boolean> {
    if ((opts.event ?? 'schedule') === 'schedule' && !this.gh.fires('tick.yml')) return false;
    const runId = this.runId++;
    const payload = example('workflow_run', 'completed');
    Object.assign(payload.workflow_run, {
      id: runId,
      path: '.github/workflows/tick.yml',
      event: opts.event ?? 'schedule',
      head_branch: opts.branch ?? 'main',
      display_title: 'tick',
      head_repository: { ...payload.workflow_run.head_repository, ...this.repository() },
      head_sha: this.gh.refs.get('heads/main')!,
      html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${runId}`,
    });
    payload.repository = { ...payload.repository, ...this.repository() };
    payload.installation = { id: 1 };
    const event = { id: `tick-${runId}`, name: 'workflow_run', payload } as any;
    if (opts.processes) await Promise.all(opts.processes.map((p) => p.receive(event)));
    else await this.probot.receive(event);
    return true;
  }

  /**
   * A runner takes the dispatched run (GitHub's queue hands it over): the fake sends workflow_job
   * `in_progress`, delivered to the App unless `deliver` is false (a lost event).
   */
  async start(d: { inputs: Record<string, string>; run_id?: number }, runner: string, opts: { deliver?: boolean; deliveries?: number; processes?: Probot[] } = {}): Promise<any> {
    const run = this.gh.workflowRuns.get(d.run_id ?? -1);
    if (!run) throw new Error(`no run was created for the dispatch of ${d.inputs.nonce}`);
    this.gh.startRun(run.id, runner);
    const ev = this.gh.outbox.filter((x) => x.name === 'workflow_job' && x.payload.action === 'in_progress' && x.payload.workflow_job.run_id === run.id).at(-1)!;
    const event = { id: ev.id, name: ev.name, payload: ev.payload } as any;
    this.lastEvent = event;
    if (opts.deliver === false) return event;
    if (opts.processes) await Promise.all(opts.processes.map((p) => p.receive(event)));
    else for (let k = 0; k < (opts.deliveries ?? 1); k++) await this.probot.receive(event);
    return event;
  }

  /**
   * Completes the workflow run of a dispatch on `runner` with `val_bpb` and delivers workflow_run.completed.
   * The run is the dispatched one (the fake's, completed here) unless it completed already or the
   * options make it another (a run naming another job, or not a dispatch).
   */
  async complete(d: { inputs: Record<string, string>; run_id?: number }, runner: string, val_bpb: number | null, opts: { tamper?: (r: any) => void; deliveries?: number; headSha?: string; event?: string; processes?: Probot[]; titleNonce?: string; jobSeconds?: number; artifactName?: string; artifactBytes?: number; files?: Record<string, string>; actor?: string } = {}): Promise<number> {
    const dispatched = d.run_id !== undefined && !opts.titleNonce && !opts.event ? this.gh.workflowRuns.get(d.run_id) : undefined;
    const live = dispatched && dispatched.status !== 'completed' ? dispatched : undefined;
    const runId = live ? live.id : this.runId++;
    if (live) {
      // GitHub's job time: `jobSeconds`, else at least 345 s (a 300 s budget plus setup and evaluation)
      const started = live.started_at ?? this.clock.getTime() - (opts.jobSeconds ?? 345) * 1000;
      const completed = opts.jobSeconds !== undefined ? started + opts.jobSeconds * 1000 : Math.max(this.clock.getTime(), started + 345_000);
      const r = this.gh.runners.find((x) => x.name === live.runner_name);
      if (r) r.busy = false;
      Object.assign(live, { status: 'completed', conclusion: 'success', runner_name: live.runner_name ?? runner, started_at: started, completed_at: completed });
    }
    const result = this.result(d, runner, runId, val_bpb, opts.tamper);
    this.gh.runs.set(runId, { runner_name: runner, job_seconds: opts.jobSeconds, artifact: { name: opts.artifactName ?? `result-${d.inputs.nonce}`, files: opts.files ?? { 'result.json': JSON.stringify(result), 'train.log': 'step 0 loss 5.5\n' }, size_in_bytes: opts.artifactBytes } });
    const payload = example('workflow_run', 'completed');
    Object.assign(payload.workflow_run, {
      id: runId,
      path: '.github/workflows/experiment.yml',
      event: opts.event ?? 'workflow_dispatch',
      head_branch: 'main',
      // who started the run (its latest attempt): the dispatcher, the App's bot unless told
      actor: { login: opts.actor ?? live?.actor ?? APP_BOT },
      triggering_actor: { login: opts.actor ?? live?.actor ?? APP_BOT },
      // experiment.yml's run-name: "<role> #<pr> @ <sha> [<nonce>]"
      display_title: `${d.inputs.role} ${d.inputs.pr ? `#${d.inputs.pr}` : 'main'} @ ${d.inputs.sha} [${opts.titleNonce ?? d.inputs.nonce}]`,
      head_repository: { ...payload.workflow_run.head_repository, ...this.repository() },
      head_sha: opts.headSha ?? this.gh.refs.get('heads/main')!,
      html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${runId}`,
    });
    payload.repository = { ...payload.repository, ...this.repository() };
    payload.installation = { id: 1 };
    this.gh.runs.get(runId)!.workflow_run = { ...payload.workflow_run, status: 'completed', conclusion: 'success' };
    const event = { id: `run-${runId}`, name: 'workflow_run', payload } as any;
    this.lastEvent = event;
    if (opts.processes) await Promise.all(opts.processes.map((p) => p.receive(event)));
    else for (let k = 0; k < (opts.deliveries ?? 1); k++) await this.probot.receive(event);
    return runId;
  }
}

const OLD = '2015-01-01T00:00:00Z';

/** A runner's registration (an old account, the test class unless given). */
export const reg = (name: string, owner: string, o: { cls?: string; created?: string } = {}) => ({
  type: 'runner_registered' as const,
  data: { runner_name: name, owner, hardware_class: o.cls ?? CLASS, labels: ['self-hosted', 'autoresearch', o.cls ?? CLASS, `owner-${owner}`], owner_created_at: o.created ?? OLD },
});

/** Puts a runner online on GitHub. */
/** The runner whose owner label a dispatch targets. */
export const runnerFor = (w: World, d: { inputs: Record<string, string> }) => w.gh.runners.find((r) => r.labels.includes(d.inputs.runner_label))!.name;
/** Marks exactly `names` busy (GitHub gives a job only to an idle runner). */
export const busy = (w: World, ...names: string[]) => {
  for (const r of w.gh.runners) r.busy = names.includes(r.name);
};
export const online = (w: World, name: string, owner: string, cls = CLASS) => w.gh.runners.push({ id: w.gh.runners.length + 1, name, status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', cls, `owner-${owner}`] });

/** A world under the default trust policy with runners of alice, bob, carol and mallory. */
export function trustWorld(config = 'max_in_flight: 4\nverification:\n  quorum: 1\n', extra: ReturnType<typeof reg>[] = [], opts: Pick<WorldOptions, 'seal' | 'screen'> = {}): World {
  const w = new World({ trust: 'policy', config, seed: [], ...opts });
  const seed = [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol'), reg('runner-m', 'mallory'), ...extra];
  for (const r of seed) if (!w.gh.runners.some((x) => x.name === r.data.runner_name)) online(w, r.data.runner_name, r.data.owner, r.data.hardware_class);
  w.seedLedger([...seed, { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
  return w;
}

function silentLog() {
  const noop = () => {};
  const log: any = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, level: 'silent' };
  log.child = () => log;
  return log;
}

/** After each test of the file: the ledger the App wrote passes the audit, every call was one GitHub documents, no mock is left. */
export function auditEachWorld(): void {
  afterEach(() => {
    const audit = auditLedger(World.last!.ledger(), { freeRunsPerDay: 3 });
    expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
    expectRealGitHubCalls();
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });
}
