// A cancelled job (the App cancels a superseded job's run) or one past its timeout-minutes: the
// runner sends SIGINT to the step's entry process (node, for this Action), SIGTERM 7500 ms later,
// and kills that process's tree 2500 ms after that (GitHub docs, "Workflow cancellation
// reference"). The harness runs detached, in a session of its own so that the backstop can kill
// its whole group, and its environment had no RUNNER_* name (trainer/isolation.ts): once node died
// on the signal, the harness was no child of it and no process the runner knew of, and it trained
// on to its own deadline, holding the GPU while the next job started. It now keeps the runner's
// RUNNER_TRACKING_ID (harness.ts), by which the runner kills what a step left running, and either signal kills the
// harness's tree and removes its containers (runHarness's abort), within that grace period, and
// the step fails with what happened (test/action/cancel.test.ts).
import * as core from '@actions/core';
import { runHarness, type HarnessOptions, type HarnessRun } from './harness.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function runHarnessUntilCancelled(o: HarnessOptions): Promise<HarnessRun> {
  const cancel = new AbortController();
  let received: string | null = null;
  const stop = (sig: NodeJS.Signals) => {
    if (received) return; // the runner's SIGTERM after its SIGINT: the kill is under way
    received = sig;
    core.warning(`The runner sent ${sig} (the job was cancelled or ran past its timeout-minutes): killing the harness and its children.`);
    cancel.abort();
  };
  for (const s of SIGNALS) process.on(s, stop);
  try {
    const run = await runHarness({ ...o, signal: o.signal ? AbortSignal.any([o.signal, cancel.signal]) : cancel.signal });
    if (received) throw new Error(`The job was cancelled (${received}) while the harness ran: the harness and every process and container it started were stopped, and nothing was scored.`);
    return run;
  } finally {
    for (const s of SIGNALS) process.off(s, stop);
  }
}
