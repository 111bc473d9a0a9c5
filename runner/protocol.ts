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
  runner_name: z.string(),
  runner_id: z.number().int(),
  labels: z.array(z.string()),
  /** base64 runner configuration: a credential for this one ephemeral runner, keep it secret */
  encoded_jit_config: z.string().min(1),
});
export type JitConfigResponse = z.infer<typeof JitConfigResponse>;

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
