// The swarm simulator: the real App (createApp: handlers, policy, ledger store, runner route)
// against the faked GitHub, in virtual time, in one process, driven by one seeded generator.
// Agents open PRs; runner owners (honest and adversarial) register through the App's route and
// run the workflow runs GitHub Actions hands them; GitHub's webhooks reach the App as Probot
// deliveries. With `faults`, GitHub also answers 5xx, times out, rate-limits, redelivers and
// reorders webhooks, and the App restarts and runs as two processes. Invariants are checked
// after every simulated day. See docs/trust.md ("The swarm simulator").
import { clearCompareCache } from '../app/outdated.js';
import { readFileSync } from 'node:fs';
import type { Probot } from 'probot';
import { clearFileCache } from '../app/github/files.js';
import { clearHashCache } from '../app/github/hashes.js';
import { clearConfigCache } from '../app/session.js';
import { forgetForkApprovalPolicies } from '../app/github/fork-approval.js';
import { forgetScheduleChecks } from '../app/github/schedules.js';
import { auditLedger, isTail, parseLedgerText, type LedgerEntry } from '../ledger/index.js';
import { classSigmaOf } from '../app/baselines.js';
import { viewOf } from '../app/ledger-view.js';
import { harnessSha256, sha256 } from '../trainer/harness-version.js';
import { RESULT_SCHEMA_VERSION } from '../trainer/result.js';
import { floorFor } from '../trainer/pace-floors.js';
import { appKey, emitTick, installationPayload, loadApp, pullRequestOpenedPayload, pullRequestPayload, registerRunner, silentLog, toYaml, type RouteHandler } from './app-host.js';
import { seedTheApp } from './determinism.js';
import { APP_BOT, blobSha, FakeGitHub, OWNER, REPO, type Delivery, type Fault, type WorkflowRun } from './github/fake.js';
import { fakeFetch, type FakeFetch } from './github/fetch.js';
import { adversaryKinds, CLASSES, report, runSigma, trueBpb, type Behaviour, type HardwareClass, type Owner, type PrKind, type PublicRun, type Quality, type Report } from './model.js';
import { sealSeeded } from './seal.js';
import { Rng } from './rng.js';

const ROOT = new URL('..', import.meta.url);

export interface SimOptions {
  seed: number;
  experiments: number;
  /** share of runner owners that are adversarial (0..1) */
  adversaries: number;
  /** relative weights of the adversary kinds (default 1 each) */
  mix: Partial<Record<Behaviour, number>>;
  /** runner owners, spread over the classes */
  owners: number;
  /** honest PR authors */
  authors: number;
  /** share of PRs with a real improvement, and its size in run-sigmas of each class */
  improvementShare: number;
  improvementSigmas: number;
  /** share of PRs that change only the training seed */
  seedOnlyShare: number;
  /** mean seconds between PRs */
  arrivalSeconds: number;
  /** the App's settings: the policy knobs, written to .github/autoresearch.yml */
  config: Record<string, unknown>;
  /** extra YAML appended to the config (knobs of newer App versions) */
  configExtra: string;
  faults: boolean;
  /** probability that one GitHub request fails (5xx, timeout before or after its effect, or secondary rate limit) in a fault run */
  faultRate: number;
  /**
   * the fault run's own seed: the same swarm (agents, owners, noise) under another pattern of faults
   * (which requests fail, deliveries' latencies and redeliveries, restarts); default: from `seed`
   */
  faultSeed?: number;
  /** check 1 in this many requests and answers against GitHub's REST description (0: none) */
  checkEvery: number;
  /** stop after this much virtual time even if PRs are still open */
  maxDays: number;
  /** the spread between honest replays on non-deterministic (GPU) classes; default: each class's sigmaReplay; 0 makes them deterministic (TF_DETERMINISTIC_OPS) */
  sigmaReplay?: number;
  /** as a share of each class's loadChance: quiet runs whose machine is loaded from the middle of the run on (default 0) */
  midRunLoad?: number;
}

export const DEFAULTS: SimOptions = {
  seed: 1,
  experiments: 1000,
  adversaries: 0.2,
  mix: {},
  owners: 20,
  authors: 40,
  // 2%: with every PR's branch brought up to date, each real improvement stays one and can merge,
  // and the model's gains add up linearly: at 10% they ran the GPU class's val_bpb below 0 after ~45
  // merges, at 4% at one seed of four (lowest_true_bpb). ~20 3σ improvements per 1,000 PRs.
  improvementShare: 0.02,
  improvementSigmas: 3,
  seedOnlyShare: 0.1,
  arrivalSeconds: 60,
  config: {
    max_in_flight: 8,
    free_runs_per_day: 1000,
    close_on_discard: true,
  },
  configExtra: '',
  faults: false,
  faultRate: 0.05,
  checkEvery: 25,
  maxDays: 30,
};

export interface Figures {
  seed: number;
  experiments: number;
  adversary_share: number;
  false_merges: number;
  seed_only_merged: number;
  /**
   * merged share of the PRs that were a real improvement (`improvementSigmas` better than the
   * default branch) when the App decided them. A PR is a whole train.ts: once another improvement
   * merged, one opened on the older default branch lacks it and is no better than the new one, so
   * merging it would be a false merge; it counts in `opened_improvements_merged_pct` only
   */
  true_improvements_merged_pct: number;
  /** the counts behind it: such PRs decided, and merged (a sweep pools them over seeds: sim/sweep.ts) */
  true_improvements: number;
  true_improvements_merged: number;
  /** merged share of all PRs opened as an improvement, superseded ones included */
  opened_improvements_merged_pct: number;
  /** improvement PRs whose default branch moved (to a better train.ts) before they were decided */
  improvements_superseded: number;
  /**
   * The default branch's true val_bpb at the end, on the class where it is lowest. The model's
   * gains add up linearly (3 run-sigmas per merged improvement), so many merges drive it towards 0,
   * where results fail the schema and every later PR is discarded: below 0.1 the run is out of the
   * model's range (fewer improvements, `--improvements`, or fewer PRs).
   */
  lowest_true_bpb: number;
  adversary_credit_share: number;
  adversaries: number;
  adversaries_banned: number;
  verification_overhead: number;
  api_calls_per_experiment: number;
  merges: number;
  discarded: number;
  virtual_days: number;
  wall_seconds: number;
  /** CPU time of this process during the run (the machine may be shared: wall time depends on the load) */
  cpu_seconds: number;
  contract_problems: number;
  ledger_entries: number;
  /** JIT registrations through the App's route (one per job: runners are ephemeral) */
  runner_registrations: number;
  /** net credit (granted less reversed) by owner behaviour, as a share of all */
  credit_share_by_behaviour: Record<string, number>;
  /** the lazy runners' net credit, as a share of all (the figure replays are for: docs/trust.md 2b) */
  lazy_credit_share: number;
  /** adversaries' net credit by behaviour and by the role of the run it was for (candidate, verify, replay, baseline), as shares of all credit */
  adversary_credit_by_role: Record<string, Record<string, number>>;
  /** replay jobs the App dispatched (job_dispatched with a `replay` schedule), and those a runner ran */
  replays: number;
  replays_run: number;
  /** replays cancelled at the job's timeout (a schedule longer than the machine trains in it) */
  replay_timeouts: number;
  /** owner_faulted entries whose runs include a replay, and those of them against honest owners */
  replay_faults: number;
  replay_faults_honest: number;
  /** owner_faulted entries against honest owners, replays or fresh-seed runs (what framers aim at), and honest owners banned */
  honest_faulted: number;
  honest_banned: number;
  /**
   * where verification_overhead goes: GPU-seconds of each kind of run over the GPU-seconds of first
   * runs (they sum to verification_overhead - 1): candidate re-runs (another result of a PR's head:
   * off pace, lost, disagreements), fresh-seed verify runs, replays, baseline runs, runs cancelled
   */
  overhead_by_kind: Record<string, number>;
  /** owners whose runners the route refused for good (banned) */
  owners_refused: string[];
  /** jobs given back by the pre-flight pace check (off_pace results), their GPU-seconds, and valid-looking runs rejected as off pace after training */
  given_back: number;
  given_back_seconds: number;
  off_pace_after_training: number;
  /** jobs closed for no result within the deadline after their start, and for no runner taking them within the queue limit (cancelled) */
  jobs_overdue: number;
  jobs_queue_limit: number;
  /** PRs given up because no runner reported a result within their attempts */
  given_up: number;
  /** discards tried again after a ban voided the runs they rested on (app/policy/retrials.ts), and of those, merged in the end */
  discards_retried: number;
  retried_merged: number;
  /** each class's run-to-run sigma as the App pools it at the end (app/baselines.ts classSigmaOf) against the noise model's (sim/model.ts runSigma) */
  class_sigma: Record<string, { app: number | null; df: number; model: number }>;
  lost_merges?: number;
  double_dispatches?: number;
  double_charges?: number;
  stuck_prs?: number;
  ledger_verifies?: boolean;
  invariant_failures?: string[];
  faults_injected?: Record<string, number>;
  first_contract_problem?: string;
}

