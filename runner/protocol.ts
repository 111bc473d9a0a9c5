// The wire contract between the volunteer's CLI (`runner join`) and the App's runner route.
// Both sides import it from here so the request and the answer are defined once.
import { z } from 'zod';

/** Path of the route on the App's HTTP server. */
export const JIT_CONFIG_PATH = '/autoresearch/runners/jitconfig';

/** Hardware classes look like `gpu-h100-80gb` or `cpu-amd-epyc-7b13` (see trainer/hardware.ts). */
export const HardwareClassName = z
  .string()
  .regex(/^(gpu|cpu)-[a-z0-9][a-z0-9-]{0,60}$/, 'a hardware class such as gpu-rtx-4090-24gb or cpu-amd-epyc-7b13');

export const JitConfigRequest = z.object({
  /** owner/name of the swarm repository the runner joins */
  repo: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, 'owner/name'),
  hardware_class: HardwareClassName,
});
export type JitConfigRequest = z.infer<typeof JitConfigRequest>;

export const JitConfigResponse = z.object({
  /** printed on the volunteer's terminal: a plain name, never a control sequence */
  runner_name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'a runner name such as ars-octocat-1a2b3c4d'),
  runner_id: z.number().int(),
  labels: z.array(z.string()),
  /** base64 runner configuration: a credential for this one ephemeral runner, keep it secret */
  encoded_jit_config: z.string().min(1),
});
export type JitConfigResponse = z.infer<typeof JitConfigResponse>;

/**
 * The files a JIT config may hold. The actions runner writes every key of the config's JSON as a
 * file under its root (Path.Combine(root, key): an absolute key or `../` escapes it, `.env` is
 * loaded into every job, `run-helper.sh` is its own code), so a config from anyone but GitHub
 * could write anything on the volunteer's machine: only these three are let through.
 */
const JIT_FILES = new Set(['.runner', '.credentials', '.credentials_rsaparams']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** GitHub's Actions services (the runner's job server, broker and OAuth token endpoint) */
const ACTIONS_HOST = /^(?:[a-z0-9-]+\.)+actions\.githubusercontent\.com$|^(?:api\.)?github\.com$/;

function decode64(text: unknown): string | null {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64.test(text)) return null;
  return Buffer.from(text, 'base64').toString('utf8');
}

function jsonObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A key of `o` compared case-insensitively (the runner reads its config files so). */
function field(o: Record<string, unknown>, name: string): unknown {
  const k = Object.keys(o).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : o[k];
}

function actionsUrlProblem(what: string, url: unknown): string | null {
  if (url === undefined || url === null || url === '') return null;
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return `its ${what} is not a URL`;
  }
  return u.protocol === 'https:' && ACTIONS_HOST.test(u.hostname) && !u.username && !u.password && !u.port ? null : `its ${what} ${JSON.stringify(u.origin)} is not GitHub's`;
}

/**
 * What is wrong with a JIT config for a runner of `repo`, or null. `runner join` checks the App's
 * answer before the runner sees it: only GitHub's config files, GitHub's servers, this repository
 * and a work folder inside the runner copy (so only GitHub can hand this runner a job, and the
 * job-started hook's view of it is GitHub's).
 */
export function jitConfigProblem(encoded: string, repo: string): string | null {
  if (encoded.length > 64 * 1024) return 'it is over 64 KiB';
  const files = jsonObject(decode64(encoded));
  if (!files) return 'it is not base64 JSON';
  for (const key of Object.keys(files)) if (!JIT_FILES.has(key)) return `it would write the file ${JSON.stringify(key)}, which is not one of the runner's config files (${[...JIT_FILES].join(', ')})`;
  const runner = jsonObject(decode64(files['.runner']));
  if (!runner) return 'its .runner file is missing or not base64 JSON';
  for (const k of ['.credentials', '.credentials_rsaparams']) if (k in files && decode64(files[k]) === null) return `its ${k} file is not base64`;
  const problem = actionsUrlProblem('ServerUrl', field(runner, 'ServerUrl')) ?? actionsUrlProblem('ServerUrlV2', field(runner, 'ServerUrlV2'));
  if (problem) return problem;
  const creds = jsonObject(decode64(files['.credentials'] ?? ''));
  const data = creds ? field(creds, 'Data') : undefined;
  const auth = data && typeof data === 'object' ? actionsUrlProblem('OAuth token URL', field(data as Record<string, unknown>, 'authorizationUrl')) : null;
  if (auth) return auth;
  const gitHubUrl = field(runner, 'GitHubUrl');
  if (gitHubUrl !== undefined && gitHubUrl !== null && gitHubUrl !== '' && String(gitHubUrl).replace(/\/+$/, '').toLowerCase() !== `https://github.com/${repo}`.toLowerCase()) {
    return `it registers the runner for ${JSON.stringify(String(gitHubUrl))}, not https://github.com/${repo}`;
  }
  const work = field(runner, 'WorkFolder');
  if (work !== undefined && (typeof work !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(work))) return `its work folder ${JSON.stringify(work)} is not a folder inside the runner`;
  return null;
}

/**
 * The `runners:` section of the swarm's `.github/autoresearch.yml`. The App enforces the limits;
 * the CLI reads `app_url`, `client_id` and `image` from the same public file so that
 * `runner join --repo owner/name` needs nothing else.
 */
export const RunnerSettings = z
  .object({
    /** where the App listens (its JIT-config route is under this URL) */
    app_url: z.string().url().optional(),
    /** the App's OAuth client id, for the device-flow login */
    client_id: z.string().optional(),
    /** the trainer image jobs run in (doctor checks it is pulled) */
    image: z.string().optional(),
    /** logins that may not register runners, and whose results never count (case-insensitive) */
    banned: z.array(z.string()).default([]),
    /**
     * eligibility (docs/trust.md): an owner's GitHub account must be at least this old for its
     * runners to register and its results to count toward a quorum or a baseline (0: no minimum)
     */
    min_account_age_days: z.number().nonnegative().default(30),
    /** when not empty, only these logins may run jobs (case-insensitive) */
    allow: z.array(z.string()).default([]),
    /** runners one owner may have online at once */
    max_per_owner: z.number().int().positive().default(4),
    /** JIT configs one owner may mint per hour (each job uses one) */
    registrations_per_hour: z.number().int().positive().default(60),
    /**
     * jobs an owner may give back (the pre-flight pace check: its machine below its class's pace)
     * in an hour, and more than it ran, before it gets no new runner until the oldest is an hour old
     */
    give_backs_per_hour: z.number().int().positive().default(3),
    runner_group_id: z.number().int().positive().default(1),
    work_folder: z.string().default('_work'),
  })
  .strict();
export type RunnerSettings = z.infer<typeof RunnerSettings>;

/** Every refusal is `{ error }` with one sentence saying what is wrong and how to fix it. */
export const ErrorResponse = z.object({ error: z.string() });

/** The labels a volunteer runner carries; experiment.yml targets `[self-hosted, autoresearch, <class>]`. */
export function runnerLabels(hardwareClass: string, login: string): string[] {
  return ['self-hosted', 'autoresearch', hardwareClass, ownerLabel(login)];
}

/** Credits follow this label; logins are case-insensitive on GitHub, labels too. */
export function ownerLabel(login: string): string {
  return `owner-${login.toLowerCase()}`;
}
