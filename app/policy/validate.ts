// Which pull requests are experiments: only editable paths, modified in place, text, small.
// File names come from the PR (git allows backticks, even newlines, in them): every name is shown
// with `code` (inline code on one line that cannot close early), never as markdown.
import { code } from './shown.js';
export interface ChangedFile {
  filename: string;
  status: string; // added | removed | modified | renamed | copied | changed | unchanged
  previous_filename?: string;
}

export interface CandidateFile {
  path: string;
  bytes: Uint8Array;
}

export type Validation = { ok: true; path: string } | { ok: false; problems: string[] };

/** Problems with the PR's list of changed files, as sentences a contributor can act on. */
export function validateChangedFiles(files: ChangedFile[], editablePaths: string[]): Validation {
  const allowed = new Set(editablePaths);
  const problems: string[] = [];
  const outside = files.filter((f) => !allowed.has(f.filename) || (f.previous_filename && !allowed.has(f.previous_filename)));
  if (outside.length) {
    const names = outside.map((f) => code(f.previous_filename && !allowed.has(f.previous_filename) ? f.previous_filename : f.filename, 200));
    problems.push(`This PR changes ${names.join(', ')}, but an experiment may change only ${editablePaths.map((p) => code(p)).join(', ')}. Move the other changes to a separate PR.`);
  }
  for (const f of files.filter((f) => allowed.has(f.filename))) {
    if (f.status === 'removed') problems.push(`This PR deletes ${code(f.filename)}; an experiment must edit it in place.`);
    else if (f.status === 'added') problems.push(`This PR adds ${code(f.filename)} as a new file; an experiment must edit the existing one.`);
    else if (f.status === 'renamed') problems.push(`This PR renames ${code(f.previous_filename ?? '')} to ${code(f.filename)}; an experiment must edit it in place.`);
  }
  const inside = files.filter((f) => allowed.has(f.filename) && f.status !== 'removed');
  if (!problems.length && inside.length === 0) problems.push(`This PR changes nothing in ${editablePaths.map((p) => code(p)).join(', ')}, so there is no experiment to run.`);
  if (problems.length) return { ok: false, problems };
  return { ok: true, path: inside[0].filename };
}

/** Problems with the candidate file itself: size and text (UTF-8, no NUL bytes). */
export function validateCandidateFile(file: CandidateFile, maxBytes: number): string[] {
  const problems: string[] = [];
  if (file.bytes.length > maxBytes) problems.push(tooLarge(file.path, file.bytes.length, maxBytes));
  let text = true;
  if (file.bytes.includes(0)) text = false;
  else {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(file.bytes);
    } catch {
      text = false;
    }
  }
  if (!text) problems.push(`${code(file.path)} is not UTF-8 text; an experiment must be TypeScript source.`);
  return problems;
}

/** The candidate file's size over the limit, as a problem a contributor can act on. */
export function tooLarge(path: string, size: number, maxBytes: number): string {
  return `${code(path)} is ${size} bytes; the limit is ${maxBytes}. Make it smaller.`;
}
