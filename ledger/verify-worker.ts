// Worker thread of verifyLedgerDir: checks the content of the shards it is given.
import { parentPort, workerData } from 'node:worker_threads';
import { checkShards } from './verify-dir.js';

const { dir, paths } = workerData as { dir: string; paths: string[] };
parentPort!.postMessage(checkShards(dir, paths));
