// Progress while training: a cli-progress bar on a terminal, plain lines otherwise (CI logs).
// It writes to stderr, so stdout stays free for the result (`--json`).
import cliProgress from 'cli-progress';

export interface TrainStatus {
  elapsed: number;
  step: number;
  /** the candidate's training loss: mean cross-entropy in nats per byte */
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

/**
 * The training loss as shown: in bits per byte (nats / ln 2), the unit of the score, so the bar
 * and the final val_bpb read on one scale. It is the loss on training batches, hence "train bpb".
 */
export const trainBpb = (lossNats: number): string => (lossNats / Math.LN2).toFixed(4);

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
          `train ${s.elapsed.toFixed(0)}/${budget}s step ${s.step} train_bpb ${trainBpb(s.loss)} ${Math.round(s.tokensPerSecond)} tok/s\n`,
        );
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'train [{bar}] {elapsed_s}/{budget}s | step {step} | train_bpb {loss} | {tps} tok/s',
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
      bar.update(s.elapsed, { elapsed_s: s.elapsed.toFixed(0), step: s.step, loss: trainBpb(s.loss), tps: Math.round(s.tokensPerSecond) }),
    stop: () => {
      if (running) bar.stop();
      running = false;
    },
  };
}
