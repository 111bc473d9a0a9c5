// How numbers and times read on the pages.

export const bpb = (v: number | null): string => (v === null ? '—' : v.toFixed(4));

export const delta = (v: number | null): string => (v === null ? '—' : `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(4)}`);

/** 2026-01-31 14:05 UTC: every viewer reads the same time. */
export const time = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

export const duration = (seconds: number): string => {
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
};

export const credits = (v: number): string => (Math.round(v * 10) / 10).toLocaleString('en-US');

export const count = (v: number): string => v.toLocaleString('en-US');

/**
 * At most `max` characters of a string a runner or an author wrote, saying how much more the ledger
 * holds: result.json's strings (device, backend, a failure message...) are bounded only by the 8 MB
 * artifact, and copied onto an experiment's page and its API page they would grow the site toward
 * GitHub Pages' 1 GB. A surrogate pair is never cut in half.
 */
export const clip = (text: string, max: number): string => {
  if (text.length <= max) return text;
  const end = /[\ud800-\udbff]/.test(text[max - 1]) ? max - 1 : max;
  return `${text.slice(0, end)}… (${(text.length - end).toLocaleString('en-US')} characters more in the ledger)`;
};
