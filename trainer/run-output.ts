// The supervisor's files: the run log and the result in the output directory, the candidate
// it reads. Every open refuses symlinks (O_NOFOLLOW) and accepts regular files only, every
// file the supervisor creates is created new (O_EXCL), and the result appears by rename, so a
// link planted in the output directory (before or during the run) is replaced, never followed.
// The log keeps at most `maxChildBytes` of child output, counted as written (with each line's
// timestamp), then says what it dropped; the harness's own lines are few and short.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, lstatSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const RESULT_FILE = 'result.json';
export const LOG_FILE = 'train.log';
/** Child output kept in train.log by default: with the harness's lines and result.json, under the
 * 4 MiB the Action uploads (action/src/log-cap.ts) and the App's 8 MiB, so its cut never has to drop them. */
export const DEFAULT_MAX_LOG_BYTES = 3 * 2 ** 20;
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Read a file the supervisor must trust: no link, a regular file, at most `maxBytes`. */
export function readRegularFile(path: string, maxBytes: number, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ELOOP' ? `${what} ${path} is a symbolic link; pass the file itself.` : `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${what} ${path} is not a regular file.`);
    if (st.size > maxBytes) throw new Error(`${what} ${path} is ${st.size} bytes; the limit is ${maxBytes} (the App's max_file_bytes). Make it smaller.`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

export class RunLog {
  private readonly fd: number;
  private childBytes = 0;
  private dropped = 0;
  bytes = 0;

  constructor(
    outDir: string,
    private readonly t0: number,
    private readonly maxChildBytes: number,
  ) {
    mkdirSync(outDir, { recursive: true });
    for (const stale of [RESULT_FILE, LOG_FILE]) rmSync(join(outDir, stale), { force: true }); // removes a link, never its target
    this.fd = openSync(join(outDir, LOG_FILE), CREATE_NEW, 0o644);
  }

  private line(text: string): Buffer {
    return Buffer.from(`${((performance.now() - this.t0) / 1000).toFixed(2).padStart(8)} ${text}\n`);
  }

  private write(b: Buffer): void {
    writeSync(this.fd, b);
    this.bytes += b.length;
  }

  harness(line: string): void {
    this.write(this.line(line));
  }

  /** A line of child output: kept while the child budget lasts (its bytes as written, timestamp included). */
  child(line: string): void {
    const b = this.line(line);
    if (this.childBytes + b.length > this.maxChildBytes) {
      if (this.dropped === 0) this.harness(`[harness] child output is over ${this.maxChildBytes} bytes: the rest is not kept.`);
      this.dropped += b.length;
      return;
    }
    this.childBytes += b.length;
    this.write(b);
  }

  close(): void {
    if (this.dropped > 0) this.harness(`[harness] ${this.dropped} bytes of child output were dropped.`);
    closeSync(this.fd);
  }
}

/** Writes the result beside a random temporary name, then renames it into place. */
export function writeResultFile(outDir: string, text: string): void {
  const tmp = join(outDir, `.${RESULT_FILE}.${randomBytes(8).toString('hex')}`);
  const fd = openSync(tmp, CREATE_NEW, 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(outDir, RESULT_FILE));
}

/** What the output directory holds: name -> type, size and mtime (links not followed). */
export function listing(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of readdirSync(dir)) {
    const st = lstatSync(join(dir, n));
    m.set(n, `${st.mode}:${st.size}:${st.mtimeMs}`);
  }
  return m;
}

/** Files in the out dir that the supervisor did not write: a child reached for the result. */
export function outDirIntruders(outDir: string, before: Map<string, string>, logBytes: number): string | null {
  const now = listing(outDir);
  const log = lstatSync(join(outDir, LOG_FILE), { throwIfNoEntry: false });
  if (!log) return `deleted ${LOG_FILE} in the output directory`;
  if (!log.isFile() || log.size !== logBytes) return `changed ${LOG_FILE} in the output directory`;
  const created = [...now.keys()].filter((n) => n !== LOG_FILE && !before.has(n));
  if (created.length > 0) return `created ${created.join(', ')} in the output directory`;
  const changed = [...before.keys()].filter((n) => n !== LOG_FILE && before.get(n) !== now.get(n));
  if (changed.length > 0) return `changed ${changed.join(', ')} in the output directory`;
  return null;
}