interface PrState {
  number: number;
  author: string;
  kind: PrKind;
  quality: Quality;
  head: string;
  opened: number;
}

interface Event {
  t: number;
  seq: number;
  run: () => Promise<void> | void;
}

/** A binary heap of events by (time, insertion order): ties run in the order they were scheduled. */
class Agenda {
  private heap: Event[] = [];
  private seq = 0;
  get size(): number {
    return this.heap.length;
  }
  push(t: number, run: Event['run']): void {
    const e = { t, seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): Event | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
const less = (a: Event, b: Event) => a.t < b.t || (a.t === b.t && a.seq < b.seq);

const HARNESS = { 'trainer/bpb.ts': 'export const bits = 8;\n', 'trainer/result.ts': 'export const v = 1;\n' };
const START = Date.parse('2026-12-01T00:00:00Z');
const DAY = 86_400_000;

export class Swarm {
  readonly o: SimOptions;
  readonly rng: Rng;
  private readonly rngAgents: Rng;
  private readonly rngRunners: Rng;
  private readonly rngNoise: Rng;
  private readonly rngFaults: Rng;
  /** the simulated harnesses' sealed boxes (ephemeral keys and ivs): seeded, so a run replays to the byte */
  private readonly rngSeal: Rng;
  t = START;
  readonly gh: FakeGitHub;
  readonly net: FakeFetch;
  private readonly agenda = new Agenda();
  /** the hardware classes of this run (CLASSES, with --sigma-replay applied to the non-deterministic ones) */
  private readonly hw: HardwareClass[];
  private readonly classes: Map<string, HardwareClass>;
  owners: Owner[] = [];
  private ownerByRunner = new Map<string, Owner>();
  private authors: string[] = [];
  private colluderAuthors = new Set<string>();
  prs = new Map<number, PrState>();
  /** the true quality of each train.ts, by its sha256: a commit's quality is its train.ts's */
  private qualityByFile = new Map<string, Quality>();
  /** each PR's change to the true quality (its line of train.ts) */
  private gains = new Map<number, number>();
  private mainQuality: Quality;
  private harnessByCommit = new Map<string, string>();
  /** GPU-seconds by whether the job was the first run of an experiment */
  gpu = { first: 0, all: 0 };
  /** GPU-seconds of runs other than first runs, by kind (Figures.overhead_by_kind) */
  private gpuExtra: Record<string, number> = {};
  private apps: Probot[] = [];
  private routeHandler: RouteHandler | null = null;
  private failedDeliveries: Delivery[] = [];
  faultsInjected: Record<string, number> = {};
  invariantFailures: string[] = [];
  private reported: Record<string, number> = {};
  private opened = 0;
  /** PRs without a final state yet, and the default branch's quality when each got one */
  private unsettled = new Set<number>();
  private decidedOn = new Map<number, number>();
  private nextPr = 1;
  private restore: () => void = () => {};
  private readonly privateKey: string;
  private cpu0 = 0;

  constructor(opts: Partial<SimOptions> = {}) {
    this.o = { ...DEFAULTS, ...opts, config: { ...DEFAULTS.config, ...(opts.config ?? {}) } };
    this.rng = new Rng(this.o.seed);
    this.rngAgents = this.rng.fork('agents');
    this.rngRunners = this.rng.fork('runners');
    this.rngNoise = this.rng.fork('noise');
    this.rngFaults = this.rng.fork('faults'); // forked either way: the later forks stay the same
    if (this.o.faultSeed !== undefined) this.rngFaults = new Rng(this.o.faultSeed).fork('faults');
    this.rngSeal = this.rng.fork('seal');
    this.gh = new FakeGitHub({ now: () => this.t, rateLimits: true });
    this.net = fakeFetch(this.gh, { checkEvery: this.o.checkEvery });
    this.mainQuality = { u: 0 };
    this.hw = CLASSES.map((c) => (this.o.sigmaReplay !== undefined && !c.deterministic ? { ...c, sigmaReplay: this.o.sigmaReplay, deterministic: this.o.sigmaReplay === 0 } : c));
    this.classes = new Map(this.hw.map((c) => [c.name, c]));
    // a fixed key: generating one costs ~100 ms, and nothing in the run depends on it
    this.privateKey = appKey();
  }

  // --- setup ---

  private repoFiles(): Record<string, string> {
    const wf = (name: string) => readFileSync(new URL(`.github/workflows/${name}`, ROOT), 'utf8');
    return {
      ...HARNESS,
      'trainer/train.ts': mainTrainTs(this.o.experiments),
      '.github/workflows/experiment.yml': wf('experiment.yml'),
      '.github/workflows/tick.yml': wf('tick.yml'),
      '.github/autoresearch.yml': toYaml(this.o.config) + (this.o.configExtra ? `\n${this.o.configExtra}\n` : ''),
    };
  }

  private async newApp(): Promise<Probot> {
    const { probot, route } = await loadApp({ fetch: this.net.fetch, now: () => new Date(this.t), privateKey: this.privateKey, log: silentLog(), sealSecret: `simulated App ${this.o.seed}` });
    this.routeHandler ??= route;
    return probot;
  }

  private setupOwners(): void {
    const n = this.o.owners;
    const bad = adversaryKinds(Math.round(n * this.o.adversaries), this.o.mix);
    const behaviours: Behaviour[] = [...bad, ...Array(Math.max(0, n - bad.length)).fill('honest')];
    const unpaired = new Map<Behaviour, Owner>();
    behaviours.forEach((b, i) => {
      const cls = this.hw[i % this.hw.length];
      const login = b === 'honest' ? `owner-${i}` : `${b.replace('_', '-')}-${i}`;
      const o: Owner = { login, behaviour: b, claimedClass: cls.name, machine: cls };
      if (b === 'class_liar') {
        // a GPU machine registered as the CPU class: everything it runs beats the CPU baseline
        o.machine = this.hw.find((c) => c.name.startsWith('gpu'))!;
        o.claimedClass = this.hw.find((c) => c.name.startsWith('cpu'))!.name;
      }
      // a shader or a mimic works where replays compare val_bpb (on a CPU class a replay checks the
      // digest and score exactly: it catches any runner that never trained)
      if (b === 'shader' || b === 'mimic') o.machine = this.hw.find((c) => !c.deterministic) ?? cls;
      if (b === 'shader' || b === 'mimic') o.claimedClass = o.machine.name;
      if (b === 'sybil' || b === 'framer') {
        // the two accounts of a pair: one actor's, on one class
        const first = unpaired.get(b);
        if (first) {
          o.partner = first.login;
          first.partner = o.login;
          o.claimedClass = first.claimedClass;
          o.machine = first.machine;
          unpaired.delete(b);
        } else unpaired.set(b, o);
      }
      if (b === 'colluder') {
        o.partner = `author-of-${login}`;
        this.colluderAuthors.add(o.partner);
      }
      this.owners.push(o);
      // a Sybil's accounts and a colluder's author are sock accounts, made days before they act
      const fresh = new Date(START - (2 + (i % 5)) * DAY).toISOString();
      if (b === 'sybil') this.gh.accounts.set(login, { created_at: fresh });
      if (b === 'colluder') this.gh.accounts.set(o.partner!, { created_at: fresh });
    });
    this.authors = Array.from({ length: this.o.authors }, (_, i) => `agent-${i}`);
  }

  /**
   * The join loop of `runner join`: one JIT config, one ephemeral runner, one job, then again.
   * A refusal with retry-after is waited out; a ban (403) ends the owner's loop.
   */
  private async join(o: Owner): Promise<void> {
    const r = await this.register(o);
    if (r.ok) return;
    if (r.status === 403) {
      o.refused = r.text;
      return;
    }
    this.agenda.push(this.t + (r.retryAfter ?? 60) * 1000, () => this.join(o));
  }

  /** Registers an owner's runner through the App's route, as `runner join` does. */
  private async register(o: Owner): Promise<{ ok: boolean; status: number; text: string; retryAfter?: number }> {
    const r = await registerRunner(this.routeHandler, o.login, o.claimedClass);
    this.registrations++;
    if (!r.ok) return r;
    o.runnerName = r.runnerName!;
    this.ownerByRunner.set(o.runnerName, o);
    // the owner starts the runner with its configuration: GitHub sees it online
    const runner = this.gh.runners.find((x) => x.name === o.runnerName);
    if (runner) runner.status = 'online';
    return r;
  }
  registrations = 0;

  // --- the run ---

  async run(): Promise<Figures> {
    const wall0 = performance.now();
    this.cpu0 = (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
    this.restore = seedTheApp(this.rng.fork('app'), () => this.t);
    const realFetch = globalThis.fetch;
    // the runner route asks GitHub who a token belongs to with its own Octokit (global fetch)
    globalThis.fetch = this.net.fetch;
    clearFileCache();
    clearHashCache();
    clearConfigCache();
    forgetForkApprovalPolicies();
    forgetScheduleChecks();
    clearCompareCache();
    try {
      // GitHub sends pull_request.synchronize when it updates a PR's branch for the App
      this.gh.pushed = (p, before) => this.gh.emit('pull_request', pullRequestPayload('synchronize', p.number, p.title, p.head, p.user, { before, sender: APP_BOT }));
      const main = this.gh.commit(this.repoFiles(), null, 'initial');
      this.gh.refs.set('heads/main', main);
      this.qualityByFile.set(sha256(this.gh.fileAt(main, 'trainer/train.ts')!), this.mainQuality);
      this.apps = [await this.newApp()];
      if (this.o.faults) this.apps.push(await this.newApp());
      this.setupOwners();
      for (const o of this.owners) {
        const r = await this.register(o);
        // refused at the door (a Sybil's young account, a ban list): the owner never runs a job
        if (r.status === 403) o.refused = r.text;
        else if (!r.ok) throw new Error(`registering ${o.login}'s first runner: HTTP ${r.status} ${r.text}`);
      }
      if (this.o.faults) this.installChaos();
      await this.deliver(this.gh.emit('installation', installationPayload()));
      this.schedulePr(this.t + 60_000);
      for (let d = 1; d <= this.o.maxDays; d++) this.agenda.push(START + d * DAY, () => this.checkInvariants(`day ${d}`));
      this.agenda.push(this.t + 600_000, () => this.tick());
      await this.loop();
      this.gh.faults = [];
      (this.gh as any).chaos = null;
      return this.figures(wall0);
    } finally {
      globalThis.fetch = realFetch;
      this.restore();
    }
  }

  private done(): boolean {
    if (this.opened < this.o.experiments) return false;
    return [...this.prs.values()].every((p) => this.finalState(p.number) !== null);
  }

  private async loop(): Promise<void> {
    const end = START + this.o.maxDays * DAY;
    let quietSince: number | null = null;
    let settled = 0;
    let progressAt = this.t;
    while (this.agenda.size) {
      const e = this.agenda.pop()!;
      if (e.t > end) break;
      this.t = Math.max(this.t, e.t);
      await e.run();
      this.noteDecisions();
      this.assignJobs();
      this.drainOutbox();
      if (this.done()) {
        // keep ticking for two hours after the last PR settled: late results, baselines, reconcile
        quietSince ??= this.t;
        if (this.t - quietSince > 2 * 3_600_000) break;
        continue;
      }
      // a PR settled may be unsettled again (a discard re-tried after a ban: app/retrials.ts); the two
      // hours count from the last settling (before, the run ended the moment such a PR was merged,
      // with its merge still an intent: a "lost merge" of the fault run, seed 1, the App's draws shifted)
      quietSince = null;
      if (this.opened >= this.o.experiments) {
        // every PR opened, some still open: stop once a whole day passes with none settling (stuck)
        const now = [...this.prs.values()].filter((p) => this.finalState(p.number) !== null).length;
        if (now !== settled) [settled, progressAt] = [now, this.t];
        else if (this.t - progressAt > DAY) break;
      }
    }
    await this.checkInvariants('end');
  }

  /** The default branch's quality when each PR first reached a final state (a merged PR: its parent's). */
  private noteDecisions(): void {
    for (const n of this.unsettled) {
      const st = this.finalState(n);
      if (st === null) continue;
      this.unsettled.delete(n);
      const m = st === 'merged' ? this.gh.merges.find((x) => x.pr === n) : undefined;
      const main = m ? this.gh.commits.get(m.merge_sha)!.parents[0] : this.gh.refs.get('heads/main')!;
      this.decidedOn.set(n, this.qualityOf(main).u);
    }
  }

  // --- agents ---

  private schedulePr(at: number): void {
    if (this.opened >= this.o.experiments) return;
    this.agenda.push(at, async () => {
      await this.openPr();
      this.schedulePr(this.t + this.rngAgents.exponential(this.o.arrivalSeconds) * 1000);
    });
  }

  private async openPr(): Promise<void> {
    const r = this.rngAgents;
    const n = this.nextPr++;
    this.opened++;
    const colluders = [...this.colluderAuthors];
    const x = r.next();
    // a colluding author opens about as many PRs as an honest one
    const kind: PrKind = colluders.length && r.chance(colluders.length / (this.authors.length + colluders.length)) ? 'collusion' : x < this.o.improvementShare ? 'improvement' : x < this.o.improvementShare + this.o.seedOnlyShare ? 'seed_only' : 'null';
    const author = kind === 'collusion' ? r.pick(colluders) : r.pick(this.authors);
    const base = this.gh.refs.get('heads/main')!;
    const mq = this.qualityOf(base);
    // a null change is no better than main (often a little worse); a seed change keeps the code
    const du = kind === 'improvement' ? -this.o.improvementSigmas : kind === 'seed_only' ? 0 : kind === 'collusion' ? 0.5 : Math.abs(r.normal()) * 0.5;
    const quality: Quality = { u: mq.u + du };
    // each PR changes its own line of train.ts: git merges two PRs' changes without a conflict,
    // and a file's quality is the default's plus the gains of the changes it holds (qualityOf)
    const text = new TextDecoder().decode(this.gh.fileAt(base, 'trainer/train.ts')!).replace(`// slot ${n}\n`, `// slot ${n}: experiment (${kind})\n`);
    this.gains.set(n, du);
    const head = this.gh.commit({ 'trainer/train.ts': text }, base, `pr ${n}`);
    this.qualityByFile.set(sha256(text), quality);
    this.prs.set(n, { number: n, author, kind, quality, head, opened: this.t });
    this.unsettled.add(n);
    this.gh.pulls.set(n, { number: n, title: `Experiment ${n}`, user: author, head, files: [{ filename: 'trainer/train.ts', status: 'modified' }], labels: [], state: 'open', merged: false, created_at: new Date(this.t).toISOString() });
    this.gh.emit('pull_request', pullRequestOpenedPayload(n, `Experiment ${n}`, head, author));
  }

  // --- GitHub Actions: runners take queued runs ---

  private assignJobs(): void {
    for (const run of [...this.gh.workflowRuns.values()]) {
      if (run.status !== 'queued' || run.runner_name || run.workflow !== 'experiment.yml') continue;
      const idle = this.gh.runners.filter((r) => r.status === 'online' && !r.busy && run.runsOn.every((l) => r.labels.map((x) => x.toLowerCase()).includes(l.toLowerCase())));
      if (!idle.length) continue;
      const runner = this.rngRunners.pick(idle);
      this.gh.startRun(run.id, runner.name);
      const owner = this.ownerByRunner.get(runner.name);
      if (!owner) throw new Error(`run ${run.id} ran on ${runner.name}, a runner no owner started`);
      // the owner's harness decides at the start what it will do (train on the clock, replay the
      // given schedule, or make a result up) and how long that takes; the result is written at the end
      owner.runs = (owner.runs ?? 0) + 1;
      const r = report(owner, this.jobView(run, owner), this.classes, this.rngNoise, this.o.midRunLoad ?? 0);
      const budget = Number(run.inputs.budget ?? 300);
      // the harness's pre-flight check (trainer/train-phase.ts): a run that trains compares its
      // calibration before training with the App's floor for its class; below it, the job is given
      // back after the backend's load and the calibration, 5-15 s (a run that never trains claims a
      // quiet machine, so it never gives back)
      const floor = r.trained ? floorFor(run.inputs.pace_floors ? JSON.parse(run.inputs.pace_floors) : null, owner.claimedClass, r.calibration.workload) : null;
      if (floor !== null && r.calibration.before_gflops < floor) {
        const secs = this.rngRunners.uniform(5, 15);
        this.agenda.push(this.t + secs * 1000, () => this.finishJob(run, owner, r, secs, floor));
        continue;
      }
      const secs = r.trainSeconds + this.rngRunners.uniform(30, 60);
      if (run.inputs.replay) {
        this.replays++;
        this.replayNonces.add(run.inputs.nonce);
      }
      // experiment.yml's timeout-minutes: past it GitHub cancels the job ("automatically cancels it",
      // workflow syntax); a replay longer than this machine can train in it never reports
      const limit = (budget <= 300 ? 20 : budget <= 900 ? 35 : budget <= 3600 ? 90 : 360) * 60;
      if (secs > limit) {
        this.replayTimeouts += run.inputs.replay ? 1 : 0;
        this.agenda.push(this.t + limit * 1000, () => this.cancelJob(run, owner, limit));
      } else this.agenda.push(this.t + secs * 1000, () => this.finishJob(run, owner, r, secs));
    }
  }
  /** replay runs dispatched that a runner took, and those cancelled at the job's timeout */
  private replays = 0;
  private replayTimeouts = 0;
  /** nonces of replay runs (the workflow input `replay` non-empty) */
  private replayNonces = new Set<string>();

  private cancelJob(run: WorkflowRun, owner: Owner, seconds: number): void {
    if (run.status !== 'in_progress') return;
    this.gpu.all += seconds;
    this.gpuExtra.cancelled = (this.gpuExtra.cancelled ?? 0) + seconds;
    this.gh.finishRun(run, 'cancelled');
    this.agenda.push(this.t + this.rngRunners.uniform(5, 30) * 1000, () => this.join(owner));
  }

  private harnessOf(commit: string): string {
    let h = this.harnessByCommit.get(commit);
    if (!h) {
      const c = this.gh.commits.get(commit)!;
      h = harnessSha256([...this.gh.trees.get(c.tree)!].map(([path, content]) => ({ path, content })));
      this.harnessByCommit.set(commit, h);
    }
    return h;
  }

  /** The public facts an adversary could read about a job: the PR's author, the baseline, the claim it verifies. */
  private jobView(run: WorkflowRun, owner: Owner): Parameters<typeof report>[1] {
    const i = run.inputs;
    const pr = i.pr ? Number(i.pr) : null;
    const quality = this.qualityOf(i.sha);
    const entries = this.publicLedger();
    const bl = [...entries].reverse().find((e) => e.type === 'baseline_recorded' && (e.data as any).hardware_class === owner.claimedClass);
    const mean = bl ? (bl.data as any).mean : null;
    const sigma = bl ? (bl.data as any).sigma : 0;
    // the App's public claim threshold (its check runs show it): the baseline less `screen` standard errors of one run
    const v = (this.o.config.verification ?? {}) as { screen?: number };
    const n = bl ? (bl.data as any).n : 1;
    const threshold = mean === null ? null : mean - (v.screen ?? 1) * sigma * Math.sqrt(1 + 1 / n);
    const job = [...entries].reverse().find((e) => e.type === 'job_dispatched' && (e.data as any).job_id === i.nonce);
    let claim: { bpb: number; owner: string | null } | null = null;
    if (i.role === 'verify') {
      const claimId = (job?.data as any)?.verifies;
      const res = entries.find((e) => e.type === 'result_recorded' && (e.data as any).job_id === claimId);
      const v = (res?.data as any)?.result?.val_bpb;
      if (typeof v === 'number') claim = { bpb: v, owner: (res!.data as any).runner_owner ?? null };
    }
    const replay = i.replay ? String(i.replay) : null;
    const candidate = this.gh.fileAt(i.sha, 'trainer/train.ts');
    return {
      role: i.role as 'candidate' | 'verify' | 'baseline',
      pr,
      author: pr ? (this.prs.get(pr)?.author ?? null) : null,
      quality,
      baselineMean: mean,
      claim,
      threshold,
      code: candidate ? sha256(candidate) : '0'.repeat(64),
      seed: i.seed === undefined ? 1337 : Number(i.seed),
      evalSeed: Number(i.eval_seed),
      budget: Number(i.budget ?? 300),
      replay,
      original: replay ? this.originalOf(replay, job?.data) : null,
    };
  }

  /**
   * The run a replay replays, as a reader of the public ledger and artifacts finds it: the job the
   * dispatch names (whichever field of job_dispatched names it), else the latest run on the clock
   * whose public schedule is the one to replay.
   */
  private originalOf(schedule: string, dispatched: any): PublicRun | null {
    for (const k of ['replays', 'replay_of', 'verifies', 'original']) {
      const id = dispatched?.[k];
      const r = typeof id === 'string' ? this.publicRuns.get(id) : undefined;
      if (r) return r;
    }
    let found: PublicRun | null = null;
    for (const r of this.publicRuns.values()) if (r.schedule === schedule && !this.replayNonces.has(r.nonce)) found = r;
    return found;
  }

  private lite: { seq: number; type: string; data: any }[] = [];
  private liteSeen = new Set<string>();
  /**
   * The ledger's entries as a reader of the branch sees them, read incrementally (only lines
   * after the last known seq are parsed; not validated): what adversaries look at between jobs.
   */
  private publicLedger(): { seq: number; type: string; data: any }[] {
    const head = this.gh.refs.get('heads/ledger');
    const commit = head ? this.gh.commits.get(head) : undefined;
    if (!commit) return this.lite;
    for (const [path, bytes] of this.gh.trees.get(commit.tree)!) {
      if (!path.startsWith('entries/')) continue;
      const key = `${path}:${blobSha(bytes)}`;
      if (this.liteSeen.has(key)) continue;
      this.liteSeen.add(key);
      const lines = new TextDecoder().decode(bytes).split('\n');
      const fresh: { seq: number; type: string; data: any }[] = [];
      for (let i = lines.length - 1; i >= 0; i--) {
        if (!lines[i].trim()) continue;
        const e = JSON.parse(lines[i]);
        if (e.seq < this.lite.length) break;
        fresh.push(e);
      }
      for (const e of fresh.reverse()) if (e.seq === this.lite.length) this.lite.push(e);
    }
    return this.lite;
  }

  private ledgerCache: { head: string; entries: LedgerEntry[] } | null = null;
  /** parsed files by blob: sealed shards never change, so only the tail is parsed again */
  private shardCache = new Map<string, LedgerEntry[]>();
  /** The ledger as the App wrote it on its branch (what anyone can read). */
  ledger(): LedgerEntry[] {
    const head = this.gh.refs.get('heads/ledger') ?? '';
    if (this.ledgerCache?.head === head) return this.ledgerCache.entries;
    const commit = this.gh.commits.get(head);
    const files = commit ? [...this.gh.trees.get(commit.tree)!].filter(([p]) => p.startsWith('entries/')) : [];
    const parts: { start: number; entries: LedgerEntry[] }[] = [];
    const seen = new Set<string>();
    for (const [path, bytes] of files) {
      const key = `${path}:${blobSha(bytes)}`;
      seen.add(key);
      let entries = this.shardCache.get(key);
      if (!entries) {
        entries = parseLedgerText([{ path, text: new TextDecoder().decode(bytes) }]);
        this.shardCache.set(key, entries);
      }
      parts.push({ start: isTail(path) ? Infinity : (entries[0]?.seq ?? 0), entries });
    }
    for (const k of this.shardCache.keys()) if (!seen.has(k)) this.shardCache.delete(k);
    const entries = parts.sort((a, b) => a.start - b.start).flatMap((p) => p.entries);
    this.ledgerCache = { head, entries };
    return entries;
  }

  /** `floor`: the job was given back by the pre-flight check (below this floor), after `seconds` */
  private finishJob(run: WorkflowRun, owner: Owner, rep: Report, seconds: number, floor?: number): void {
    if (run.status !== 'in_progress') {
      // cancelled while it ran (the App cancels only queued runs, so this is a safety net): the
      // machine worked until then, and the owner's join loop goes on
      if (run.conclusion === 'cancelled' && run.runner_name === owner.runnerName && run.completed_at !== null && run.started_at !== null) {
        const worked = (run.completed_at - run.started_at) / 1000;
        this.gpu.all += worked;
        this.gpuExtra.cancelled = (this.gpuExtra.cancelled ?? 0) + worked;
        this.agenda.push(this.t + this.rngRunners.uniform(5, 30) * 1000, () => this.join(owner));
      }
      return;
    }
    const { bpb, calibration } = rep;
    const i = run.inputs;
    this.gpu.all += seconds;
    if (floor !== undefined) {
      this.givenBack.count++;
      this.givenBack.seconds += seconds;
    }
    // a job given back is not the experiment's first run: the run that replaces it is
    const first = floor === undefined && i.role === 'candidate' && !this.firstRunSeen.has(`${i.pr}@${i.sha}`);
    if (first) {
      this.firstRunSeen.add(`${i.pr}@${i.sha}`);
      this.gpu.first += seconds;
    } else {
      const kind = i.replay ? 'replay' : i.role === 'candidate' ? 'candidate_rerun' : String(i.role);
      this.gpuExtra[kind] = (this.gpuExtra[kind] ?? 0) + seconds;
    }
    const candidate = this.gh.fileAt(i.sha, 'trainer/train.ts');
    const valBpb = Number(bpb.toFixed(6));
    const gpu = owner.machine.name.startsWith('gpu');
    const result = {
      schema_version: RESULT_SCHEMA_VERSION,
      harness_version: '1.0.0',
      status: 'ok',
      failure: null,
      val_bpb: valBpb,
      unigram_bpb: 4.468,
      bigram_bpb: 3.549,
      eval_bytes: 65536,
      eval_split: 'heldout',
      dataset: 'brown',
      steps: rep.steps,
      tokens: rep.steps * 2048,
      budget_seconds: Number(i.budget ?? 300),
      train_seconds: Math.round(Math.min(rep.trainSeconds, seconds)),
      total_seconds: Math.round(seconds),
      tokens_per_second: owner.machine.tokensPerSecond,
      params: 120_000,
      backend: gpu ? 'tensorflow' : 'wasm',
      device: owner.machine.name,
      hardware_class: owner.claimedClass,
      peak_memory_mb: 900,
      // the dispatched training seed (older workflows without the input: the harness default)
      seed: i.seed === undefined ? 1337 : Number(i.seed),
      eval_seed: Number(i.eval_seed),
      calibration,
      replay: this.replayField(rep, i.nonce, valBpb, i.seal_key ?? '') as ReturnType<Swarm['replayField']> | null,
      candidate_sha256: candidate ? sha256(candidate) : '0'.repeat(64),
      harness_sha256: this.harnessOf(run.head_sha),
      loss_curve: [{ step: 0, t: 0, loss: 5.5 }],
      started_at: new Date(run.started_at!).toISOString(),
      finished_at: new Date(this.t).toISOString(),
      job: { role: i.role, nonce: i.nonce, repo: `${OWNER}/${REPO}`, pr: i.pr ? Number(i.pr) : null, sha: i.sha, run_id: run.id, runner_name: run.runner_name, isolation: 'docker' },
    };
    if (floor !== undefined) {
      // what the harness writes when it gives a job back: no training, no score, the calibration and the floor
      Object.assign(result, { status: 'off_pace', val_bpb: null, steps: 0, tokens: 0, train_seconds: 0, tokens_per_second: 0, params: 0, replay: null, loss_curve: [], unigram_bpb: 0, bigram_bpb: 0, eval_bytes: 0 });
      Object.assign(result, { calibration: { ...calibration, after_gflops: 0 }, preflight: { workload: calibration.workload, gflops: calibration.before_gflops, floor_gflops: floor } });
    }
    // what anyone can download: the artifact (a replayer that never trains copies from it)
    if (result.replay) this.publicRuns.set(i.nonce, { nonce: i.nonce, owner: owner.login, val_bpb: valBpb, schedule: result.replay.schedule, sealed: result.replay.sealed ?? null, digest: result.replay.digest ?? null });
    this.gh.finishRun(run, 'success', { name: `result-${i.nonce}`, files: { 'result.json': JSON.stringify(result), 'train.log': 'step 0 loss 5.5\n' } });
    // the join loop starts a fresh runner a little later
    this.agenda.push(this.t + this.rngRunners.uniform(5, 30) * 1000, () => this.join(owner));
  }

  /**
   * result.replay as the harness writes it (trainer/result.ts): the run's schedule, the one it
   * replayed, and the checkpoint's digest sealed to the dispatch's seal key with the job's nonce and
   * val_bpb, or in clear when the dispatch had no seal key. A copied proof is put in as it was.
   */
  private replayField(rep: Report, nonce: string, valBpb: number, sealKey: string): { schedule: string; of: string | null; digest?: string; sealed?: string } {
    const out: { schedule: string; of: string | null; digest?: string; sealed?: string } = { schedule: rep.schedule, of: rep.of };
    const p = rep.proof;
    if ('copy' in p) {
      // a clear digest copied is a digest; a sealed box copied is that box (with its run's nonce)
      if (sealKey && p.copy.sealed) out.sealed = p.copy.sealed;
      else if (sealKey && p.copy.digest) out.sealed = sealSeeded(this.rngSeal, sealKey, JSON.stringify({ nonce, digest: p.copy.digest, val_bpb: valBpb }));
      else if (p.copy.digest) out.digest = p.copy.digest;
      else if (p.copy.sealed) out.sealed = p.copy.sealed;
      return out;
    }
    if (sealKey) out.sealed = sealSeeded(this.rngSeal, sealKey, JSON.stringify({ nonce, digest: p.digest, val_bpb: valBpb }));
    else out.digest = p.digest;
    return out;
  }
  /** every finished run's public result, by nonce */
  private publicRuns = new Map<string, PublicRun>();
  private firstRunSeen = new Set<string>();
  private givenBack = { count: 0, seconds: 0 };

  private async tick(): Promise<void> {
    emitTick(this.gh, 700_000 + Math.floor((this.t - START) / 1000), this.t);
    // the operator's redelivery script (GitHub does not redeliver failed deliveries by itself)
    const failed = this.failedDeliveries.splice(0);
    for (const d of failed) this.agenda.push(this.t + this.rngFaults.uniform(1, 60) * 1000, () => this.deliver(d));
    this.agenda.push(this.t + 600_000, () => this.tick());
  }

  // --- webhooks ---

  private drainOutbox(): void {
    for (const d of this.gh.outbox.splice(0)) {
      const latency = this.o.faults ? this.rngFaults.uniform(0.5, 120) : this.rngFaults.uniform(0.5, 3);
      this.agenda.push(this.t + latency * 1000, () => this.deliver(d));
      if (this.o.faults && this.rngFaults.chance(this.o.faultRate)) {
        this.count('redelivery');
        this.agenda.push(this.t + this.rngFaults.uniform(5, 3600) * 1000, () => this.deliver(d));
      }
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    const event = { id: d.id, name: d.name, payload: d.payload } as any;
    try {
      if (this.o.faults && this.rngFaults.chance(0.01)) {
        this.count('app_restart');
        this.apps[0] = await this.newApp();
        clearFileCache();
        clearHashCache();
        clearConfigCache();
        forgetForkApprovalPolicies();
      }
      if (this.o.faults && this.rngFaults.chance(this.o.faultRate)) {
        // the same delivery handled by both processes at once
        this.count('concurrent_delivery');
        const results = await Promise.allSettled(this.apps.map((a) => a.receive(event)));
        if (results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason;
        return;
      }
      const app = this.o.faults ? this.rngFaults.pick(this.apps) : this.apps[0];
      await app.receive(event);
    } catch (e) {
      // SIM_DEBUG: each failed delivery, with where it failed (redelivered by the next tick)
      if (process.env.SIM_DEBUG) process.stderr.write(`delivery failed at ${new Date(this.t).toISOString()}: ${d.name}: ${String((e as Error)?.stack).split('\n').slice(0, 5).join(' | ')}\n`);
      this.failedDeliveries.push(d);
    }
  }

  // --- faults ---

  private count(kind: string): void {
    this.faultsInjected[kind] = (this.faultsInjected[kind] ?? 0) + 1;
  }

  private installChaos(): void {
    const r = this.rngFaults;
    (this.gh as any).chaos = (method: string, path: string): Fault | null => {
      if (path.endsWith('/access_tokens') || !r.chance(this.o.faultRate)) return null;
      const x = r.next();
      if (x < 0.5) {
        this.count('5xx');
        return { method, path: /./, status: r.pick([500, 502, 503]) };
      }
      if (x < 0.75) {
        // half the timeouts lose only the answer: GitHub did what was asked
        const landed = r.chance(0.5);
        this.count(landed ? 'timeout_after_effect' : 'timeout');
        return { method, path: /./, status: 0, timeout: true, landed };
      }
      this.count('secondary_rate_limit');
      return {
        method,
        path: /./,
        status: r.chance(0.5) ? 403 : 429,
        body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
        headers: { 'retry-after': '60' },
      };
    };
  }

  // --- outcomes and invariants ---

  /** merged, discarded, invalid or closed: the PR's final state on GitHub; null while open. */
  finalState(n: number): string | null {
    const p = this.gh.pulls.get(n)!;
    if (p.merged) return 'merged';
    const l = p.labels.find((x) => /^experiment:(merged|discarded|invalid)$/.test(x));
    if (l) return l.slice('experiment:'.length);
    return p.state === 'closed' ? 'closed' : null;
  }

  private async checkInvariants(when: string): Promise<void> {
    const entries = this.ledger();
    const audit = auditLedger(entries, { freeRunsPerDay: Number(this.o.config.free_runs_per_day ?? 3) });
    if (!audit.ok) this.invariantFailures.push(`${when}: ledger audit: seq ${audit.seq}: ${audit.problem}`);
    const inv = this.invariants(entries);
    // each invariant is reported when it first fails and whenever its count grows
    for (const [k, v] of Object.entries(inv)) {
      if (v > (this.reported[k] ?? 0)) this.invariantFailures.push(`${when}: ${k} = ${v}${this.examples[k] ? ` (e.g. ${this.examples[k]})` : ''}`);
      this.reported[k] = Math.max(v, this.reported[k] ?? 0);
    }
  }

  /** one instance of each invariant that failed, for its report */
  private examples: Record<string, string | undefined> = {};

  /**
   * The durability invariants (issue 14), from what GitHub did and what the ledger says:
   * - lost merge: a PR GitHub merged without an experiment_merged entry;
   * - double dispatch: two workflow runs that both ran (a runner took them) for one job: the same
   *   nonce twice, or the same (PR, head, role, attempt, verified claim) on the same default-branch
   *   commit. A run of the same PR head against a newer default branch (re-tested after a merge,
   *   "not rocket science"), after a recorded failure (the next attempt) or after its discard (a
   *   retrial once a ban voided the runs it rested on) is a new job, not a double;
   * - double charge: two credit_spent entries for jobs of one (PR, head).
   */
  invariants(entries: LedgerEntry[]): { lost_merges: number; double_dispatches: number; double_charges: number } {
    const mergedInLedger = new Set(entries.filter((e) => e.type === 'experiment_merged').map((e) => (e.data as any).pr));
    const lost = this.gh.merges.filter((m) => !mergedInLedger.has(m.pr)).length;
    // a commit run again after its discard (reopened, or re-tried after a ban: app/policy/retrials.ts)
    // is a new round of jobs; so is a claim sent to another class (no owner of its own class was
    // left to verify it: app/handlers/workflow-run.ts, run_elsewhere), whose first run there is a candidate again
    // (once per class: a commit queued twice for the same class is one round, so two candidates there are a double)
    const jobs = new Map<string, any>();
    const discards = new Map<string, number>();
    const elsewhere = new Set<string>();
    for (const e of entries) {
      const d = e.data as any;
      const moved = e.type === 'experiment_queued' && d.on_class && !elsewhere.has(`${d.pr}@${d.sha} ${d.on_class}`);
      if (moved) elsewhere.add(`${d.pr}@${d.sha} ${d.on_class}`);
      if (e.type === 'experiment_discarded' || moved) discards.set(`${d.pr}@${d.sha}`, (discards.get(`${d.pr}@${d.sha}`) ?? 0) + 1);
      if (e.type === 'job_dispatched') jobs.set(d.job_id, { ...d, round: discards.get(`${d.pr}@${d.sha}`) ?? 0 });
    }
    const ran = new Map<string, number>();
    const add = (k: string) => ran.set(k, (ran.get(k) ?? 0) + 1);
    for (const r of this.gh.workflowRuns.values()) {
      if (r.started_at === null || r.workflow !== 'experiment.yml') continue;
      add(`nonce ${r.inputs.nonce}`);
      const d = jobs.get(r.inputs.nonce);
      if (d && d.pr !== null && d.role !== 'baseline') add(`job ${d.pr}@${d.sha}/${d.role}/${d.attempt}/${d.verifies ?? ''}/${d.round} on ${r.head_sha}`);
    }
    const charges = new Map<string, number>();
    for (const e of entries) {
      if (e.type !== 'credit_spent') continue;
      const d = jobs.get((e.data as any).job_id);
      const k = d && d.pr !== null ? `${d.pr}@${d.sha}` : (e.data as any).job_id;
      charges.set(k, (charges.get(k) ?? 0) + 1);
    }
    const doubles = [...ran].filter(([, n]) => n > 1).map(([k]) => k);
    const doubleCharges = [...charges].filter(([, n]) => n > 1).map(([k]) => k);
    this.examples = { double_dispatches: doubles[0], double_charges: doubleCharges[0], lost_merges: this.gh.merges.find((m) => !mergedInLedger.has(m.pr))?.pr.toString() };
    return { lost_merges: lost, double_dispatches: doubles.length, double_charges: doubleCharges.length };
  }

  private classSigma(entries: LedgerEntry[]): Figures['class_sigma'] {
    const view = viewOf(entries);
    return Object.fromEntries(
      this.hw.map((c) => {
        const p = classSigmaOf(view, c.name);
        return [c.name, { app: p ? round(p.sigma, 5) : null, df: p?.df ?? 0, model: round(runSigma(c), 5) }];
      }),
    );
  }

  /** PR commits queued again after their discard (a ban's retrial), and how many of them merged. */
  private retrials(entries: LedgerEntry[]): { discards_retried: number; retried_merged: number } {
    const discarded = new Set<string>();
    const retried = new Set<string>();
    for (const e of entries) {
      const d = e.data as { pr?: number; sha?: string };
      const k = `${d.pr}@${d.sha}`;
      if (e.type === 'experiment_discarded') discarded.add(k);
      else if (e.type === 'experiment_queued' && discarded.has(k)) retried.add(k);
    }
    const merged = [...retried].filter((k) => this.finalState(Number(k.split('@')[0])) === 'merged').length;
    return { discards_retried: retried.size, retried_merged: merged };
  }

  private figures(wall0: number): Figures {
    const entries = this.ledger();
    const prs = [...this.prs.values()];
    const merged = prs.filter((p) => this.finalState(p.number) === 'merged');
    const improvements = prs.filter((p) => p.kind === 'improvement');
    // still an improvement of the full size over the default branch it was decided against
    // (its head's quality: a branch the App updated holds the default branch's changes too)
    const live = improvements.filter((p) => this.qualityOf(this.gh.pulls.get(p.number)!.head).u <= (this.decidedOn.get(p.number) ?? this.qualityOf(this.gh.refs.get('heads/main')!).u) - this.o.improvementSigmas + 1e-9);
    const adversaries = new Set(this.owners.filter((o) => o.behaviour !== 'honest').map((o) => o.login.toLowerCase()));
    let advCredit = 0;
    let allCredit = 0;
    const behaviourOf = new Map(this.owners.map((o) => [o.login.toLowerCase(), o.behaviour as string]));
    const byBehaviour: Record<string, number> = {};
    const byRole: Record<string, Record<string, number>> = {};
    const roleOf = new Map<string, string>();
    for (const e of entries) if (e.type === 'job_dispatched') roleOf.set((e.data as any).job_id, (e.data as any).replay ? 'replay' : (e.data as any).role);
    for (const e of entries) {
      const d = e.data as any;
      const sign = e.type === 'credit_granted' ? 1 : e.type === 'credit_reversed' ? -1 : 0;
      if (!sign) continue;
      const who = behaviourOf.get(String(d.login).toLowerCase());
      if (who && who !== 'honest') {
        const role = roleOf.get(d.job_id) ?? 'other';
        (byRole[who] ??= {})[role] = (byRole[who][role] ?? 0) + sign * d.amount;
      }
      allCredit += sign * d.amount;
      if (adversaries.has(String(d.login).toLowerCase())) advCredit += sign * d.amount;
      const b = behaviourOf.get(String(d.login).toLowerCase()) ?? 'other';
      byBehaviour[b] = (byBehaviour[b] ?? 0) + sign * d.amount;
    }
    // a ban, however a version of the App records it: an entry whose type names a ban, for a login
    const banned = new Set(
      entries
        .filter((e) => /ban/.test(e.type))
        .map((e) => String((e.data as any).login ?? (e.data as any).owner ?? '').toLowerCase())
        .filter((l) => adversaries.has(l)),
    );
    const replayFaults = entries
      .filter((e) => e.type === 'owner_faulted')
      .map((e) => e.data as any)
      .filter((d) => [d.job_id, d.claim_job_id, ...(d.agreed_job_ids ?? [])].some((id) => this.replayNonces.has(id)));
    const apiCalls = this.net.total() - this.net.notModified;
    const inv = this.invariants(entries);
    const audit = auditLedger(entries, { freeRunsPerDay: Number(this.o.config.free_runs_per_day ?? 3) });
    const f: Figures = {
      seed: this.o.seed,
      experiments: prs.length,
      adversary_share: this.o.adversaries,
      // a merge that made the default branch no better than it was just before (seed luck is no improvement)
      false_merges: this.gh.merges.filter((m) => this.qualityOf(m.merge_sha).u >= this.qualityOf(this.gh.commits.get(m.merge_sha)!.parents[0]).u).length,
      seed_only_merged: merged.filter((p) => p.kind === 'seed_only').length,
      true_improvements_merged_pct: live.length ? round((100 * live.filter((p) => this.finalState(p.number) === 'merged').length) / live.length, 1) : 0,
      true_improvements: live.length,
      true_improvements_merged: live.filter((p) => this.finalState(p.number) === 'merged').length,
      opened_improvements_merged_pct: improvements.length ? round((100 * improvements.filter((p) => this.finalState(p.number) === 'merged').length) / improvements.length, 1) : 0,
      improvements_superseded: improvements.length - live.length,
      adversary_credit_share: allCredit > 0 ? round(advCredit / allCredit, 4) : 0,
      adversaries: adversaries.size,
      adversaries_banned: banned.size,
      verification_overhead: this.gpu.first > 0 ? round(this.gpu.all / this.gpu.first, 3) : 0,
      api_calls_per_experiment: prs.length ? round(apiCalls / prs.length, 1) : 0,
      merges: merged.length,
      discarded: prs.filter((p) => this.finalState(p.number) === 'discarded').length,
      virtual_days: round((this.t - START) / DAY, 2),
      wall_seconds: round((performance.now() - wall0) / 1000, 1),
      cpu_seconds: round((process.cpuUsage().user + process.cpuUsage().system) / 1e6 - this.cpu0, 1),
      contract_problems: this.net.problems.length,
      lowest_true_bpb: round(Math.min(...[...this.classes.values()].map((c) => trueBpb(this.qualityOf(this.gh.refs.get('heads/main')!), c))), 4),
      ledger_entries: entries.length,
      runner_registrations: this.registrations,
      credit_share_by_behaviour: Object.fromEntries(Object.entries(byBehaviour).map(([k, v]) => [k, allCredit > 0 ? round(v / allCredit, 4) : 0])),
      owners_refused: this.owners.filter((o) => o.refused).map((o) => o.login),
      given_back: this.givenBack.count,
      given_back_seconds: Math.round(this.givenBack.seconds),
      off_pace_after_training: entries.filter((e) => e.type === 'result_recorded' && /^off pace: /.test(String((e.data as any).reason ?? ''))).length,
      lazy_credit_share: allCredit > 0 ? round((byBehaviour.lazy ?? 0) / allCredit, 4) : 0,
      adversary_credit_by_role: Object.fromEntries(Object.entries(byRole).map(([b, roles]) => [b, Object.fromEntries(Object.entries(roles).map(([k, v]) => [k, allCredit > 0 ? round(v / allCredit, 4) : 0]))])),
      replays: entries.filter((e) => e.type === 'job_dispatched' && (e.data as any).replay).length,
      replays_run: this.replays,
      replay_timeouts: this.replayTimeouts,
      replay_faults: replayFaults.length,
      replay_faults_honest: replayFaults.filter((d) => behaviourOf.get(String(d.login).toLowerCase()) === 'honest').length,
      honest_faulted: entries.filter((e) => e.type === 'owner_faulted' && behaviourOf.get(String((e.data as any).login).toLowerCase()) === 'honest').length,
      honest_banned: entries.filter((e) => e.type === 'owner_banned' && behaviourOf.get(String((e.data as any).login).toLowerCase()) === 'honest').length,
      overhead_by_kind: Object.fromEntries(Object.entries(this.gpuExtra).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, this.gpu.first > 0 ? round(v / this.gpu.first, 3) : 0])),
      jobs_overdue: entries.filter((e) => e.type === 'result_recorded' && /^no result within \d+ minutes/.test(String((e.data as any).reason))).length,
      jobs_queue_limit: entries.filter((e) => e.type === 'result_recorded' && /^no runner took its run/.test(String((e.data as any).reason))).length,
      given_up: entries.filter((e) => e.type === 'experiment_discarded' && /^no runner reported a result/.test(String((e.data as any).reason))).length,
      ...this.retrials(entries),
      class_sigma: this.classSigma(entries),
    };
    if (this.net.problems.length) f.first_contract_problem = this.net.problems[0];
    if (this.o.faults) {
      Object.assign(f, {
        lost_merges: inv.lost_merges,
        double_dispatches: inv.double_dispatches,
        double_charges: inv.double_charges,
        stuck_prs: prs.filter((p) => this.finalState(p.number) === null).length,
        ledger_verifies: audit.ok && !this.invariantFailures.some((x) => x.includes('ledger audit')),
        invariant_failures: this.invariantFailures.slice(0, 10),
        faults_injected: this.faultsInjected,
      });
    }
    return f;
  }

  /** The true quality of a commit's train.ts: the default file's plus the gain of each PR's change it holds. */
  qualityOf(commit: string): Quality {
    const f = this.gh.fileAt(commit, 'trainer/train.ts');
    if (!f) return this.mainQuality;
    const key = sha256(f);
    let q = this.qualityByFile.get(key);
    if (!q) {
      let u = this.mainQuality.u;
      for (const m of new TextDecoder().decode(f).matchAll(/^\/\/ slot (\d+): experiment/gm)) u += this.gains.get(Number(m[1])) ?? 0;
      q = { u };
      this.qualityByFile.set(key, q);
    }
    return q;
  }
}

/**
 * The simulator's default train.ts: a line per PR to come ("// slot n", each PR changes its own),
 * with a line between each two, so that git merges the changes of any two PRs cleanly.
 */
export function mainTrainTs(experiments: number): string {
  let text = 'export const LR = 3e-4;\n// the default training file\n';
  for (let n = 1; n <= experiments + 1; n++) text += `// slot ${n}\n//\n`;
  return text;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export { trueBpb };
