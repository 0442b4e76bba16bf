import { randomUUID } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  FindingSchema,
  RuntimeEventsTargetSchema,
  ScanRequestedSchema,
  ScanStatus,
  ScannerKind,
  ScopeSchema,
  TargetKind,
  TargetSchema,
  create,
  decodeEnvelope,
  encodeEnvelope,
  fromBinary,
  newEnvelope,
  scanRequestTopic,
  toReportJson,
  type Finding,
} from '@vigil/contracts';
import { skippedLineCount } from '@vigil/runtime-ingest';
import { RuntimeInputError, readEvents } from '@vigil/runtime-rules';
import type { ReportingStore } from '@vigil/store';
import type { Deployment } from '../deployment.js';
import { table, type Output } from '../output.js';
import { VIGIL_VERSION, type Pipeline } from '../pipeline.js';
import { UsageError } from '../usage-error.js';
import { findingRows } from './findings-view.js';

export const INGEST_SOURCES = ['falco', 'tetragon', 'k8s-audit'] as const;
export type IngestSource = (typeof INGEST_SOURCES)[number];

/** Exit code when the input holds no event at all (or cannot be read): an input error, like usage errors. */
export const EXIT_NO_EVENTS = 2;

export interface IngestCommandInput {
  deployment: Pick<Deployment, 'eventLog'>;
  pipeline: Pick<Pipeline, 'waitUntilCaughtUp'> & { store: Pick<ReportingStore, 'scanById' | 'getFinding'> };
  /** The positional arguments after `ingest`: the sensor and the file (`-` for stdin). */
  args: readonly string[];
  cluster: string;
  format: 'table' | 'json';
  timeoutMs: number;
  out: Output;
  /** Read when the file is `-`; default process.stdin. */
  stdin?: AsyncIterable<Uint8Array | string>;
}

