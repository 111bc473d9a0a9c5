// Runs one harness child (train or eval) and watches it from the outside: the resident memory of
// its whole process tree from /proc, and a kill that cannot be ignored and reaches every
// descendant (SIGKILL to the frozen tree, and for a container the engine's kill and removal).
// Its stdin and stdout are the frame channel (trainer/channel.ts), handed to the caller raw;
// its stderr goes to the run's log in bounded lines, never parsed as anything.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { LineSplitter } from './bounded-lines.js';
import { CHILD_LABEL, removeContainers } from './containers.js';
import { killTree, released, rssMb, treeRssMb } from './process-tree.js';
import type { FailureKind } from './result.js';

export interface ChildLaunch {
  /** argv[0] and the rest, e.g. [process.execPath, '--import', 'tsx', worker, workDir] or ['docker', 'run', ...] */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** set for docker children (labelled with it, trainer/isolation.ts): the child is over only once
   * its container is gone, which killing or losing the client does not do (trainer/containers.ts) */
  containerName?: string;
  memoryMb: number | null;
  /** raw bytes of the child's stdout (the frame channel) */
  onStdout: (chunk: Buffer) => void;
  /** one (length-capped) line of the child's stderr */
  onLog: (line: string) => void;
}

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** set when the supervisor killed it, with the failure that caused the kill */
  killed: { kind: FailureKind; message: string } | null;
  peakRssMb: number;
  stderrTail: string[];
}

export interface RunningChild {
  done: Promise<ChildOutcome>;
  /** the child's stdin (the supervisor's side of the frame channel) */
  stdin: Writable;
  kill(kind: FailureKind, message: string): void;
}

const RSS_POLL_MS = 200;
const TAIL_LINES = 20;
const MAX_LOG_LINE = 2000;

export function startChild(launch: ChildLaunch): RunningChild {
  const [cmd, ...args] = launch.argv;
  const child = spawn(cmd, args, { cwd: launch.cwd, env: launch.env, stdio: ['pipe', 'pipe', 'pipe'] });
  // a child that dies or closes its stdin must not take the supervisor down with EPIPE
  child.stdin.on('error', () => {});
  let killed: ChildOutcome['killed'] = null;
  /** the processes the kill reached: `done` waits until they let go of what they held */
  let reached: number[] = [];
  /** a docker child's container removed (by kill, or once its client ended) */
  let containerGone: Promise<boolean> | null = null;
  let peak = 0;
  const tail: string[] = [];

  const removeContainer = () => {
    const name = launch.containerName;
    containerGone ??= name === undefined ? null : removeContainers(CHILD_LABEL, name, launch.env).then((gone) => {
      if (!gone) launch.onLog(`[harness] docker did not remove the container ${name}; it may still hold the GPU: docker rm -f ${name}`);
      return gone;
    });
  };
  const kill = (kind: FailureKind, message: string) => {
    if (killed || child.exitCode !== null || child.signalCode !== null) return;
    killed = { kind, message };
    removeContainer();
    if (child.pid !== undefined) reached = killTree(child.pid);
    else child.kill('SIGKILL');
  };

  const poll = setInterval(() => {
    if (child.pid === undefined) return;
    // a container's memory is capped by its engine (--memory covers every process in it);
    // otherwise the cap covers the child and every process it started
    const rss = launch.containerName ? rssMb(child.pid) : treeRssMb(child.pid);
    if (rss === null) return;
    peak = Math.max(peak, rss);
    if (launch.memoryMb !== null && !launch.containerName && rss > launch.memoryMb) {
      kill('oom', `the process and its children used ${Math.round(rss)} MB, over the memory cap of ${launch.memoryMb} MB.`);
    }
  }, RSS_POLL_MS);

  const stderrLine = (text: string) => {
    launch.onLog(text);
    tail.push(text);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const ended = (stream: NodeJS.ReadableStream) => new Promise<void>((resolve) => stream.on('close', resolve).on('end', resolve).on('error', () => resolve()));
  child.stdout.on('data', (c: Buffer) => launch.onStdout(c));
  const splitter = new LineSplitter(stderrLine, MAX_LOG_LINE);
  child.stderr.on('data', (c: Buffer) => splitter.push(c));
  const out = ended(child.stdout);
  const err = ended(child.stderr).then(() => splitter.end());

  const done = new Promise<ChildOutcome>((resolve) => {
    child.on('close', async (code, signal) => {
      clearInterval(poll);
      // a client that ended (or was killed) leaves its container running: the engine's, not its own
      removeContainer();
      await Promise.all([out, err, released(reached), containerGone]);
      resolve({ code, signal, killed, peakRssMb: peak, stderrTail: tail });
    });
    child.on('error', (e) => {
      clearInterval(poll);
      resolve({ code: null, signal: null, killed: killed ?? { kind: 'harness_error', message: `could not start ${cmd}: ${e.message}` }, peakRssMb: peak, stderrTail: tail });
    });
  });
  return { done, stdin: child.stdin, kill };
}
