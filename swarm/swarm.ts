// The whole swarm on one machine (`npm run swarm`): the real App (createApp, hosted as the
// simulator hosts it: sim/app-host.ts) against the in-process faked GitHub (sim/github), in
// real time; runner owners whose runners run the real harness here, one training at a time
// (swarm/runner.ts); agents that open PRs (swarm/agent.ts, swarm/external-agent.ts); the App's
// verification and merge policy and its ledger as they are; the leaderboard rebuilt from the
// ledger branch and served on 127.0.0.1 (swarm/site.ts). The fake's state lives in a folder
// (github.json, plus the ledger branch and main as plain files), so a run can be inspected and
// resumed.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Probot } from 'probot';
import { clearFileCache } from '../app/github/files.js';
import { clearHashCache } from '../app/github/hashes.js';
import { clearConfigCache } from '../app/session.js';
import { forgetForkApprovalPolicies } from '../app/github/fork-approval.js';
import { computeBalances, readLedgerDir, type LedgerEntry } from '../ledger/index.js';
import { appKey, emitTick, installationPayload, loadApp, pullRequestOpenedPayload, registerRunner, silentLog, toYaml, type RouteHandler } from '../sim/app-host.js';
import { FakeGitHub, type Delivery, type FakeSnapshot, type WorkflowRun } from '../sim/github/fake.js';
import { fakeFetch } from '../sim/github/fetch.js';
import { Rng } from '../sim/rng.js';
import { detectHardware, hardwareClass } from '../trainer/hardware.js';
import { readHarnessFiles } from '../trainer/harness-version.js';
import { REPO_DIR } from '../trainer/supervisor.js';
import { changeKey, propose, updatedOnto, type ApiExperiment } from './agent.js';
import { runExternalAgent } from './external-agent.js';
import { isolationWarning } from '../action/src/summary.js';
import { chooseIsolation, DEFAULT_IMAGE, type SwarmIsolation } from './isolation.js';
import { runJob } from './runner.js';
import { rebuildSite, serveSite, writeLedgerCheckout } from './site.js';
import { localGitHub } from './github-pages.js';
import { DeadlineError, describeWait, fmtSeconds, within } from './watch.js';

export interface SwarmOptions {
  /** training budget of each run, seconds */
  budget: number;
  /** built-in agents */
  agents: number;
  /** runner owners (one runner each, all on this machine); at least 2, so another owner verifies */
  runners: number;
  /** stop opening PRs and starting runs after this many minutes; then finish and summarize */
  minutes: number;
  stateDir: string;
  /** the leaderboard's port on 127.0.0.1 (0: any free port; null: do not serve) */
  port: number | null;
  /** an external agent's command, run in a checkout of main (swarm/external-agent.ts) */
  agentCmd: string | null;
  agentTimeoutSeconds: number;
  /** held-out bytes each run evaluates */
  evalBytes: number;
  isolation: 'auto' | SwarmIsolation;
  image: string;
  seed: number;
  /** the train.ts a fresh state starts from (default: this checkout's) */
  initialTrain: string | null;
  /** stop once this many PRs are settled (merged, discarded, invalid or closed) */
  maxExperiments: number | null;
  /** App settings laid over the swarm's (see SWARM_CONFIG) */
  config: Record<string, unknown>;
  /** seconds between the App's clock ticks (tick.yml) */
  tickSeconds: number;
  /** where progress lines go */
  print: (line: string) => void;
  /** the harness's own log lines (default: dropped) */
  harnessLine?: (line: string) => void;
  /** a job's harness is killed after this many seconds (null: twice the budget plus 5 min) */
  jobTimeoutSeconds: number | null;
  /** the App's answer to one webhook or runner registration, seconds */
  appTimeoutSeconds: number;
  /** the swarm fails (saying what it waited for) after this many seconds with PRs or runs
   * pending but no job running, no agent at work and nothing changed */
  stallSeconds: number;
}

/**
 * The App's settings for the one-machine swarm (.github/autoresearch.yml of the fake
 * repository). Runs of a few seconds on a shared CPU are noisy (a run's step count follows the
 * machine's load), so the margin and the verification tolerance are wider than a real swarm's.
 */
