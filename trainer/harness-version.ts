// Which harness produced a result. The App recomputes `harnessSha256` from the default
// branch and refuses results whose harness differs, so a runner cannot score with a
// modified harness.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** 2: the clock starts at the backend (import, createModel and warm-up inside the budget),
 * the two-pass probe, supervisor-measured facts: scores are not comparable with 1.x.
 * 2.1: progress comes from the supervisor, quantized to 1/1024 of the budget and recorded for
 * replays; Math.random seeded per run; the eval sums its bits in window order (bit-identical). */
export const HARNESS_VERSION = '2.1.0';

/** The candidate file: everything else under trainer/ is the harness. */
export const CANDIDATE_PATH = 'trainer/train.ts';
export const HARNESS_DIR = 'trainer';

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Is this repo-relative path (posix) part of the harness? */
export function isHarnessPath(path: string): boolean {
  return path.startsWith(`${HARNESS_DIR}/`) && path !== CANDIDATE_PATH;
}

/** sha256 over the harness files given as repo-relative posix paths and contents: the files
 * sorted by path, each contributing `<path>\0<sha256 of content>\n`. Paths outside the
 * harness are ignored, so a caller may pass a whole tree. */
export function harnessSha256(files: { path: string; content: Uint8Array | string }[]): string {
  const lines = files
    .filter((f) => isHarnessPath(f.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.path}\0${sha256(f.content)}\n`);
  return sha256(lines.join(''));
}

/** The harness files of a checkout on disk, for `harnessSha256`. */
export function readHarnessFiles(repoDir: string): { path: string; content: Uint8Array }[] {
  const out: { path: string; content: Uint8Array }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push({ path: relative(repoDir, full).split(sep).join('/'), content: readFileSync(full) });
    }
  };
  walk(join(repoDir, HARNESS_DIR));
  return out;
}

export function harnessSha256Of(repoDir: string): string {
  return harnessSha256(readHarnessFiles(repoDir));
}

export function candidateSha256(candidateFile: string): string {
  return sha256(readFileSync(candidateFile));
}

/** The harness files (paths) whose content differs between two readings of the repository. */
export function changedHarnessFiles(before: { path: string; content: Uint8Array }[], after: { path: string; content: Uint8Array }[]): string[] {
  const digest = (fs: typeof before) => new Map(fs.filter((f) => isHarnessPath(f.path)).map((f) => [f.path, sha256(f.content)]));
  const a = digest(before);
  const b = digest(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
}
