// Writes the site's files and counts them. Synchronous on purpose: for 100,000+ small files,
// writeFileSync measured 4-5x faster here than fs/promises at any concurrency (10,000 8 KB files:
// 0.6 s against 2.2-3.2 s on 2 cores), because each async write costs three thread-pool hops.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class SiteWriter {
  files = 0;
  bytes = 0;
  /** the site paths written, in order */
  readonly written: string[] = [];
  private readonly dirs = new Set<string>();

  constructor(readonly root: string) {}

  write(rel: string, content: string | Buffer): void {
    const full = join(this.root, rel);
    const dir = dirname(full);
    if (!this.dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.dirs.add(dir);
    }
    try {
      writeFileSync(full, content);
    } catch (e) {
      throw new Error(`could not write ${full}: ${(e as Error).message}; check that the out dir is writable and the disk has room.`);
    }
    this.files++;
    this.written.push(rel);
    this.bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.length;
  }

  json(rel: string, value: unknown): void {
    this.write(rel, JSON.stringify(value));
  }
}
