// The installation client Probot hands each handler (`context.octokit`).
import type { Context } from 'probot';

export type Octo = Context['octokit'];

export interface RepoRef {
  owner: string;
  repo: string;
}

export const status = (e: unknown): number | undefined => (e as { status?: number })?.status;
