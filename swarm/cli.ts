// `npm run swarm -- [options]`: the whole swarm on one machine (swarm/swarm.ts).
import { parseArgs } from 'node:util';
import { DEFAULTS, formatSummary, LocalSwarm, type SwarmOptions } from './swarm.js';

const HELP = `npm run swarm -- [options]

The real App, its verification and merge policy and its ledger, against a faked GitHub kept in
a folder; runner owners running the real harness on this machine (one run at a time); agents
opening PRs; the leaderboard rebuilt after each merge and served on 127.0.0.1.

  --minutes N         run for N minutes, then finish the running job and summarize (default ${DEFAULTS.minutes})
  --budget S          training budget of each run, seconds (default ${DEFAULTS.budget})
  --agents N          built-in agents (default ${DEFAULTS.agents}; 0 with --agent-cmd unless given)
  --runners N         runner owners, one runner each, at least 2 (default ${DEFAULTS.runners})
  --agent-cmd CMD     an external agent: CMD runs (sh -c) in a checkout of main with program.md and
                      the leaderboard's JSON (.swarm-api/v1/, $SWARM_API_URL); its edited
                      trainer/train.ts becomes a PR (title: first line of $SWARM_TITLE_FILE)
  --agent-timeout S   seconds the external agent may take per PR (default ${DEFAULTS.agentTimeoutSeconds})
  --state DIR         the fake GitHub's state, the ledger and the site; an existing DIR is resumed (default ${DEFAULTS.stateDir})
  --port N            the leaderboard's port on 127.0.0.1 (default ${DEFAULTS.port}; 0: any free port)
  --eval-bytes N      held-out bytes each run evaluates (default ${DEFAULTS.evalBytes})
  --isolation I       auto | docker | sandbox | none (default auto: docker when it answers, else the bubblewrap sandbox, as the Action does)
  --image REF         the trainer image for docker isolation (default ${DEFAULTS.image})
  --seed N            the agents' and runners' choices (default ${DEFAULTS.seed})
  --job-timeout S     a run's harness is killed after S seconds (default: twice the budget plus 300)
  --stall S           stop with an error saying what the swarm waited for when PRs or runs are pending
                      but nothing moved for S seconds (default ${DEFAULTS.stallSeconds})
  --verbose           print the harness's log lines too
`;

function fail(msg: string): never {
  process.stderr.write(`swarm: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function num(name: string, v: string | undefined, lo: number, hi: number, int = true): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < lo || x > hi || (int && !Number.isInteger(x))) fail(`--${name} ${v} is not ${int ? 'an integer' : 'a number'} from ${lo} to ${hi}`);
  return x;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      budget: { type: 'string' },
      agents: { type: 'string' },
      runners: { type: 'string' },
      'agent-cmd': { type: 'string' },
      'agent-timeout': { type: 'string' },
      state: { type: 'string' },
      port: { type: 'string' },
      'eval-bytes': { type: 'string' },
      isolation: { type: 'string' },
      image: { type: 'string' },
      seed: { type: 'string' },
      'job-timeout': { type: 'string' },
      stall: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (e) {
  fail((e as Error).message);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const isolation = values.isolation ?? 'auto';
if (!['auto', 'docker', 'sandbox', 'none'].includes(isolation)) fail(`--isolation ${isolation} is not auto, docker, sandbox or none`);
const opts: Partial<SwarmOptions> = {
  minutes: num('minutes', values.minutes, 0.1, 10_000, false),
  budget: num('budget', values.budget, 1, 3600, false),
  agents: num('agents', values.agents, 0, 100) ?? (values['agent-cmd'] ? 0 : undefined),
  runners: num('runners', values.runners, 2, 100),
  agentCmd: values['agent-cmd'] ?? null,
  agentTimeoutSeconds: num('agent-timeout', values['agent-timeout'], 1, 86_400),
  stateDir: values.state,
  port: num('port', values.port, 0, 65_535),
  evalBytes: num('eval-bytes', values['eval-bytes'], 1024, 10_000_000),
  isolation: isolation as SwarmOptions['isolation'],
  image: values.image,
  seed: num('seed', values.seed, 0, 2 ** 32 - 1),
  jobTimeoutSeconds: num('job-timeout', values['job-timeout'], 10, 86_400),
  stallSeconds: num('stall', values.stall, 10, 86_400),
  harnessLine: values.verbose ? (l: string) => process.stdout.write(`    ${l}\n`) : undefined,
};
for (const k of Object.keys(opts) as (keyof SwarmOptions)[]) if (opts[k] === undefined) delete opts[k];

const swarm = new LocalSwarm(opts);
let stop = false;
process.on('SIGINT', () => {
  if (stop) process.exit(130);
  stop = true;
  swarm.requestStop();
  process.stdout.write('\nfinishing the running job; Ctrl-C again to quit now\n');
});
let summary;
try {
  summary = await swarm.run();
} catch (e) {
  await swarm.close();
  process.stderr.write(`\nswarm: ${(e as Error).message}\n(the state is kept in ${opts.stateDir ?? DEFAULTS.stateDir}; resume it with --state)\n`);
  process.exit(1);
}
process.stdout.write(`${formatSummary(summary)}\n`);
if (summary.url && process.stdout.isTTY && !stop) {
  process.stdout.write(`\nThe leaderboard stays at ${summary.url} until Ctrl-C; \`npm run swarm -- --state ${summary.state_dir}\` resumes this swarm.\n`);
  await new Promise<void>((r) => process.once('SIGINT', () => r()));
}
await swarm.close();
process.exit(0);