export const SWARM_CONFIG = {
  max_in_flight: 2,
  free_runs_per_day: 1000,
  close_on_discard: true,
  deadline_minutes: 120,
  margin: { k: 2, min_delta: 0.05 },
  // two owners on one machine: a claim is checked by the other one (quorum 1); a new class's sigma
  // is measured from 4 runs, not 21 (a real swarm's min_sigma_df 20); and a big jump cannot ask for
  // owners the swarm does not have (--runners 2), so it needs none extra
  verification: { quorum: 1, tolerance: 0.5, min_sigma_df: 3, suspicious_extra_owners: 0 },
  baseline_runs: 2,
  // every runner shares this machine with the App, the leaderboard build and the other owners'
  // runs (and whatever else the machine runs): a calibration 20% slower after training is this
  // machine's load, not a throttled runner (a real swarm's default). Measured on a shared 2-core
  // machine at load 8: runs 52% off pace, re-run three times and discarded unscored; a run at a
  // tenth of its pace still runs again.
  // Both owners are this machine: re-running each discard of an owner with no record yet (a real
  // swarm's replicate_until 10) would run most experiments twice, and half as many ideas would
  // be tried in the minutes given; claimed improvements are still re-run by the other owner, and
  // discards spot-checked (spot_check_rate)
  trust: { pace_tolerance: 0.9, replicate_until: 0 },
};

/** `over` laid over `base`, one level deep (a section such as `verification` is merged key by key). */
function layered(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = plain(v) && plain(base[k]) ? { ...base[k], ...v } : v;
  return out;
}

export const DEFAULTS: SwarmOptions = {
  budget: 10,
  agents: 2,
  runners: 2,
  minutes: 10,
  stateDir: '.swarm',
  port: 8377,
  agentCmd: null,
  agentTimeoutSeconds: 900,
  evalBytes: 16384,
  isolation: 'auto',
  image: DEFAULT_IMAGE,
  seed: 1,
  initialTrain: null,
  maxExperiments: null,
  config: {},
  tickSeconds: 20,
  print: (l) => process.stdout.write(`${l}\n`),
  jobTimeoutSeconds: null,
  appTimeoutSeconds: 120,
  stallSeconds: 600,
};

interface SwarmFile {
  version: 1;
  owners: string[];
  /** every runner name the App registered, by owner (runners are ephemeral: one per job) */
  runners: Record<string, string>;
  hardware_class: string;
  agents: string[];
}

export interface Summary {
  url: string | null;
  state_dir: string;
  minutes: number;
  prs: number;
  merged: number;
  discarded: number;
  invalid: number;
  open: number;
  runs: number;
  failed_runs: number;
  /** main's first baseline in this state (where the swarm started) */
  first_baseline: number | null;
  baseline: number | null;
  best: number | null;
  credits: Record<string, number>;
  ledger_entries: number;
}

