import { createHash } from 'node:crypto';
import {
  EnvelopeDecodeError,
  ScanStatus,
  ScannerKind,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  topicFor,
  type EnvelopePayloadInit,
  type EventEnvelope,
  type ScanCompleted,
  type ScanRequested,
} from '@vigil/contracts';
// Types only from the adapters' packages: loading them (and pg, kafkajs) must wait until telemetry has started.
import { type BatchHandler, type ConsumedRecord, type EventLog } from '@vigil/event-log';
import { createLogger, metrics, withHeadersContext, type Logger } from '@vigil/telemetry';
import { type ServiceIdentity } from './tokens.js';

/** What a scanner engine reports back; the handler adds scan id, scanner, scope, target key and times. */
export type ScanResult = Pick<ScanCompleted, 'status' | 'error'> &
  Partial<
    Pick<ScanCompleted, 'target' | 'units' | 'assets' | 'passing' | 'findingIds' | 'counts' | 'blobs'>
  > & {
    /** Events to publish before the completion (findings, inventory), each with its subject key. */
    events?: { payload: EnvelopePayloadInit; subjectKey: string }[];
  };

/** The one thing a scanner service wires: its engine library behind this interface. */
export interface ScanEngine {
  readonly scanner: ScannerKind;
  /** The engine library's name, e.g. "image-scan"; appears in logs and in the unavailable message. */
  readonly name: string;
  scan(request: ScanRequested): Promise<ScanResult>;
  /**
   * Whether this consumer runs the request at all. A DaemonSet's pods each read every request in a group of their
   * own and run only those for their node; a request another consumer runs is skipped without a trace.
   */
  accepts?(request: ScanRequested): boolean;
}

/**
 * The engine of a scanner whose library does not exist in this build: every scan completes with status
 * UNAVAILABLE and says so. It reports no findings and resolves nothing (only an ok scan resolves).
 */
export function unavailableEngine(scanner: ScannerKind, name: string): ScanEngine {
  return {
    scanner,
    name,
    scan: () =>
      Promise.resolve({
        status: ScanStatus.UNAVAILABLE,
        error: `${name} engine is not available in this build`,
      }),
  };
}

export interface ScanRequestHandlerOptions {
  engine: ScanEngine;
  eventLog: EventLog;
  identity: ServiceIdentity;
  /** The consumer group; part of the derived event ids so two groups never mint the same id. */
  group: string;
  logger?: Logger;
  clock?: () => Date;
}

const scansCompleted = () =>
  metrics.counter({
    name: 'vigil_scans_completed_total',
    help: 'Scans this process completed, by scanner and status',
    labelNames: ['scanner', 'status'],
  });
const scanSeconds = () =>
  metrics.histogram({
    name: 'vigil_scan_duration_seconds',
    help: 'Time from ScanStarted to ScanCompleted',
    labelNames: ['scanner'],
    buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
  });

/**
 * The shared part of every scanner's scan-request consumer: decode each ScanRequested, publish ScanStarted, run
 * the engine, publish its events and ScanCompleted. A record that is not a valid ScanRequested for this scanner
 * makes the handler throw, so the port retries it and then dead-letters it with the error; an engine that throws
 * is a FAILED scan, published like any other outcome. Event ids derive from the request's event id, so a
 * redelivered request republishes the same ids and idempotent consumers see no duplicate.
 */
