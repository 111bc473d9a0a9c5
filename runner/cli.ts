// The volunteer's CLI:  npx autoresearch-swarm runner <doctor|join|status> --repo owner/name
// (also `npm run runner -- <command> ...` from a checkout).
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Octokit } from '@octokit/rest';
import { AppError, fetchSwarmSettings } from './app-client.js';
import { resolveToken, TOKEN_ENV } from './auth.js';
import { formatDoctor, runDoctor } from './doctor.js';
import { JoinLoop } from './join-loop.js';
import { JitConfigRequest, type RunnerSettings } from './protocol.js';
import { defaultCacheDir, ensureRunner, runnerPackage, RunnerDownloadError } from './release.js';
import { defaultPagesUrl, formatStatus, readStatus } from './status.js';

const USAGE = `Usage: autoresearch-swarm runner <command> --repo owner/name [options]

Commands
  doctor   check this machine (GPU, driver, Docker, GPU in containers, disk, trainer image)
  join     register with the swarm and run its jobs, one at a time, until Ctrl-C
  status   your runners, their jobs, your credits (from the leaderboard)

Options
  --repo owner/name      the swarm repository (join, status: required; doctor: it names the trainer
                         image; from a clone of the swarm, doctor reads it from the git origin)
  $AUTORESEARCH_GITHUB_TOKEN
                         your GitHub token for the swarm's App, from the environment only (a
                         command line is readable by every user of the machine); without one,
                         join logs you in through the browser (device flow)
  --client-id <id>       the App's client id for that login (default: from the swarm's config)
  --app-url <url>        the swarm App (default: runners.app_url in its .github/autoresearch.yml)
  --image <ref>          the trainer image (default: ghcr.io/<owner>/autoresearch-trainer:latest)
  --cache-dir <dir>      runner and dataset cache (default: ~/.cache/autoresearch-swarm)
  --max-jobs <n>         join: stop after n jobs
  --allow-unisolated     join: run even without Docker or bubblewrap (jobs then run directly on this
                         machine, and score only if the swarm trusts your fleet)
  --runner-url <url> --runner-sha256 <hex>
                         join: a different runner package (mirror), verified against that sha256
  --pages-url <url>      status: the leaderboard (default: https://<owner>.github.io/<repo>/)
  --login <login>        status: whose status (default: the token's owner)
  --json                 doctor: print the report as JSON
`;

class UsageError extends Error {}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      repo: { type: 'string' },
      token: { type: 'string' },
      'client-id': { type: 'string' },
      'app-url': { type: 'string' },
      image: { type: 'string' },
      'cache-dir': { type: 'string' },
      'max-jobs': { type: 'string' },
      'allow-unisolated': { type: 'boolean' },
      'runner-url': { type: 'string' },
      'runner-sha256': { type: 'string' },
      'pages-url': { type: 'string' },
      login: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals[0] === 'runner') positionals.shift();
  return { values, command: positionals[0] ?? (values.help ? 'help' : undefined) };
}

/**
 * A process's command line is readable by every user of the machine (`ps`, /proc/<pid>/cmdline)
 * for as long as it runs (join: days), and npx's own holds it too: a token there is anyone's,
 * who could then register runners in its owner's name. The environment is the owner's alone.
 */
function refuseTokenInArgv(flags: { token?: string }): void {
  if (flags.token === undefined) return;
  throw new UsageError(
    `--token puts your GitHub token in the command line, where every user of this machine can read it (ps, /proc/<pid>/cmdline) for as long as the command runs: ` +
      `set ${TOKEN_ENV} instead (\`read -rs ${TOKEN_ENV} && export ${TOKEN_ENV}\`), or leave it out to log in through the browser; if others share this machine, revoke the token you typed.`,
  );
}

type Flags = ReturnType<typeof parse>['values'];

function requireRepo(flags: Flags): string {
  if (!flags.repo) throw new UsageError('--repo owner/name is required: the swarm repository you want to help');
  if (!JitConfigRequest.shape.repo.safeParse(flags.repo).success) throw new UsageError(`--repo ${flags.repo} is not owner/name, e.g. --repo karpathy/autoresearch-swarm`);
  return flags.repo;
}

const log = (line: string) => console.error(line);

