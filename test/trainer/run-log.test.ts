// train.log is part of the result artifact, which the App reads only up to 8 MiB: a larger one is
// no result, and the job runs again elsewhere. The harness's own log must stay within that.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_UPLOADED_LOG_BYTES } from '../../action/src/log-cap.js';
import { DEFAULT_MAX_LOG_BYTES, RunLog } from '../../trainer/run-output.js';

describe('the run log stays within what the App reads', () => {
  it("a candidate's many short lines cannot grow train.log past its budget with the harness's timestamps", () => {
    const dir = mkdtempSync(join(tmpdir(), 'runlog-'));
    const log = new RunLog(dir, performance.now(), 10_000);
    // each line 1 byte of text, ~11 bytes written: before, only the text (and its newline) counted
    for (let i = 0; i < 100_000; i++) log.child('x');
    log.close();
    const size = statSync(join(dir, 'train.log')).size;
    expect(size).toBeLessThanOrEqual(10_000 + 1_000);
    expect(readFileSync(join(dir, 'train.log'), 'utf8')).toMatch(/bytes of child output were dropped/);
  });

  it("the harness's default keeps the log (with the harness's lines and result.json) under what the Action uploads uncut", () => {
    expect(DEFAULT_MAX_LOG_BYTES + 2 ** 20).toBeLessThanOrEqual(MAX_UPLOADED_LOG_BYTES);
  });
});
