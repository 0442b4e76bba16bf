import { randomUUID } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  FindingSchema,
  FindingSource,
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
  TOPICS,
  toReportJson,
  type EventEnvelope,
  type Finding,
} from '@vigil/contracts';
import {
  DEFAULT_RUNTIME_QUIET_PERIOD_MS,
  fold,
  runtimeAsOf,
  runtimeWindowOf,
  scopeStateOf,
  type RuntimeCloseReason,
  type ScopeState,
} from '@vigil/report';
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
  pipeline: Pick<Pipeline, 'waitUntilCaughtUp'> & {
    store: Pick<ReportingStore, 'scanById' | 'getFinding' | 'eventsForScope'>;
  };
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
 * (nothing is published then). Detections the reporting fold closed at once (older than the quiet period before
 * the scope's newest runtime event, or covered by an earlier acknowledgement) are recorded, not lost: they are
 * named on the output, and the exit is still 0. A finding of the scan that the fold does not hold is an error.
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
    const missing: string[] = [];
    for (const id of completed.findingIds) {
      const f = await i.pipeline.store.getFinding(i.cluster, id);
      if (f) findings.push(fromBinary(FindingSchema, f.payload));
      else missing.push(id);
    }
    // The store holds the findings the fold ever had open; a detection it closed on arrival has no row.
    const closed =
      missing.length > 0 ? await closedOnArrival(i.pipeline.store, i.cluster, missing) : undefined;
    if (closed && closed.lost.length > 0)
      throw new Error(
        `ingest ${scanId}: ${closed.lost.length} of ${completed.findingIds.length} findings are not in the store after the pipeline caught up`,
      );

    // The completion's error starts with the count when lines were skipped, and lists the first ones with reasons.
    const skipped = skippedLineCount(completed.error);
    i.out.warn(`vigil ingest ${source}: ${skipped > 0 ? completed.error : '0 lines were not events'}`);
    // Said once: beside the JSON on stderr, or with the table on stdout.
    const closedNote = closed ? closedWords(closed, completed.findingIds.length, i.cluster) : [];
    if (i.format === 'json') {
      for (const line of closedNote) i.out.warn(`vigil ingest ${source}: ${line}`);
      i.out.result(
        JSON.stringify(
          {
            findings: findings.map((f) => toReportJson(FindingSchema, f)),
            ...(closed && closed.closed.length > 0
              ? {
                  closed: closed.closed.map((c) => ({
                    id: c.finding.id,
                    ruleId: c.finding.ruleId,
                    reason: c.reason,
                    lastSeen: isoOf(c.lastSeen),
                    closedAt: isoOf(c.closedAt),
                  })),
                }
              : {}),
          },
          null,
          2,
        ),
      );
    } else {
      const lines = [`ingest ${scanId}  ${source} events from ${key}`];
      if (findings.length > 0)
        lines.push(
          '',
          table(['severity', 'rule', 'asset', 'package', 'fixed in', 'pci dss'], findingRows(findings)),
        );
      else lines.push(closedNote.length > 0 ? 'no open findings' : 'no findings');
      if (closed && closed.closed.length > 0)
        lines.push(
          '',
          ...closedNote,
          '',
          table(
            ['closed', 'rule', 'last seen', 'finding'],
            closed.closed.map((c) => [
              c.reason === 'quiet' ? `quiet for ${quietWords()}` : c.reason,
              c.finding.ruleId,
              isoOf(c.lastSeen),
              c.finding.id,
            ]),
          ),
        );
      i.out.result(lines.join('\n'));
    }
    return 0;
  } finally {
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}

interface ClosedDetection {
  readonly finding: Finding;
  readonly reason: RuntimeCloseReason;
  readonly lastSeen: Date | undefined;
  readonly closedAt: Date | undefined;
}

