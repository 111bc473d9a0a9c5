// The frame around every page: head, navigation, footer with the ledger head it was built from.
import { html, type Trusted } from '../html.js';
import { paths, rootFrom } from '../paths.js';

export type LedgerHead = { seq: number; hash: string };

export interface Frame {
  /** the page's own path in the site (links are made relative to it, so the site works from any base URL) */
  page: string;
  title: string;
  /** the ledger head the site was built from; an experiment page names its own entry instead, so
   * that it stays the same file until that experiment changes (incremental builds keep it); null:
   * none (a numbered table page: it too stays the same file until one of its rows changes) */
  ledgerHead: LedgerHead | { recordedIn: LedgerHead } | null;
  charts?: boolean;
}

export function layout(f: Frame, body: Trusted): string {
  const root = rootFrom(f.page);
  const nav = (target: string, label: string) => html`<a href="${root + target}"${f.page === target ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${f.title} · autoresearch-swarm</title>
<link rel="stylesheet" href="${root}${paths.asset('site.css')}">
</head><body>
<header><a class="brand" href="${root}${paths.index}">autoresearch-swarm</a><nav>${nav(paths.index, 'Progress')}${nav(paths.records, 'Records')}${nav(paths.experimentsNewest, 'Experiments')}${nav(paths.contributors, 'Contributors')}${nav(paths.ledger, 'Ledger')}<a href="${root}${paths.apiIndex}">API</a></nav></header>
<main>
${body}
</main>
<footer>${f.ledgerHead === null ? html`Built from the ledger; the head this site was built from is on the ledger page` : 'recordedIn' in f.ledgerHead ? html`Recorded in ledger entry ${f.ledgerHead.recordedIn.seq} <code>${f.ledgerHead.recordedIn.hash}</code>` : html`Built from ledger entry ${f.ledgerHead.seq} <code>${f.ledgerHead.hash}</code>`} · <a href="${root}${paths.ledger}">verify it yourself</a></footer>
${f.charts ? html`<script src="${root}${paths.asset('uPlot.iife.min.js')}"></script>` : ''}
<script src="${root}${paths.asset('site.js')}"></script>
</body></html>
`.value;
}
