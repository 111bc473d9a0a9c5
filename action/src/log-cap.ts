// The result artifact (result.json and train.log) must stay readable by the App, which reads
// at most 8 MiB of it, inflated (app/github/artifact.ts MAX_ARTIFACT_BYTES): a larger one is no
// result at all, and the job runs again elsewhere. The harness kept up to 8 MiB of the
// candidate's own output in train.log, plus a time stamp per line and its own lines, so a candidate
// could print its run out of the record whenever its loss looked bad; it now keeps 3 MiB, time
// stamps counted (trainer/run-output.ts DEFAULT_MAX_LOG_BYTES), and this cut is a second bound.
// The uploaded log is cut to fit: its start and its end (the harness's setup and its score) kept,
// the middle replaced by one line saying so.
import { open, rm, stat, writeFile } from 'node:fs/promises';

/** With result.json (at most 128 KiB), well under the App's 8 MiB. */
export const MAX_UPLOADED_LOG_BYTES = 4 * 1024 * 1024;

/** Cuts the middle out of the log at `path` when it is over `max` bytes; returns the bytes it cut (0: none). */
export async function capLog(path: string, max = MAX_UPLOADED_LOG_BYTES): Promise<number> {
  const size = (await stat(path).catch(() => null))?.size ?? 0;
  if (size <= max) return 0;
  const headBytes = Math.floor(max / 4);
  const tailBytes = max - headBytes - 512; // room for the line that says what was cut
  const head = Buffer.alloc(headBytes);
  const tail = Buffer.alloc(tailBytes);
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, headBytes, 0);
    await fh.read(tail, 0, tailBytes, size - tailBytes);
  } finally {
    await fh.close();
  }
  // whole lines only
  const kept = [head.subarray(0, head.lastIndexOf(10) + 1), tail.subarray(tail.indexOf(10) + 1)];
  const cut = size - kept[0].length - kept[1].length;
  const note = `[action] train.log was ${size} bytes: ${cut} bytes from its middle were cut here so that the result artifact stays under the App's limit (the candidate printed that much).\n`;
  // a new file in place of the old (never through a link left at its name)
  await rm(path, { force: true });
  await writeFile(path, Buffer.concat([kept[0], Buffer.from(note), kept[1]]), { flag: 'wx' });
  return cut;
}
