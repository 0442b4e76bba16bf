import { createHash, timingSafeEqual } from 'node:crypto';
import { ALL_TOPICS, TOPICS, encodeEnvelope, newEnvelope, topicFor, type Finding } from '@vigil/contracts';
import { type EventLog, type LogRecord } from '@vigil/event-log';
import { deriveEventId, type ServiceIdentity } from '@vigil/nest-kit';
import {
  DetectionCloseError,
  RUNTIME_FORMATS,
  RuntimeInputError,
  detectionClosed,
  ingestEvents,
  isRuntimeFormat,
  type IngestEventsResult,
  type RuntimeFormat,
} from '@vigil/runtime-rules';
import { createLogger, metrics } from '@vigil/telemetry';
import { findingEvents } from './runtime-findings.js';
import { SensorSeenPublisher } from './sensor-watch.seen.js';

export interface RuntimeEventsHttpOptions {
  /** The bearer token every request must carry. */
  token: string;
  /** Scope of everything posted to this instance. */
  cluster: string;
  maxBodyBytes: number;
  maxInFlight: number;
  publishTimeoutMs: number;
  /** Time of events that carry none; default the wall clock. */
  clock?: () => Date;
  /** At most one SensorSeen per sensor per this many ms from this process (default 30 s); see sensor-watch.seen.ts. */
  sensorSeenIntervalMs?: number;
  /** Gaps longer than this within one delivery are runtime/sensor-silent, as the sensor watch judges across them. */
  sensorSilenceMs?: number;
}

/** What the HTTP layer sends back: a status, a JSON body and headers. */
export interface IngestReply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

// Part of every derived event id: ids minted here never collide with the scan-request consumer's.
const HTTP_ID_GROUP = 'vigil.runtime-ingest.http';
const RETRY_AFTER_UNAVAILABLE_S = 5;
const RETRY_AFTER_BUSY_S = 1;
const LISTED_PROBLEMS = 5;

export function problem(status: number, error: string, headers?: Record<string, string>): IngestReply {
  return { status, body: { error }, ...(headers ? { headers } : {}) };
}

/**
 * POST /v1/events/<source> without Nest: checks the token, reads the body with the engine's reader, and publishes
 * one FindingReported per finding, answering only once the log has acknowledged them. Nothing is buffered here:
 * a slow or failing log is a 503 and too many publishes at once a 429, both with Retry-After, so the sensor keeps
 * the events and retries. Event ids derive from the body and the finding id, so a redelivered body republishes
 * the same events (idempotent downstream) and the same findings (finding ids are deterministic).
 */
export class RuntimeEventsIngest {
  private inFlight = 0;
  private readonly tokenDigest: Buffer;
  private readonly sensorsSeen: SensorSeenPublisher;
  private readonly logger = createLogger('runtime-ingest-http');
  private readonly requests = metrics.counter({
    name: 'vigil_runtime_ingest_requests_total',
    help: 'POST /v1/events/* requests, by source and HTTP status',
    labelNames: ['source', 'status'],
  });
  private readonly published = metrics.counter({
    name: 'vigil_runtime_ingest_findings_published_total',
    help: 'FindingReported events the HTTP ingest published, by source',
    labelNames: ['source'],
  });

  constructor(
    private readonly eventLog: EventLog,
    private readonly identity: ServiceIdentity,
    readonly options: RuntimeEventsHttpOptions,
  ) {
    if (!options.token) throw new Error('RuntimeEventsIngest: the bearer token is empty');
    this.tokenDigest = sha256(options.token);
    this.sensorsSeen = new SensorSeenPublisher(identity, options.sensorSeenIntervalMs);
  }

  /** Null when the Authorization header carries the token, else the 401 to send. */
  authorize(header: string | undefined): IngestReply | null {
    const challenge = { 'WWW-Authenticate': 'Bearer realm="vigil-runtime-ingest"' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match?.[1]) return problem(401, 'missing bearer token (Authorization: Bearer <token>)', challenge);
    // Digests of equal length, so the comparison takes the same time whatever the guess.
    if (!timingSafeEqual(sha256(match[1]), this.tokenDigest))
      return problem(401, 'the bearer token is not valid', challenge);
    return null;
  }

  async ingest(source: string, body: Uint8Array): Promise<IngestReply> {
    const reply = await this.handle(source, body);
    this.requests.inc({ source: isRuntimeFormat(source) ? source : 'unknown', status: String(reply.status) });
    return reply;
  }