/** The owner/name of the GitHub origin of the git checkout `cwd` is in, or null (no git, no checkout, not GitHub). */
export function repoFromCheckout(cwd = process.cwd()): string | null {
  let url: string;
  try {
    url = execFileSync('git', ['remote', 'get-url', 'origin'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
  const m = /github\.com[:/]([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url);
  return m && JitConfigRequest.shape.repo.safeParse(m[1]).success ? m[1] : null;
}

/** Settings from flags and env first; the swarm's public config only for what is still missing. */
async function settings(flags: Flags, repo: string, needed: (keyof RunnerSettings)[]): Promise<Partial<RunnerSettings>> {
  const s: Partial<RunnerSettings> = {
    app_url: flags['app-url'] ?? process.env.AUTORESEARCH_APP_URL,
    client_id: flags['client-id'] ?? process.env.AUTORESEARCH_CLIENT_ID,
    image: flags.image,
  };
  if (needed.some((k) => s[k] === undefined)) {
    const remote = await fetchSwarmSettings(repo);
    for (const k of needed) if (s[k] === undefined && remote?.[k] !== undefined) Object.assign(s, { [k]: remote[k] });
  }
  s.image ??= `ghcr.io/${repo.split('/')[0].toLowerCase()}/autoresearch-trainer:latest`;
  return s;
}

async function doctor(flags: Flags): Promise<number> {
  // doctor needs the swarm only for its trainer image: --repo, the checkout's origin, or --image itself
  const repo = flags.repo ? requireRepo(flags) : repoFromCheckout();
  if (!repo && !flags.image) {
    throw new UsageError(
      "doctor checks this machine and the swarm's trainer image, so it needs to know the swarm: pass --repo owner/name (the repository whose jobs you want to run), " +
        'or --image <ref> for the image alone; from a clone of the swarm it reads the git origin.',
    );
  }
  if (repo && !flags.repo) log(`(--repo ${repo}: the origin of this checkout)`);
  const s = repo ? await settings(flags, repo, ['image']) : { image: flags.image };
  const report = await runDoctor({ image: s.image!, cacheDir: flags['cache-dir'] ?? defaultCacheDir() });
  console.log(flags.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
  return report.ready ? 0 : 1;
}

async function joinSwarm(flags: Flags): Promise<number> {
  const repo = requireRepo(flags);
  const maxJobs = flags['max-jobs'] === undefined ? undefined : Number(flags['max-jobs']);
  if (maxJobs !== undefined && !(Number.isInteger(maxJobs) && maxJobs > 0)) throw new UsageError(`--max-jobs ${flags['max-jobs']} is not a positive whole number`);
  const cacheDir = flags['cache-dir'] ?? defaultCacheDir();
  const s = await settings(flags, repo, ['app_url', 'image', ...(process.env[TOKEN_ENV] ? [] : (['client_id'] as const))]);
  if (!s.app_url) throw new UsageError(`no App URL for ${repo}: pass --app-url (the swarm's maintainers publish it as runners.app_url in .github/autoresearch.yml)`);
  const pkg = runnerPackage({ url: flags['runner-url'], sha256: flags['runner-sha256'] });

  const report = await runDoctor({ image: s.image!, cacheDir });
  for (const c of report.checks.filter((c) => c.state === 'missing')) log(`warning: ${c.name}: ${c.detail}${c.fix ? `\n  fix: ${c.fix}` : ''}`);
  let unisolated = false;
  if (!report.containers && !report.sandbox) {
    if (!flags['allow-unisolated']) {
      throw new UsageError(
        'Neither Docker nor the bubblewrap sandbox is usable here, so jobs could not contain the candidate (no network, capped memory, no access to your files). ' +
          'Fix one of them (see `runner doctor`; `sudo apt-get install bubblewrap` is the quick one), or pass --allow-unisolated to run jobs directly on this machine at your own risk (their scores count only if the swarm trusts your fleet).',
      );
    }
    unisolated = true;
    log('WARNING: --allow-unisolated: jobs will run directly on this machine, in no container or sandbox; their scores count only if the swarm trusts your fleet.');
  }

  // Ctrl-C while setting up: abort the download (so its partial files are removed), or just quit.
  let loop: JoinLoop | null = null;
  const setup = new AbortController();
  let downloading = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (loop) loop.stop(sig);
    else if (downloading) setup.abort();
    else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const auth = await resolveToken({ clientId: s.client_id, log });
    downloading = true;
    const runnerDir = await ensureRunner(pkg, cacheDir, log, setup.signal);
    downloading = false;
    loop = new JoinLoop({ appUrl: s.app_url, repo, hardwareClass: report.hardwareClass, auth, runnerDir, workRoot: join(cacheDir, 'jobs'), maxJobs, log, unisolated });
    log(`Joining ${repo} as a ${report.hardwareClass} runner (GitHub Actions runner ${pkg.version}, token from ${auth.source}). Ctrl-C to stop.`);
    await loop.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

async function status(flags: Flags): Promise<number> {
  const repo = requireRepo(flags);
  let login = flags.login;
  if (!login) {
    const token = process.env[TOKEN_ENV] ?? process.env.GH_TOKEN ?? process.env.GITHUB_TOKEN;
    if (!token) throw new UsageError(`pass --login <your GitHub login> (or set ${TOKEN_ENV} to a token, to look it up)`);
    login = (await new Octokit({ auth: token }).rest.users.getAuthenticated()).data.login;
  }
  const report = await readStatus({ pagesUrl: flags['pages-url'] ?? defaultPagesUrl(repo), login });
  console.log(flags.json ? JSON.stringify(report, null, 2) : formatStatus(report));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: flags, command } = parsed;
  try {
    refuseTokenInArgv(flags);
    switch (command) {
      case 'doctor':
        return await doctor(flags);
      case 'join':
        return await joinSwarm(flags);
      case 'status':
        return await status(flags);
      case 'help':
        console.log(USAGE);
        return 0;
      default:
        console.error(`${command ? `unknown command "${command}"` : 'no command given'}\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof AppError || e instanceof RunnerDownloadError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}

// `tsx runner/cli.ts ...` runs it; runner/bin.mjs imports it and calls main itself.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
