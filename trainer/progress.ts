// Progress while training: a cli-progress bar on a terminal, plain lines otherwise (CI logs).
// It writes to stderr, so stdout stays free for the result (`--json`).
import cliProgress from 'cli-progress';

export interface TrainStatus {
  elapsed: number;
  step: number;
  loss: number;
  tokensPerSecond: number;
}

export interface Reporter {
  /** a one-line note about a phase: loading data, evaluating, ... */
  phase(message: string): void;
  start(budgetSeconds: number): void;
  update(s: TrainStatus): void;
  stop(): void;
}

const PLAIN_EVERY_S = 10;

export function makeReporter(opts: { tty: boolean; stream?: NodeJS.WritableStream; quiet?: boolean }): Reporter {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { phase() {}, start() {}, update() {}, stop() {} };
  if (!opts.tty) {
    let budget = 0;
    let lastPrinted = -Infinity;
    return {
      phase: (m) => void stream.write(`${m}\n`),
      start: (b) => {
        budget = b;
      },
      update: (s) => {
        if (s.elapsed - lastPrinted < PLAIN_EVERY_S) return;
        lastPrinted = s.elapsed;
        stream.write(
          `train ${s.elapsed.toFixed(0)}/${budget}s step ${s.step} loss ${s.loss.toFixed(4)} ${Math.round(s.tokensPerSecond)} tok/s\n`,
        );
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'train [{bar}] {elapsed_s}/{budget}s | step {step} | loss {loss} | {tps} tok/s',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    phase: (m) => void stream.write(`${m}\n`),
    start: (b) => {
      running = true;
      bar.start(b, 0, { elapsed_s: '0', budget: b, step: 0, loss: '-', tps: 0 });
    },
    update: (s) =>
      bar.update(s.elapsed, { elapsed_s: s.elapsed.toFixed(0), step: s.step, loss: s.loss.toFixed(4), tps: Math.round(s.tokensPerSecond) }),
    stop: () => {
      if (running) bar.stop();
      running = false;
    },
  };
}