/** Checks `vigil ingest <source> <file|->` before anything is started. Throws UsageError. */
export function ingestArgs(args: readonly string[]): { source: IngestSource; file: string } {
  const [source, file, ...rest] = args;
  if (!source || !(INGEST_SOURCES as readonly string[]).includes(source))
    throw new UsageError(
      `vigil ingest: ${source ? `unknown source "${source.slice(0, 40)}"` : 'no source given'} (expected ${INGEST_SOURCES.join(', ')})`,
    );
  if (!file || rest.length > 0)
    throw new UsageError(`vigil ingest ${source}: give exactly one file, or - for stdin`);
  if (file !== '-') {
    const path = resolve(file);
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
      accessSync(path, constants.R_OK);
    } catch (err) {
      throw new UsageError(
        `vigil ingest ${source}: ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      );
    }
    if (!isFile) throw new UsageError(`vigil ingest ${source}: ${path} is not a file`);
  }
  return { source: source as IngestSource, file };
}

/**
 * `vigil ingest <source> <file|->`: publishes a runtime-events scan request, lets the pipeline run (the runtime
 * ingest reads the file with the engine's reader and publishes the findings; the reporting side folds them), and
 * prints the scan's findings. stdin is spooled to a private temporary file first, since a scan request names a
 * file. The number of lines that were not events goes to stderr. Exit 0; 2 when the input has no event at all
 * (nothing is published then).
 */
export async function ingestCommand(i: IngestCommandInput): Promise<number> {
  const { source, file } = ingestArgs(i.args);
  let spoolDir: string | undefined;
  try {
    let path: string;
    let key: string;
    let bytes: Buffer;
    const options: Record<string, string> = {};
    if (file === '-') {
      spoolDir = await mkdtemp(join(tmpdir(), 'vigil-ingest-'));
      path = join(spoolDir, `stdin.${source}`);
      const chunks: Buffer[] = [];
      for await (const chunk of i.stdin ?? process.stdin)
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
      bytes = Buffer.concat(chunks);
      await writeFile(path, bytes, { mode: 0o600 });
      key = 'stdin';
      options['input-name'] = 'stdin';
    } else {
      path = resolve(file);
      key = path;
      bytes = await readFile(path);
    }
    // An input without a single event (empty, binary, the wrong sensor) is refused here, before the request is
    // published: the pipeline would otherwise record a failed scan and make a snapshot version out of nothing.
    // The runtime ingest reads the file again; reading it twice is the price of not publishing anything for it.
    try {
      readEvents(bytes, { format: source, name: key });
    } catch (err) {
      if (!(err instanceof RuntimeInputError)) throw err;
      i.out.warn(`vigil ingest ${source}: ${err.message}`);
      return EXIT_NO_EVENTS;
    }

    const scanId = randomUUID();
    const scope = create(ScopeSchema, { tenant: '', cluster: i.cluster });
    const target = create(TargetSchema, {
      kind: TargetKind.RUNTIME_EVENTS,
      key,
      ref: {
        case: 'runtimeEvents',
        value: create(RuntimeEventsTargetSchema, { format: source, source: path }),
      },
    });
    const request = newEnvelope({
      payload: {
        case: 'scanRequested',
        value: create(ScanRequestedSchema, {
          scanId,
          scanner: ScannerKind.RUNTIME,
          scope,
          target,
          requestedBy: `vigil-cli@${hostname()}`,
          options,
        }),
      },
      scope,
      subjectKey: key,
      producer: { service: 'vigil-cli', version: VIGIL_VERSION, instance: `${hostname()}-${process.pid}` },
    });
    await i.deployment.eventLog.publish([
      { topic: scanRequestTopic(ScannerKind.RUNTIME), key, value: encodeEnvelope(request) },
    ]);
    i.out.progress(`ingest ${scanId} requested: ${source} events from ${key}`);

    await i.pipeline.waitUntilCaughtUp(i.timeoutMs);
    const stored = await i.pipeline.store.scanById(scanId);
    if (!stored?.payload)
      throw new Error(
        `ingest ${scanId}: the pipeline caught up but no runtime ingest completed the scan (is its consumer running?)`,
      );
    const envelope = decodeEnvelope(stored.payload);
    if (envelope.payload.case !== 'scanCompleted')
      throw new Error(`ingest ${scanId}: stored result is not a completed scan`);
    const completed = envelope.payload.value;
    if (completed.status !== ScanStatus.OK) {
      // The engine's message names the input (the file, or stdin) and says what is wrong with it.
      i.out.warn(`vigil ingest ${source}: ${completed.error || ScanStatus[completed.status].toLowerCase()}`);
      return EXIT_NO_EVENTS;
    }

    const findings: Finding[] = [];
    for (const id of completed.findingIds) {
      const f = await i.pipeline.store.getFinding(i.cluster, id);
      if (f) findings.push(fromBinary(FindingSchema, f.payload));
    }
    if (findings.length !== completed.findingIds.length)
      throw new Error(
        `ingest ${scanId}: ${completed.findingIds.length - findings.length} of ${completed.findingIds.length} findings are not in the store after the pipeline caught up`,
      );

    // The completion's error starts with the count when lines were skipped, and lists the first ones with reasons.
    const skipped = skippedLineCount(completed.error);
    i.out.warn(`vigil ingest ${source}: ${skipped > 0 ? completed.error : '0 lines were not events'}`);
    if (i.format === 'json') {
      i.out.result(
        JSON.stringify({ findings: findings.map((f) => toReportJson(FindingSchema, f)) }, null, 2),
      );
    } else {
      const lines = [`ingest ${scanId}  ${source} events from ${key}`];
      if (findings.length > 0)
        lines.push(
          '',
          table(['severity', 'rule', 'asset', 'package', 'fixed in', 'pci dss'], findingRows(findings)),
        );
      else lines.push('no findings');
      i.out.result(lines.join('\n'));
    }
    return 0;
  } finally {
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}