  private async handle(source: string, body: Uint8Array): Promise<IngestReply> {
    if (!isRuntimeFormat(source))
      return problem(
        400,
        `unknown source "${source.slice(0, 40)}": POST /v1/events/ takes ${RUNTIME_FORMATS.join(', ')}`,
      );
    const name = `POST /v1/events/${source}`;
    if (body.byteLength > this.options.maxBodyBytes)
      return tooLarge(name, body.byteLength, this.options.maxBodyBytes);
    if (this.inFlight >= this.options.maxInFlight)
      return problem(
        429,
        `${this.inFlight} requests are publishing to the event log already (limit ${this.options.maxInFlight}); retry later`,
        { 'Retry-After': String(RETRY_AFTER_BUSY_S) },
      );

    let result: IngestEventsResult;
    try {
      result = ingestEvents({
        input: body,
        format: source,
        clock: this.options.clock ?? (() => new Date()),
        cluster: this.options.cluster,
        name,
        limits: { maxInputBytes: this.options.maxBodyBytes },
        ...(this.options.sensorSilenceMs
          ? { policy: { sensorSilenceMs: this.options.sensorSilenceMs } }
          : {}),
      });
    } catch (err) {
      if (err instanceof RuntimeInputError) return problem(400, err.message);
      throw err;
    }
    // A sensor's batch is taken whole or not at all: publishing the good part of a bad batch would make its
    // retry publish that part again next to whatever the sender fixed.
    if (result.skipped.length > 0) {
      const listed = result.skipped
        .slice(0, LISTED_PROBLEMS)
        .map((s) => `line ${s.line}: ${s.reason}`)
        .join('; ');
      const more =
        result.skipped.length > LISTED_PROBLEMS
          ? `; and ${result.skipped.length - LISTED_PROBLEMS} more`
          : '';
      return {
        status: 400,
        body: {
          error: `${name}: ${result.skipped.length} part(s) of the body are not ${source} events, nothing was published: ${listed}${more}`,
          problems: result.skipped.slice(0, 100),
        },
      };
    }

    const records = this.records(source, body, result.findings);
    // In the same batch as the findings: the sensor watch learns a node is alive only if its findings are on the log.
    const seen = this.sensorsSeen.take(
      result,
      source,
      this.options.cluster,
      (this.options.clock ?? (() => new Date()))(),
    );
    if (records.length + seen.records.length > 0) {
      const outcome = await this.publish([...records, ...seen.records]);
      if (outcome) {
        seen.release();
        return outcome;
      }
      this.published.inc({ source }, records.length);
    }
    return {
      status: 202,
      body: {
        source,
        events: result.counts.events,
        telemetry: result.counts.telemetry,
        detections: result.counts.detections,
        findings: result.findings.map((f) => ({ id: f.id, ruleId: f.ruleId })),
      },
    };
  }

  /**
   * The findings as log records. The scan id names the stream (cluster and source): runtime findings are not
   * resolved by absence, and one report per finding per stream keeps the reporting side's fold bounded.
   */
  private records(source: RuntimeFormat, body: Uint8Array, findings: readonly Finding[]): LogRecord[] {
    const cluster = this.options.cluster;
    const scanId = `runtime-http:${cluster}:${source}`;
    const delivery = `${cluster}\u0000${source}\u0000${sha256(body).toString('hex')}`;
    const producer = {
      service: this.identity.service,
      version: this.identity.version,
      instance: this.identity.instance,
    };
    return findingEvents(findings, scanId).map((event) => {
      const env = newEnvelope({
        payload: event.payload,
        scope: { tenant: '', cluster },
        subjectKey: event.subjectKey,
        producer,
        ...(this.options.clock ? { clock: this.options.clock } : {}),
        newId: () => deriveEventId(delivery, HTTP_ID_GROUP, event.subjectKey),
      });
      return { topic: topicFor(env), key: env.subjectKey, value: encodeEnvelope(env) };
    });
  }

