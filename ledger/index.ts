// The ledger's public API. The core (chain, credits, audit, shard layout) is pure; the stores
// and the checkout reader do the I/O.
export * from './entries.js';
export { canonicalJson } from './canonical-json.js';
export { ZERO_HASH, hashEntry, appendEntries, verifyChain, entryDataProblem, linkProblem, contentProblem, lineHashMatches, type ChainHead, type ChainCheck } from './chain.js';
export {
  FREE_TIER_REASON,
  LedgerState,
  computeBalances,
  classWeight,
  creditForResult,
  reversalsForForgery,
  freeRunsLeft,
  type Balance,
  type ClassWeight,
} from './credits.js';
export { auditLedger, type AuditPolicy, type AuditResult } from './audit.js';
export { SHARD_MAX_BYTES, TAIL_FILE, HEAD_FILE, shardName, isTail, entryLocation, parseLedgerText, parseShard, ledgerFiles, shardWrites, entryLine, type Tail } from './shards.js';
export { readLedgerDir, writeLedgerDir, shardFiles } from './ledger-dir.js';
export { verifyLedgerDir, type DirCheck, type SlimEntry } from './verify-dir.js';
export { MemoryLedgerStore, type LedgerStore, type NewEntriesFor } from './store.js';
export { GitHubLedgerStore, type GitHubLedgerStoreOptions, type LedgerOctokit } from './github-store.js';
export { longRunReason, longRunIssue, longRunJobs } from './long-run.js';
export { TrustBook, DEFAULT_TRUST_POLICY, spotDraw, runsAgree, baselineOwners, replayable, type TrustPolicy, type OwnerTrust } from './trust.js';
export { DETERMINISTIC_BACKENDS, DEFAULT_OUTVOTE_QUORUM, maxReplayRuns, replayBy, replaysAgree, replayVerdict, digestCommitment, type ReplayBy, type ReplayRun, type ReplayVerdict } from './replays.js';