export function createScanRequestHandler(options: ScanRequestHandlerOptions): BatchHandler {
  const { engine, eventLog, identity, group } = options;
  const logger = options.logger ?? createLogger('scan-requests');
  const clock = options.clock ?? (() => new Date());
  const scannerLabel = ScannerKind[engine.scanner]?.toLowerCase() ?? String(engine.scanner);
  const completed = scansCompleted();
  const duration = scanSeconds();

  async function handle(record: ConsumedRecord): Promise<void> {
    const where = `${record.topic}/${record.partition}@${record.offset}`;
    let envelope: EventEnvelope;
    try {
      envelope = decodeEnvelope(record.value);
    } catch (err) {
      if (err instanceof EnvelopeDecodeError && err.failure === 'unknown-payload') {
        // Written by a newer producer: skipping is safe, dead-lettering would only fill the DLQ during a rollout.
        logger.warn({ where, err: err.message }, `skipping ${where}: ${err.message}`);
        return;
      }
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
    if (envelope.payload.case !== 'scanRequested') {
      throw new Error(
        `${where}: expected a vigil.v1.ScanRequested on a scan-request topic, got ${envelope.eventType}`,
      );
    }
    const request = envelope.payload.value;
    if (request.scanner !== engine.scanner) {
      throw new Error(
        `${where}: scan ${request.scanId} is for scanner ${ScannerKind[request.scanner] ?? request.scanner}, this consumer runs ${ScannerKind[engine.scanner]}`,
      );
    }
    if (!request.scanId) throw new Error(`${where}: ScanRequested has no scan_id`);
    const scope = request.scope ?? envelope.scope;
    if (!scope?.cluster) throw new Error(`${where}: scan ${request.scanId} has no scope cluster`);
    if (engine.accepts && !engine.accepts(request)) return;
    const targetKey = request.target?.key ?? '';
    const producer = { service: identity.service, version: identity.version, instance: identity.instance };
    const derivedId = (kind: string, n = 0) => deriveEventId(envelope.eventId, group, kind, n);

    const startedAt = clock();
    const started = newEnvelope({
      payload: {
        case: 'scanStarted',
        value: {
          scanId: request.scanId,
          scanner: request.scanner,
          scope,
          targetKey,
          startedAt: timestamp(startedAt),
        },
      },
      scope,
      subjectKey: request.scanId,
      producer,
      clock: () => startedAt,
      newId: () => derivedId('scanStarted'),
    });
    await eventLog.publish([
      { topic: topicFor(started), key: started.subjectKey, value: encodeEnvelope(started) },
    ]);
    logger.info(
      { scanId: request.scanId, targetKey, engine: engine.name },
      `scan ${request.scanId} started (${targetKey || 'no target key'})`,
    );

    let result: ScanResult;
    try {
      result = await engine.scan(request);
    } catch (err) {
      logger.error(
        { err, scanId: request.scanId },
        `scan ${request.scanId} failed in ${engine.name}: ${(err as Error).message}`,
      );
      result = { status: ScanStatus.FAILED, error: `${engine.name} failed: ${(err as Error).message}` };
    }

    const extra = (result.events ?? []).map((event, n) => {
      const env = newEnvelope({
        payload: event.payload,
        scope,
        subjectKey: event.subjectKey,
        producer,
        clock,
        newId: () => derivedId('event', n),
      });
      return { topic: topicFor(env), key: env.subjectKey, value: encodeEnvelope(env) };
    });
    if (extra.length > 0) await eventLog.publish(extra);

    const completedAt = clock();
    const { events: _events, ...outcome } = result;
    const done = newEnvelope({
      payload: {
        case: 'scanCompleted',
        value: {
          ...outcome,
          target: result.target ?? request.target,
          scanId: request.scanId,
          scanner: request.scanner,
          scope,
          targetKey,
          startedAt: timestamp(startedAt),
          completedAt: timestamp(completedAt),
        },
      },
      scope,
      subjectKey: request.scanId,
      producer,
      clock: () => completedAt,
      newId: () => derivedId('scanCompleted'),
    });
    await eventLog.publish([{ topic: topicFor(done), key: done.subjectKey, value: encodeEnvelope(done) }]);

    const status = ScanStatus[result.status]?.toLowerCase() ?? String(result.status);
    completed.inc({ scanner: scannerLabel, status });
    duration.observe({ scanner: scannerLabel }, (completedAt.getTime() - startedAt.getTime()) / 1000);
    logger.info(
      { scanId: request.scanId, targetKey, status, findings: result.findingIds?.length ?? 0 },
      `scan ${request.scanId} completed: ${status}${result.error ? ` (${result.error})` : ''}`,
    );
  }

  return async (records) => {
    // Records in order, each in the trace of the request that produced it.
    for (const record of records) await withHeadersContext(record.headers, () => handle(record));
  };
}

function timestamp(date: Date): { seconds: bigint; nanos: number } {
  const ms = date.getTime();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/** A UUID (version 8: derived, not random) from the request's event id, the group and what is derived. */
export function deriveEventId(requestEventId: string, group: string, kind: string, n = 0): string {
  const h = createHash('sha256')
    .update(`${requestEventId}\u0000${group}\u0000${kind}\u0000${n}`)
    .digest('hex')
    .slice(0, 32)
    .split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
