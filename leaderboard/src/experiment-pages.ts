// One HTML page per experiment, with its archived diff rendered: the build's largest phase.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffFileName, toApiExperiment } from './api.js';
import type { ApiExperiment } from './api-schema.js';
import { renderDiff } from './diff.js';
import type { Experiment } from './experiments.js';
import { experimentPage, type DiffView } from './pages/experiment-page.js';
import type { Frame } from './pages/layout.js';
import { SiteWriter } from './site-writer.js';

export interface PagesJob {
  ledgerDir: string;
  outDir: string;
  head: Frame['ledgerHead'];
  experiments: Experiment[];
}

export interface PagesDone {
  api: ApiExperiment[];
  files: number;
  bytes: number;
}

function readDiff(ledgerDir: string, e: Experiment): { view: DiffView; text: string | null } {
  const name = diffFileName(e.diff_path);
  if (!e.diff_path) return { view: { kind: 'missing', why: 'No diff was archived for this run.' }, text: null };
  if (!name) return { view: { kind: 'missing', why: `The ledger names the diff as "${e.diff_path}", which is not a diffs/<name>.diff path; it is not shown.` }, text: null };
  let text: string;
  try {
    text = readFileSync(join(ledgerDir, 'diffs', name), 'utf8');
  } catch {
    return { view: { kind: 'missing', why: `The archived diff ${e.diff_path} is missing from the ledger checkout.` }, text: null };
  }
  if (e.diff_sha256 && createHash('sha256').update(text).digest('hex') !== e.diff_sha256) {
    return { view: { kind: 'missing', why: `The archived diff ${e.diff_path} does not match the sha256 recorded in the ledger (${e.diff_sha256}); it is not shown.` }, text: null };
  }
  return { view: { kind: 'rendered', markup: renderDiff(text) }, text };
}

export function writeExperimentPages(job: PagesJob): PagesDone {
  const w = new SiteWriter(job.outDir);
  const api = job.experiments.map((e) => {
    const diff = readDiff(job.ledgerDir, e);
    const a = toApiExperiment(e, diff.text);
    w.write(a.url, experimentPage(a, e, diff.view, job.head));
    return a;
  });
  return { api, files: w.files, bytes: w.bytes };
}