  /**
   * POST /v1/detections/<id>/ack: closes a runtime detection's window with a DetectionClosed on findings.runtime,
   * keyed by the finding id like its reports. The body is `{ "by": ..., "reason": ..., "exceptionId"?: ... }`;
   * with an exception id the close is `excepted`. Its event id derives from the request, so a retried
   * acknowledgement is the same event. Any well-formed runtime finding id is accepted: this service holds only the
   * log, not the reporting store, so it cannot tell an unknown finding from one not folded yet; a close of a
   * finding that never existed closes nothing in the reporting fold. `vigil ack` checks the store first.
   */
  async acknowledge(findingId: string, body: unknown): Promise<IngestReply> {
    const name = `POST /v1/detections/${findingId.slice(0, 80)}/ack`;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return problem(400, `${name}: the body must be a JSON object { "by": ..., "reason": ... }`);
    const b = body as Record<string, unknown>;
    for (const key of ['by', 'reason', 'exceptionId'])
      if (b[key] !== undefined && typeof b[key] !== 'string')
        return problem(400, `${name}: "${key}" must be a string`);
    const exceptionId = typeof b['exceptionId'] === 'string' ? b['exceptionId'] : '';
    const at = (this.options.clock ?? (() => new Date()))();
    let closed;
    try {
      closed = detectionClosed({
        findingId,
        cluster: this.options.cluster,
        reason: exceptionId ? 'excepted' : 'acknowledged',
        by: typeof b['by'] === 'string' ? b['by'] : '',
        note: typeof b['reason'] === 'string' ? b['reason'] : '',
        exceptionId,
        at,
      });
    } catch (err) {
      if (err instanceof DetectionCloseError) return problem(400, `${name}: ${err.message}`);
      throw err;
    }
    const request = `${at.toISOString().slice(0, 16)}\u0000${this.options.cluster}\u0000${findingId}\u0000${closed.closedBy}\u0000${closed.note}\u0000${exceptionId}`;
    const env = newEnvelope({
      payload: { case: 'detectionClosed', value: closed },
      scope: { tenant: '', cluster: this.options.cluster },
      subjectKey: findingId,
      producer: {
        service: this.identity.service,
        version: this.identity.version,
        instance: this.identity.instance,
      },
      clock: () => at,
      newId: () => deriveEventId(request, HTTP_ID_GROUP, 'ack'),
    });
    const outcome = await this.publish([
      { topic: topicFor(env), key: env.subjectKey, value: encodeEnvelope(env) },
    ]);
    if (outcome) return outcome;
    return {
      status: 202,
      body: { findingId, closed: exceptionId ? 'excepted' : 'acknowledged', eventId: env.eventId },
    };
  }

  /**
   * The topics this service writes, created once (idempotent) before its first publish: a request that arrives
   * while the process is still starting would otherwise find them missing on a fresh log and get a 503.
   */
  private topicsEnsured: Promise<void> | undefined;
  private ensureTopics(): Promise<void> {
    this.topicsEnsured ??= this.eventLog
      .ensureTopics(
        ALL_TOPICS.filter((t) => t.name === TOPICS.findings.runtime || t.name === TOPICS.sensors).map(
          (t) => ({
            name: t.name,
            partitions: t.partitions,
          }),
        ),
      )
      .catch((err: unknown) => {
        // Tried again by the next request.
        this.topicsEnsured = undefined;
        throw err;
      });
    return this.topicsEnsured;
  }

  /** Null once the log acknowledged every record; else the 503 to send. */
  private async publish(records: LogRecord[]): Promise<IngestReply | null> {
    this.inFlight++;
    // The slot is held until the log settles, not until the timeout: a hung log must fill the limit (429) rather
    // than let publishes pile up behind it.
    const pending = this.ensureTopics()
      .then(() => this.eventLog.publish(records))
      .finally(() => {
        this.inFlight--;
      });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.publishTimeoutMs);
    });
    const retry = { 'Retry-After': String(RETRY_AFTER_UNAVAILABLE_S) };
    try {
      const outcome = await Promise.race([pending.then(() => 'ok' as const), timeout]);
      if (outcome === 'timeout') {
        // Published late or not at all: the sender's retry carries the same event ids, so either way is safe.
        pending.catch(() => undefined);
        this.logger.warn(
          { records: records.length, timeoutMs: this.options.publishTimeoutMs },
          `event log did not acknowledge ${records.length} finding(s) within ${this.options.publishTimeoutMs} ms; answered 503`,
        );
        return problem(
          503,
          `the event log did not acknowledge the findings within ${this.options.publishTimeoutMs} ms; nothing is confirmed, retry`,
          retry,
        );
      }
      return null;
    } catch (err) {
      this.logger.warn({ err }, `event log refused ${records.length} finding(s): ${(err as Error).message}`);
      return problem(503, `the event log is unavailable (${(err as Error).message}); retry`, retry);
    } finally {
      clearTimeout(timer);
    }
  }
}

export function tooLarge(name: string, size: number | string, limit: number): IngestReply {
  return problem(
    413,
    `${name}: the body (${size} bytes) is over the ${limit}-byte limit; send smaller batches`,
    {
      Connection: 'close',
    },
  );
}

function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}
