import type { FailureKind } from './result.js';

/** Why a run ended without a score: the result's failure block. */
export class RunFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
  }
}