const SETTLED = /^experiment:(merged|discarded|invalid)$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LocalSwarm {
  readonly o: SwarmOptions;
  readonly gh: FakeGitHub;
  private readonly net;
  private app!: Probot;
  private route: RouteHandler | null = null;
  private readonly rng: Rng;
  private file!: SwarmFile;
  private readonly dir: string;
  private server: Server | null = null;
  private github: ReturnType<typeof localGitHub> | null = null;
  url: string | null = null;
  private running: { run: WorkflowRun; owner: string; since: number; abort: AbortController } | null = null;
  private jobDone: Promise<void> = Promise.resolve();
  private failed: Delivery[] = [];
  private agentBusy = new Set<string>();
  private agentTasks: Promise<void>[] = [];
  private agentsIdle = new Set<string>();
  private ledgerHead = '';
  private builtHead = '';
  private building: Promise<void> | null = null;
  private entries: LedgerEntry[] = [];
  private lastLine = '';
  private lastSaved = -1;
  private runs = 0;
  private failedRuns = 0;
  private t0 = Date.now();
  private stopping = false;

  constructor(opts: Partial<SwarmOptions> = {}) {
    // the sequential test asks runs of as many owners as it needs up to max_runs; the swarm has
    // `runners` owners, and a run asked of a further owner that does not exist went to one that had
    // run it already, uncounted, again and again (seen: two claims re-run 8 times each in 10 minutes)
    const runners = opts.runners ?? DEFAULTS.runners;
    const config = layered(layered(SWARM_CONFIG, { verification: { max_runs: runners } }), opts.config ?? {});
    this.o = { ...DEFAULTS, ...opts, config: { ...config, budget_seconds: opts.budget ?? DEFAULTS.budget } };
    if (!Number.isInteger(this.o.runners) || this.o.runners < 2) throw new Error(`--runners ${this.o.runners}: the swarm needs at least 2 runner owners, so that a claimed improvement is verified by another owner`);
    this.dir = resolve(this.o.stateDir);
    this.rng = new Rng(this.o.seed);
    this.gh = new FakeGitHub({ now: Date.now, rateLimits: true });
    this.net = fakeFetch(this.gh, { checkEvery: 0 });
  }

  private path(...p: string[]): string {
    return join(this.dir, ...p);
  }

  // --- state ---

  /** The fake repository a fresh swarm starts from: this checkout's harness, docs for agents, the workflows, the settings. */
  private repoFiles(): Record<string, string | Uint8Array> {
    const files: Record<string, string | Uint8Array> = {};
    for (const f of readHarnessFiles(REPO_DIR)) files[f.path] = f.content;
    const read = (p: string) => readFileSync(join(REPO_DIR, p));
    files['trainer/train.ts'] = this.o.initialTrain ?? read('trainer/train.ts');
    for (const p of ['program.md', 'docs/api.md', 'package.json', 'tsconfig.json', '.github/workflows/experiment.yml', '.github/workflows/tick.yml']) files[p] = read(p);
    files['.github/autoresearch.yml'] = `${toYaml(this.o.config)}\n`;
    return files;
  }

  private savedAt = 0;
  /** Writes the state folder: after any change, at most every 2 s (and at the end). */
  private save(force = false): void {
    if (!force && (this.gh.served === this.lastSaved || Date.now() - this.savedAt < 2000)) return;
    this.lastSaved = this.gh.served;
    this.savedAt = Date.now();
    const tmp = this.path('github.json.tmp');
    writeFileSync(tmp, JSON.stringify(this.gh.snapshot()));
    rmSync(this.path('github.json'), { force: true });
    writeFileSync(this.path('github.json'), readFileSync(tmp));
    rmSync(tmp, { force: true });
    writeFileSync(this.path('swarm.json'), `${JSON.stringify(this.file, null, 2)}\n`);
    // the default branch as plain files, for reading
    const main = this.gh.fileAt('main', 'trainer/train.ts');
    if (main) writeFileSync(this.path('main-train.ts'), main);
  }

  private syncLedger(): boolean {
    const head = this.gh.refs.get('heads/ledger') ?? '';
    if (head === this.ledgerHead) return false;
    this.ledgerHead = head;
    writeLedgerCheckout(this.gh.ledgerFiles(), this.path('ledger'));
    this.entries = readLedgerDir(this.path('ledger'));
    return true;
  }

  // --- start, loop, stop ---

  async run(): Promise<Summary> {
    mkdirSync(this.dir, { recursive: true });
    chmodSync(this.dir, 0o755); // a sandboxed child runs under an unprivileged uid and reads its checkout here
    const realFetch = globalThis.fetch;
    // GitHub's hosts go to the fake (the runner route asks GitHub who a token belongs to with its own Octokit); the rest to the network stack
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      return /^https:\/\/([a-z0-9-]+\.)*(github\.com|githubusercontent\.com)\//.test(url) ? this.net.fetch(input, init) : realFetch(input, init);
    }) as typeof fetch;
    clearFileCache();
    clearHashCache();
    clearConfigCache();
    forgetForkApprovalPolicies();
    try {
      const chosen = await chooseIsolation(this.o.isolation, this.dir);
      this.o.isolation = chosen.isolation;
      if (chosen.note) this.o.print(`isolation: ${chosen.note}`);
      // the App counts scores of uncontained runs only from fleets its config trusts: here, this machine's owners
      if (chosen.isolation === 'none') this.o.config = { ...this.o.config, containment: { trusted_fleets: Array.from({ length: this.o.runners }, (_, i) => `owner-${i + 1}`) } };
      const fresh = !existsSync(this.path('github.json'));
      ({ probot: this.app, route: this.route } = await loadApp({ fetch: this.net.fetch, now: () => new Date(), privateKey: appKey(), log: silentLog() }));
      if (fresh) await this.init();
      else this.resume();
      if (this.o.port !== null) {
        this.github = localGitHub(this.gh, { logins: () => [...this.file.owners, ...this.file.agents, 'external-agent'], ownerOf: (name) => this.file.runners[name] });
        ({ server: this.server, url: this.url } = await serveSite(this.path('site'), this.o.port, this.github));
        this.o.print(`leaderboard: ${this.url}  (rebuilt from the ledger after each merge)`);
      }
      this.o.print(`state: ${this.dir} (${fresh ? 'new' : 'resumed'}); ${this.file.owners.length} runner owners on this machine (${this.file.hardware_class}, isolation ${this.o.isolation}), ${this.file.agents.length} built-in agents${this.o.agentCmd ? ' and an external agent' : ''}; budget ${this.o.budget} s per run; ${this.o.minutes} min`);
      // as the Action says in each job's summary when it runs a candidate uncontained
      if (this.o.isolation === 'none') this.o.print(`${isolationWarning()} (--isolation docker with the trainer image, see swarm/isolation.ts)`);
      await this.loop();
      return await this.finish();
    } finally {
      globalThis.fetch = realFetch;
    }
  }

  private async init(): Promise<void> {
    const main = this.gh.commit(this.repoFiles(), null, 'initial');
    this.gh.refs.set('heads/main', main);
    const cls = hardwareClass(detectHardware());
    this.file = {
      version: 1,
      owners: Array.from({ length: this.o.runners }, (_, i) => `owner-${i + 1}`),
      runners: {},
      hardware_class: cls,
      agents: Array.from({ length: this.o.agents }, (_, i) => `agent-${i + 1}`),
    };
    await this.joinIdleOwners();
    // installing the App: baselines of main on each class with an online runner
    this.gh.emit('installation', installationPayload());
    this.save(true);
  }

  private resume(): void {
    this.gh.restore(JSON.parse(readFileSync(this.path('github.json'), 'utf8')) as FakeSnapshot);
    this.file = JSON.parse(readFileSync(this.path('swarm.json'), 'utf8')) as SwarmFile;
    // a run that was in progress when the last swarm stopped never finishes: the App's deadline re-dispatches it
    for (const r of this.gh.workflowRuns.values()) if (r.status === 'in_progress') this.gh.finishRun(r, 'cancelled');
    for (const r of this.gh.runners) r.busy = false;
    // what settled in an earlier session was told then
    for (const p of this.gh.pulls.values()) if (p.merged || p.labels.some((l) => SETTLED.test(l))) this.told.add(p.number);
    if (this.o.agents !== this.file.agents.length) this.file.agents = Array.from({ length: this.o.agents }, (_, i) => `agent-${i + 1}`);
  }

  private deadline(): boolean {
    return Date.now() - this.t0 >= this.o.minutes * 60_000 || (this.o.maxExperiments !== null && this.settled() >= this.o.maxExperiments);
  }

  /** What changes whenever the swarm moves: runs, the ledger, PRs, dispatches. */
  private progressKey(): string {
    const pulls = [...this.gh.pulls.values()].map((p) => `${p.number}:${p.state}:${p.merged}:${p.head}:${p.labels.join('+')}`).join(',');
    const runs = [...this.gh.workflowRuns.values()].filter((r) => r.workflow === 'experiment.yml').map((r) => `${r.id}:${r.status}`).join(',');
    return `${this.runs}|${this.running?.run.id ?? ''}|${this.ledgerHead}|${pulls}|${runs}|${this.gh.dispatches.length}`;
  }

  private lastKey = '';
  private debugKey = '';
  private lastMove = Date.now();
  /** Throws, saying what the swarm waited for, once PRs or runs are pending and nothing moved for stallSeconds. */
  private checkStall(): void {
    const key = this.progressKey();
    if (key !== this.lastKey || this.running || this.agentBusy.size || this.building) {
      this.lastKey = key;
      this.lastMove = Date.now();
      return;
    }
    const pending = this.openPrs().length > 0 || [...this.gh.workflowRuns.values()].some((r) => r.workflow === 'experiment.yml' && r.status !== 'completed');
    if (!pending) {
      this.lastMove = Date.now();
      return;
    }
    if (process.env.SWARM_DEBUG && Date.now() - this.lastMove >= 15_000 && this.debugKey !== key) {
      this.debugKey = key;
      this.o.print(`${this.clock()} nothing moved for 15 s; waiting:\n${this.waiting().map((l) => `  - ${l}`).join('\n')}`);
    }
    if (Date.now() - this.lastMove < this.o.stallSeconds * 1000) return;
    throw new DeadlineError(`the swarm made no progress for ${fmtSeconds(this.o.stallSeconds)} (no job running, no agent at work, no change on the fake GitHub or the ledger) while it waited:\n${this.waiting().map((l) => `  - ${l}`).join('\n')}`);
  }

  /** What the swarm waits for now (the stall error, and `SWARM_DEBUG` progress). */
  waiting(): string[] {
    return describeWait({
      gh: this.gh,
      entries: this.entries,
      owners: this.file.runners,
      running: this.running,
      agentsBusy: [...this.agentBusy],
      failedDeliveries: this.failed.length,
      refusedOwners: this.noRunner,
      now: Date.now(),
    });
  }

  private async loop(): Promise<void> {
    let lastTick = 0;
    let tickId = 800_000 + Math.floor(Date.now() / 1000) % 100_000;
    while (true) {
      if (!this.stopping && this.deadline()) {
        this.stopping = true;
        this.o.print(this.o.maxExperiments !== null && this.settled() >= this.o.maxExperiments ? `${this.settled()} experiments settled: stopping` : `${this.o.minutes} min up: no new PRs or runs; finishing what is running`);
      }
      // an owner whose one-job runner just finished joins again before the App hears of the
      // finish (as `runner join` loops at once): else the App, choosing who verifies a claim,
      // finds no runner of the other owner online and leaves the run to any owner, the claim's
      // own among them (a run wasted: it cannot count)
      if (!this.stopping) await this.joinIdleOwners();
      await this.pump();
      if (Date.now() - lastTick >= this.o.tickSeconds * 1000) {
        lastTick = Date.now();
        emitTick(this.gh, tickId++, Date.now());
        // the operator's redelivery (GitHub does not redeliver failed deliveries by itself)
        this.gh.outbox.push(...this.failed.splice(0));
      }
      if (!this.stopping) {
        this.startJob();
        this.startAgents();
      }
      this.syncLedger();
      if (!this.stopping) this.updateStaleBranches();
      void this.maybeRebuild();
      this.progress();
      this.save();
      if (this.stopping && !this.running && !this.agentBusy.size && !this.gh.outbox.length) break;
      try {
        this.checkStall();
      } catch (e) {
        this.running?.abort.abort();
        throw e;
      }
      await sleep(200);
    }
    // each bounded by its own deadline (the agent's timeout, the job's)
    await Promise.all(this.agentTasks);
    await this.jobDone;
  }

  private async pump(): Promise<void> {
    for (let n = 0; n < 50 && this.gh.outbox.length; n++) {
      const d = this.gh.outbox.shift()!;
      try {
        await within(this.app.receive({ id: d.id, name: d.name, payload: d.payload } as any), this.o.appTimeoutSeconds * 1000, `the App's handler of webhook ${d.name} (delivery ${d.id})`);
      } catch (e) {
        // a handler past its deadline is loud; another failure is a failed delivery, redelivered at the next tick as an operator would
        if (e instanceof DeadlineError || process.env.SWARM_DEBUG) this.o.print(`${this.clock()} webhook ${d.name} failed: ${(e as Error).message}`);
        this.failed.push(d);
      }
    }
  }

  // --- runners: one training at a time on this machine ---

  private nextJoin = new Map<string, number>();
  /** owners without a runner, and why (a refusal of the App's route) */
  private noRunner = new Map<string, string>();
  /**
   * `runner join` for each owner without a runner: one just-in-time runner from the App's route,
   * started at once (online); it takes one job and GitHub removes it. A refusal with retry-after
   * is waited out; a 403 (banned) ends that owner's loop.
   */
  private async joinIdleOwners(): Promise<void> {
    for (const login of this.file.owners) {
      if ((this.nextJoin.get(login) ?? 0) > Date.now()) continue;
      if (this.gh.runners.some((r) => this.file.runners[r.name] === login)) continue;
      let r: Awaited<ReturnType<typeof registerRunner>>;
      try {
        r = await within(registerRunner(this.route, login, this.file.hardware_class), this.o.appTimeoutSeconds * 1000, `the App's runner route answering ${login}'s registration`);
      } catch (e) {
        r = { ok: false, status: 0, text: (e as Error).message };
      }
      if (!r.ok) {
        const why = `the App refused a runner (HTTP ${r.status}): ${r.text}`;
        this.o.print(`${this.clock()} runner ${login}: ${why}`);
        // a ban (403) ends that owner's loop, as `runner join` stops
        this.nextJoin.set(login, r.status === 403 ? Infinity : Date.now() + (r.retryAfter ?? 60) * 1000);
        this.noRunner.set(login, r.status === 403 ? why : `${why}; asking again in ${r.retryAfter ?? 60} s`);
        continue;
      }
      this.noRunner.delete(login);
      this.file.runners[r.runnerName!] = login;
      const runner = this.gh.runners.find((x) => x.name === r.runnerName);
      if (runner) runner.status = 'online';
    }
  }

  private startJob(): void {
    if (this.running) return;
    const queued = [...this.gh.workflowRuns.values()].filter((r) => r.status === 'queued' && !r.runner_name && r.workflow === 'experiment.yml').sort((a, b) => a.id - b.id);
    for (const run of queued) {
      const idle = this.gh.runners.filter((r) => r.status === 'online' && !r.busy && run.runsOn.every((l) => r.labels.some((x) => x.toLowerCase() === l.toLowerCase())));
      if (!idle.length) continue;
      const runner = idle[Math.floor(this.rng.next() * idle.length)];
      const owner = this.file.runners[runner.name] ?? runner.name;
      this.gh.startRun(run.id, runner.name);
      const abort = new AbortController();
      this.running = { run, owner, since: Date.now(), abort };
      const i = run.inputs;
      this.o.print(`${this.clock()} run   ${owner} runs ${i.role} ${i.pr ? `#${i.pr}` : 'main'} @ ${i.sha.slice(0, 7)} (budget ${i.budget} s)`);
      const timeoutSeconds = this.o.jobTimeoutSeconds ?? Number(i.budget) * 2 + 300;
      this.jobDone = runJob(this.gh, run, runner.name, { isolation: this.o.isolation as SwarmIsolation, image: this.o.image, evalBytes: this.o.evalBytes, workDir: this.path('work'), onLine: this.o.harnessLine, timeoutSeconds, signal: abort.signal })
        .then(
          (out) => {
            this.runs++;
            if (!out.result || out.result.status !== 'ok') this.failedRuns++;
            this.o.print(`${this.clock()} done  ${owner}: ${out.result?.status === 'ok' ? `val_bpb ${out.result.val_bpb!.toFixed(4)} (${out.result.steps} steps)` : `no score: ${out.problem}`}`);
            this.gh.finishRun(run, out.conclusion, out.artifact);
          },
          (e: Error) => {
            this.runs++;
            this.failedRuns++;
            this.o.print(`${this.clock()} done  ${owner}: the job failed: ${e.message}`);
            this.gh.finishRun(run, 'failure', { name: `result-${i.nonce}`, files: { 'train.log': `${e.message}\n` } });
          },
        )
        .finally(() => {
          this.running = null;
        });
      return;
    }
  }

  // --- agents ---

  private openPrs(author?: string): number[] {
    return [...this.gh.pulls.values()].filter((p) => p.state === 'open' && !p.labels.some((l) => SETTLED.test(l)) && (!author || p.user === author)).map((p) => p.number);
  }

  private settled(): number {
    return [...this.gh.pulls.values()].filter((p) => p.merged || p.labels.some((l) => SETTLED.test(l)) || p.state === 'closed').length;
  }

  /** Opens a PR changing trainer/train.ts on the current main, as an agent's push and PR do. */
  openPr(author: string, title: string, text: string): number | null {
    if (this.stopping) {
      this.o.print(`${this.clock()} agent ${author}: stopping, so no PR for "${title}"`);
      return null;
    }
    const base = this.gh.refs.get('heads/main')!;
    const head = this.gh.commit({ 'trainer/train.ts': text }, base, title);
    const n = Math.max(0, ...this.gh.pulls.keys(), ...this.gh.issues.keys()) + 1;
    this.gh.pulls.set(n, { number: n, title, user: author, head, files: [{ filename: 'trainer/train.ts', status: 'modified' }], labels: [], state: 'open', merged: false, created_at: new Date().toISOString() });
    this.gh.emit('pull_request', pullRequestOpenedPayload(n, title, head, author));
    this.o.print(`${this.clock()} PR    #${n} by ${author}: ${title}`);
    return n;
  }

  private mainSeen = '';
  /**
   * When main moves (a merge), each built-in agent updates its open PR's branch, as GitHub's
   * "Update branch" does: its change to train.ts applied onto the new main (a synchronize event;
   * the App runs the new head). Else the PR's train.ts, which the runner takes whole, would still
   * carry the old main and undo the merged change in its own run: scored against the new
   * baseline, a good idea would lose. A change that no longer applies stays as it is.
   */
  private updateStaleBranches(): void {
    const main = this.gh.refs.get('heads/main')!;
    if (main === this.mainSeen) return;
    this.mainSeen = main;
    const text = (sha: string) => new TextDecoder().decode(this.gh.fileAt(sha, 'trainer/train.ts') ?? new Uint8Array());
    for (const n of this.openPrs()) {
      const p = this.gh.pulls.get(n)!;
      const base = this.gh.commits.get(p.head)?.parents[0];
      if (!this.file.agents.includes(p.user) || !base || base === main) continue;
      const updated = updatedOnto(text(base), text(p.head), text(main));
      if (updated === null) continue;
      const head = this.gh.commit({ 'trainer/train.ts': updated }, main, `Merge main into #${n}`);
      p.head = head;
      this.gh.emit('pull_request', { ...pullRequestOpenedPayload(n, p.title, head, p.user), action: 'synchronize' });
      this.o.print(`${this.clock()} PR    #${n} by ${p.user}: branch updated onto main @ ${main.slice(0, 7)}`);
    }
  }

  /** The API's experiments, read as program.md says (index.json, then every page); [] before the first build. */
  async readApi(): Promise<ApiExperiment[]> {
    const get = async (p: string): Promise<any> => {
      if (this.url) {
        const r = await fetch(new URL(p, this.url));
        return r.ok ? r.json() : null;
      }
      const f = this.path('site', p);
      return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
    };
    const index = await get('api/v1/index.json').catch(() => null);
    if (!index) return [];
    const out: ApiExperiment[] = [];
    for (let n = 1; n <= index.experiments_pages; n++) {
      const page = await get(`api/v1/experiments/page-${n}.json`);
      if (page) out.push(...page.experiments);
    }
    return out;
  }

  private startAgents(): void {
    // agents read the leaderboard first: wait until it shows the ledger as it is
    if (this.building || (this.ledgerHead && this.builtHead !== this.ledgerHead)) return;
    const agents = [...this.file.agents, ...(this.o.agentCmd ? ['external-agent'] : [])];
    // one open PR per agent, and no more open PRs than the runners can take
    for (const a of agents) {
      if (this.agentBusy.has(a) || this.openPrs(a).length || this.openPrs().length >= this.o.runners + 1) continue;
      this.agentBusy.add(a);
      const task = (a === 'external-agent' ? this.externalAgent() : this.builtInAgent(a))
        .catch((e: Error) => this.o.print(`${this.clock()} agent ${a}: ${e.message}`))
        .finally(() => this.agentBusy.delete(a));
      this.agentTasks.push(task);
    }
  }

  private async builtInAgent(login: string): Promise<void> {
    const main = new TextDecoder().decode(this.gh.fileAt('main', 'trainer/train.ts')!);
    const tried = await this.readApi();
    const inFlight = new Set(
      this.openPrs().map((n) => {
        const p = this.gh.pulls.get(n)!;
        const base = this.gh.commits.get(p.head)!.parents[0];
        return changeKey(new TextDecoder().decode(this.gh.fileAt(base, 'trainer/train.ts')!), new TextDecoder().decode(this.gh.fileAt(p.head, 'trainer/train.ts')!));
      }),
    );
    // the budget as the repository's settings give it (before the leaderboard shows any run's steps)
    const config = new TextDecoder().decode(this.gh.fileAt('main', '.github/autoresearch.yml') ?? new Uint8Array());
    const budget = Number(/^budget_seconds:\s*([0-9.]+)\s*$/m.exec(config)?.[1] ?? NaN);
    const p = propose(main, tried, inFlight, this.rng, { budgetSeconds: Number.isFinite(budget) ? budget : null });
    if (!p) {
      if (!this.agentsIdle.has(login)) this.o.print(`${this.clock()} agent ${login}: every idea it knows was tried on this main`);
      this.agentsIdle.add(login);
      return;
    }
    this.agentsIdle.delete(login);
    this.openPr(login, p.title, p.text);
  }

  private async externalAgent(): Promise<void> {
    const mainSha = this.gh.refs.get('heads/main')!;
    const out = await runExternalAgent({
      command: this.o.agentCmd!,
      gh: this.gh,
      mainSha,
      apiDir: this.path('site', 'api'),
      apiUrl: this.url ? new URL('api/v1/', this.url).href : null,
      rewriteApi: this.github && this.url ? (json) => this.github!.rewrite(json, new URL('github/', this.url!).href) : undefined,
      workRoot: this.path('work', 'agents'),
      timeoutSeconds: this.o.agentTimeoutSeconds,
      print: (l) => this.o.print(`${this.clock()} agent external: ${l}`),
    });
    if (out) this.openPr('external-agent', out.title, out.text);
    else await sleep(5000);
  }

  // --- the leaderboard ---

  private async maybeRebuild(force = false): Promise<void> {
    if (this.building) return;
    // after every change of the ledger (each merge among them): agents read the site before each PR
    if (!force && this.builtHead === this.ledgerHead) return;
    if (!existsSync(this.path('ledger', 'entries'))) return;
    this.building = (async () => {
      const head = this.ledgerHead;
      try {
        await within(rebuildSite(this.path('ledger'), this.path('site'), this.path('site-cache')), this.o.appTimeoutSeconds * 1000, 'the leaderboard build');
        this.builtHead = head;
      } catch (e) {
        this.o.print(`${this.clock()} leaderboard build failed: ${(e as Error).message}`);
      }
      this.building = null;
    })();
    await this.building;
  }

  // --- progress ---

  private clock(): string {
    const s = Math.floor((Date.now() - this.t0) / 1000);
    return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
  }

  /** best merged val_bpb, the first and the latest baseline of main, from the ledger */
  private scores(): { best: number | null; baseline: number | null; first: number | null } {
    let best: number | null = null;
    let baseline: number | null = null;
    let first: number | null = null;
    for (const e of this.entries) {
      const d = e.data as any;
      if (e.type === 'experiment_merged') best = best === null ? d.val_bpb : Math.min(best, d.val_bpb);
      if (e.type === 'baseline_recorded') {
        baseline = d.mean;
        first ??= d.mean;
      }
    }
    return { best, baseline, first };
  }

  private credits(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [login, b] of computeBalances(this.entries)) if (b.earned || b.pending || b.spent) out[login] = Math.round(b.balance);
    return out;
  }

  private told = new Set<number>();
  /** One line per PR as it settles: merged (score, baseline, who verified) or why not. */
  private outcomes(): void {
    for (const p of this.gh.pulls.values()) {
      if (this.told.has(p.number)) continue;
      const d = [...this.entries].reverse().find((e) => (e.type === 'experiment_merged' || e.type === 'experiment_discarded') && (e.data as any).pr === p.number)?.data as any;
      if (p.merged && d?.job_ids) {
        const owners = this.entries.filter((e) => e.type === 'result_recorded' && d.job_ids.includes((e.data as any).job_id)).map((e) => `${(e.data as any).runner_owner} ${(e.data as any).role} ${(e.data as any).result?.val_bpb?.toFixed(4)}`);
        this.o.print(`${this.clock()} MERGED #${p.number} "${p.title}": val_bpb ${d.val_bpb.toFixed(4)} vs baseline ${d.baseline_mean.toFixed(4)} (${owners.join('; ')})`);
      } else if (p.labels.includes('experiment:discarded') && d?.reason) this.o.print(`${this.clock()} discarded #${p.number} "${p.title}": ${d.reason}`);
      else if (p.labels.includes('experiment:invalid')) this.o.print(`${this.clock()} invalid #${p.number} "${p.title}" (see its comment in ${join(this.dir, 'github.json')})`);
      else continue;
      this.told.add(p.number);
    }
  }

  private progress(): void {
    this.outcomes();
    const runs = [...this.gh.workflowRuns.values()].filter((r) => r.workflow === 'experiment.yml');
    const queued = runs.filter((r) => r.status === 'queued' || r.status === 'pending').length;
    const pulls = [...this.gh.pulls.values()];
    const merged = pulls.filter((p) => p.merged).length;
    const discarded = pulls.filter((p) => p.labels.includes('experiment:discarded')).length;
    const { best, baseline } = this.scores();
    const credits = Object.entries(this.credits())
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const line = `PRs open ${this.openPrs().length} · runs queued ${queued}, running ${this.running ? 1 : 0}, done ${this.runs} · merged ${merged} · discarded ${discarded} · best val_bpb ${best?.toFixed(4) ?? '-'} (baseline ${baseline?.toFixed(4) ?? '-'}) · credits ${credits || '-'}`;
    if (line !== this.lastLine) {
      this.lastLine = line;
      this.o.print(`${this.clock()} ${line}`);
    }
  }

  private async finish(): Promise<Summary> {
    this.syncLedger();
    while (this.building) await this.building;
    await this.maybeRebuild(true);
    this.save(true);
    const pulls = [...this.gh.pulls.values()];
    const { best, baseline, first } = this.scores();
    const s: Summary = {
      url: this.url,
      state_dir: this.dir,
      minutes: Math.round((Date.now() - this.t0) / 600) / 100,
      prs: pulls.length,
      merged: pulls.filter((p) => p.merged).length,
      discarded: pulls.filter((p) => p.labels.includes('experiment:discarded')).length,
      invalid: pulls.filter((p) => p.labels.includes('experiment:invalid')).length,
      open: this.openPrs().length,
      runs: this.runs,
      failed_runs: this.failedRuns,
      first_baseline: first,
      baseline,
      best,
      credits: this.credits(),
      ledger_entries: this.entries.length,
    };
    return s;
  }

  /** Finish what is running, then summarize (as when the minutes are up). */
  requestStop(): void {
    this.o.minutes = 0;
  }

  /** Stops serving the leaderboard. */
  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export function formatSummary(s: Summary): string {
  const lines = [
    '',
    `swarm summary (${s.minutes} min, state in ${s.state_dir})`,
    `  PRs ${s.prs}: merged ${s.merged}, discarded ${s.discarded}, invalid ${s.invalid}, still open ${s.open}`,
    `  runs ${s.runs} (${s.failed_runs} without a score)`,
    `  val_bpb: main's first baseline ${s.first_baseline?.toFixed(4) ?? '-'}, best merged ${s.best?.toFixed(4) ?? '-'}, latest baseline of main ${s.baseline?.toFixed(4) ?? '-'}`,
    `  credits: ${Object.entries(s.credits).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`,
    `  ledger: ${s.ledger_entries} entries in ${join(s.state_dir, 'ledger')} (npm run ledger -- verify ${join(s.state_dir, 'ledger')})`,
  ];
  if (s.url) lines.push(`  leaderboard: ${s.url}`);
  return lines.join('\n');
}
