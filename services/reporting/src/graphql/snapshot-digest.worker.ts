// Reads one snapshot's digest off the API's event loop (see SnapshotReads): even without its findings, a
// 200,000-finding content is hundreds of MB to hash and search, which would stall every request meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { digestFromContent } from '@vigil/report';

const { content, contentHash } = workerData as { content: Uint8Array; contentHash: string };
parentPort?.postMessage(digestFromContent(content, contentHash));