interface ClosedOnArrival {
  /** Recorded and folded, but closed: the quiet period had passed, or an earlier close covers them. */
  readonly closed: readonly ClosedDetection[];
  /** Not in the fold's view of the scope, or open there and still missing from the store: a real loss. */
  readonly lost: readonly string[];
  /** The newest runtime occurrence of the scope: what "quiet" is measured against. */
  readonly newest: Date | undefined;
}

const STORED_PAGE = 5000;

/**
 * Which of the scan's findings missing from the store the reporting fold closed as it took them in, and which it
 * does not account for. The scope's finding events are folded again from the store's copy of the log (what the
 * projection folded) and each missing finding is put through the same window rule (runtime-window.ts): a runtime
 * detection last seen a quiet period or more before the newest runtime occurrence of the scope is closed, and so is
 * one an earlier acknowledgement or acceptance covers.
 */
async function closedOnArrival(
  store: Pick<ReportingStore, 'eventsForScope'>,
  cluster: string,
  missing: readonly string[],
): Promise<ClosedOnArrival> {
  const findingTopics = new Set<string>(Object.values(TOPICS.findings));
  const events: EventEnvelope[] = [];
  for (let offset = 0; ;) {
    const page = await store.eventsForScope(cluster, { offset, limit: STORED_PAGE });
    for (const e of page) if (findingTopics.has(e.topic)) events.push(decodeEnvelope(e.payload));
    offset += page.length;
    if (page.length < STORED_PAGE) break;
  }
  const scope = scopeStateOf(fold(events), { cluster });
  const newest = scope ? runtimeAsOf(scope) : undefined;
  const closed: ClosedDetection[] = [];
  const lost: string[] = [];
  for (const id of missing) {
    const record = scope?.findings.get(id);
    const reports = record ? [...record.reports.values()] : [];
    if (!record || !reports.some((r) => r.finding.source === FindingSource.RUNTIME)) {
      lost.push(id);
      continue;
    }
    const w = runtimeWindowOf(record, scope?.runtimeClosures?.get(id), newest);
    if (w.open || !w.closed) {
      lost.push(id);
      continue;
    }
    closed.push({
      // Every report of one finding id names the same rule and asset; any of them says which detection it is.
      finding: reports[0]!.finding,
      reason: w.closed.reason,
      lastSeen: dateOf(w.lastSeen),
      closedAt: dateOf(w.closed.at),
    });
  }
  closed.sort((a, b) => (a.finding.id < b.finding.id ? -1 : a.finding.id > b.finding.id ? 1 : 0));
  return { closed, lost, newest: dateOf(newest) };
}

/** "7 days", or as an adjective ("7-day") with `-`. */
function quietWords(joiner: ' ' | '-' = ' '): string {
  const days = DEFAULT_RUNTIME_QUIET_PERIOD_MS / (24 * 60 * 60 * 1000);
  return `${days}${joiner}day${days === 1 || joiner === '-' ? '' : 's'}`;
}

/** What the output says of detections that were recorded closed; nothing when there are none. */
function closedWords(c: ClosedOnArrival, total: number, cluster: string): string[] {
  const quiet = c.closed.filter((x) => x.reason === 'quiet').length;
  const other = c.closed.length - quiet;
  const lines: string[] = [];
  if (quiet > 0)
    lines.push(
      `${quiet} of ${total} detections were recorded but are already closed: their last occurrence is ` +
        `${quietWords()} or more before the newest runtime event of cluster "${cluster}" (${isoOf(c.newest)}), ` +
        `and a runtime detection not seen again for the ${quietWords('-')} quiet period, counted in log time, is closed`,
    );
  if (other > 0)
    lines.push(
      `${other} of ${total} detections were recorded but are already closed by an earlier acknowledgement or ` +
        `acceptance that covers their last occurrence`,
    );
  return lines;
}

function dateOf(t: ScopeState['asOf']): Date | undefined {
  return t ? new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000)) : undefined;
}

function isoOf(d: Date | undefined): string {
  return d ? d.toISOString() : '(no time)';
}
