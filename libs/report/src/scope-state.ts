import {
  type AttestationRevoked,
  type EventEnvelope,
  type ExceptionRecorded,
  type ExceptionRevoked,
  type Finding,
  type InventoryItem,
  type RequirementAttested,
  type ScanCompleted,
  type ScannerKind,
  type Scope,
} from '@vigil/contracts';
import { closeReasonOf, type DetectionClosure } from './runtime-window.js';
import { compareNanos, compareStrings, earlierOf, laterOf, toNanos, type TimestampLike } from './time.js';

// The reporting fold. `evolve` is the only way state changes; everything a snapshot shows is computed from this
// state at build time (see finding-resolution.ts), so the order in which topics interleave does not matter: only
// which events were folded.
//
// The state is an accumulator in the sense of Array.prototype.reduce: `evolve` returns the next state and may
// reuse the storage of the one passed in, so a caller keeps only the returned value. Copying every map on every
// event would make a 200,000-finding replay quadratic.

export interface FindingReport {
  readonly scanId: string;
  readonly finding: Finding;
  readonly eventId: string;
  readonly occurredAt: TimestampLike | undefined;
}

export interface FindingRecord {
  readonly id: string;
  // One report per scan that listed the finding; a re-delivered or re-published report of the same scan replaces
  // the earlier one only when it is later (occurred-at, then event id), so arrival order cannot pick the winner.
  readonly reports: Map<string, FindingReport>;
}

export interface ScanRecord {
  readonly scanId: string;
  scanner: ScannerKind | undefined;
  targetKey: string | undefined;
  // From ScanStarted (the earliest, should it come twice); the completion's own started_at takes precedence where
  // a start time is needed (see scanStartOf).
  startedAt: TimestampLike | undefined;
  completed: ScanCompleted | undefined;
  completedEventId: string | undefined;
  completedOccurredAt: TimestampLike | undefined;
}

export interface InventoryRecord {
  readonly key: string;
  readonly item: InventoryItem;
  readonly scanId: string;
  readonly eventId: string;
  readonly occurredAt: TimestampLike | undefined;
}

export interface ExceptionState {
  readonly id: string;
  readonly recorded: ExceptionRecorded;
  readonly eventId: string;
  readonly occurredAt: TimestampLike | undefined;
}

export interface AttestationState {
  readonly id: string;
  readonly attested: RequirementAttested;
  readonly eventId: string;
  readonly occurredAt: TimestampLike | undefined;
}

export interface ScopeState {
  readonly scope: { readonly tenant: string; readonly cluster: string };
  readonly scans: Map<string, ScanRecord>;
  readonly findings: Map<string, FindingRecord>;
  readonly inventory: Map<string, InventoryRecord>;
  readonly exceptions: Map<string, ExceptionState>;
  // Kept apart from the acceptances: a revocation may arrive before its acceptance (they share a key, but a
  // rebuild may fold topics in another interleaving), and a revoked id stays revoked.
  readonly revocations: Map<string, ExceptionRevoked>;
  // DetectionClosed events by finding id (see runtime-window.ts). Kept apart from the reports, since a close may be
  // folded before the finding it closes. Optional only so scope states built elsewhere need not name it.
  readonly runtimeClosures?: Map<string, DetectionClosure[]>;
  // Manual evidence (RequirementAttested) by attestation id, and its revocations kept apart for the same reason as
  // the exceptions'. Optional only so scope states built elsewhere need not name them.
  readonly attestations?: Map<string, AttestationState>;
  readonly attestationRevocations?: Map<string, AttestationRevoked>;
  // The latest occurred-at of any event folded into the scope: the "as of" time of a snapshot, derived from the
  // log rather than from a clock, so a rebuild gives the same content.
  asOf: TimestampLike | undefined;
  eventCount: number;
  // Ids of the findings whose reports or runtime closures changed since finding-resolution.ts last took them: what
  // lets it re-resolve only what a batch touched instead of the whole scope. Absent on scope states built by hand,
  // which are then resolved in full every time.
  readonly changedFindings?: Set<string>;
}

export interface ReportState {
  readonly seenEventIds: Set<string>;
  readonly scopes: Map<string, ScopeState>;
  // scan id → scope key, so readyForSnapshot can be asked with a scan id alone.
  readonly scanScopes: Map<string, string>;
}

export function initialState(): ReportState {
  return { seenEventIds: new Set(), scopes: new Map(), scanScopes: new Map() };
}

export function scopeKey(scope: { readonly tenant?: string; readonly cluster: string }): string {
  return scope.tenant ? `${scope.tenant}/${scope.cluster}` : scope.cluster;
}

export function evolve(state: ReportState, event: EventEnvelope): ReportState {
  const what = describe(event);
  if (!event.eventId) throw new Error(`evolve: ${what} has no event id (consumers are idempotent on it)`);
  if (state.seenEventIds.has(event.eventId)) return state;

  const payload = event.payload;
  switch (payload.case) {
    case 'scanStarted': {
      const s = payload.value;
      requireField(s.scanId, 'scanId', what);
      const scope = scopeOf(state, payloadScope(s.scope, event, what));
      const scan = scanRecord(state, scope, s.scanId);
      // The completion, when folded, is authoritative for scanner and target key; this only fills them in before.
      scan.scanner ??= s.scanner;
      scan.targetKey ??= s.targetKey || undefined;
      scan.startedAt = earlierOf(scan.startedAt, s.startedAt ?? event.occurredAt);
      touch(scope, event);
      break;
    }
    case 'scanCompleted': {
      const c = payload.value;
      requireField(c.scanId, 'scanId', what);
      requireField(c.targetKey, 'targetKey', what);
      const scope = scopeOf(state, payloadScope(c.scope, event, what));
      const scan = scanRecord(state, scope, c.scanId);
      if (isLater(event.occurredAt, event.eventId, scan.completedOccurredAt, scan.completedEventId)) {
        scan.completed = c;
        scan.completedEventId = event.eventId;
        scan.completedOccurredAt = event.occurredAt;
        // The completion is authoritative for what was scanned: it carries scanner and target key itself.
        scan.scanner = c.scanner;
        scan.targetKey = c.targetKey;
      }
      touch(scope, event);
      break;
    }
    case 'findingReported': {
      const r = payload.value;
      requireField(r.scanId, 'scanId', what);
      const finding = r.finding;
      if (!finding) throw new Error(`evolve: ${what} carries no finding`);
      requireField(finding.id, 'finding.id', what);
      const scope = scopeOf(state, envelopeScope(event, what));
      let record = scope.findings.get(finding.id);
      if (!record) {
        record = { id: finding.id, reports: new Map() };
        scope.findings.set(finding.id, record);
      }
      const prior = record.reports.get(r.scanId);
      if (!prior || isLater(event.occurredAt, event.eventId, prior.occurredAt, prior.eventId)) {
        record.reports.set(r.scanId, {
          scanId: r.scanId,
          finding,
          eventId: event.eventId,
          occurredAt: event.occurredAt,
        });
        scope.changedFindings?.add(finding.id);
      }
      touch(scope, event);
      break;
    }
    case 'inventoryObserved': {
      const o = payload.value;
      const scope = scopeOf(state, payloadScope(o.scope, event, what));
      for (const item of o.items) {
        const key = inventoryKey(item);
        if (key === undefined) continue;
        const prior = scope.inventory.get(key);
        if (!prior || isLater(event.occurredAt, event.eventId, prior.occurredAt, prior.eventId)) {
          scope.inventory.set(key, {
            key,
            item,
            scanId: o.scanId,
            eventId: event.eventId,
            occurredAt: event.occurredAt,
          });
        }
      }
      touch(scope, event);
      break;
    }
    case 'exceptionRecorded': {
      const x = payload.value;
      requireField(x.exceptionId, 'exceptionId', what);
      const scope = scopeOf(state, payloadScope(x.scope, event, what));
      const prior = scope.exceptions.get(x.exceptionId);
      if (!prior || isLater(event.occurredAt, event.eventId, prior.occurredAt, prior.eventId)) {
        scope.exceptions.set(x.exceptionId, {
          id: x.exceptionId,
          recorded: x,
          eventId: event.eventId,
          occurredAt: event.occurredAt,
        });
      }
      touch(scope, event);
      break;
    }
    case 'exceptionRevoked': {
      const x = payload.value;
      requireField(x.exceptionId, 'exceptionId', what);
      const scope = scopeOf(state, payloadScope(x.scope, event, what));
      if (!scope.revocations.has(x.exceptionId)) scope.revocations.set(x.exceptionId, x);
      touch(scope, event);
      break;
    }
    case 'requirementAttested': {
      const a = payload.value;
      requireField(a.attestationId, 'attestationId', what);
      requireField(a.requirementId, 'requirementId', what);
      const scope = scopeOf(state, payloadScope(a.scope, event, what));
      const attestations = scope.attestations ?? new Map<string, AttestationState>();
      const prior = attestations.get(a.attestationId);
      if (!prior || isLater(event.occurredAt, event.eventId, prior.occurredAt, prior.eventId)) {
        attestations.set(a.attestationId, {
          id: a.attestationId,
          attested: a,
          eventId: event.eventId,
          occurredAt: event.occurredAt,
        });
      }
      if (!scope.attestations) (scope as { attestations?: typeof attestations }).attestations = attestations;
      touch(scope, event);
      break;
    }
    case 'attestationRevoked': {
      const a = payload.value;
      requireField(a.attestationId, 'attestationId', what);
      const scope = scopeOf(state, payloadScope(a.scope, event, what));
      const revoked = scope.attestationRevocations ?? new Map<string, AttestationRevoked>();
      if (!revoked.has(a.attestationId)) revoked.set(a.attestationId, a);
      if (!scope.attestationRevocations)
        (scope as { attestationRevocations?: typeof revoked }).attestationRevocations = revoked;
      touch(scope, event);
      break;
    }
    case 'detectionClosed': {
      const c = payload.value;
      requireField(c.findingId, 'findingId', what);
      const reason = closeReasonOf(c.reason);
      if (!reason) throw new Error(`evolve: ${what} has no close reason (acknowledged, excepted or quiet)`);
      const scope = scopeOf(state, payloadScope(c.scope, event, what));
      const closures = scope.runtimeClosures ?? new Map<string, DetectionClosure[]>();
      const list = closures.get(c.findingId) ?? [];
      list.push({
        findingId: c.findingId,
        reason,
        closedAt: c.closedAt ?? event.occurredAt,
        closedBy: c.closedBy,
        note: c.note,
        exceptionId: c.exceptionId,
        eventId: event.eventId,
      });
      closures.set(c.findingId, list);
      scope.changedFindings?.add(c.findingId);
      if (!scope.runtimeClosures) (scope as { runtimeClosures?: typeof closures }).runtimeClosures = closures;
      touch(scope, event);
      break;
    }
    default:
      // Scan requests, snapshot announcements and dead letters carry nothing a snapshot shows.
      break;
  }
  state.seenEventIds.add(event.eventId);
  return state;
}

// Folds a sequence of events; the convenience every caller would otherwise write.
export function fold(events: Iterable<EventEnvelope>, state: ReportState = initialState()): ReportState {
  let s = state;
  for (const e of events) s = evolve(s, e);
  return s;
}

export interface ScanReadiness {
  readonly scanId: string;
  // False while the scan's completion has not been folded.
  readonly completed: boolean;
  // Finding ids the completion lists that no FindingReported has brought yet.
  readonly missingFindingIds: readonly string[];
}

export function scanReadiness(state: ReportState, scanId: string): ScanReadiness {
  const key = state.scanScopes.get(scanId);
  const scope = key === undefined ? undefined : state.scopes.get(key);
  const completed = scope?.scans.get(scanId)?.completed;
  if (!scope || !completed) return { scanId, completed: false, missingFindingIds: [] };
  const missing = completed.findingIds.filter((id) => !scope.findings.has(id));
  return { scanId, completed: true, missingFindingIds: [...new Set(missing)].sort(compareStrings) };
}

// A completed scan makes a new snapshot version of its scope once every finding id it lists has been projected.
// "Projected" means any report of that id has been folded: scanners publish a FindingReported for each id they list,
// but a finding already known from an earlier scan must not hold the snapshot back if its re-report is slow.
export function readyForSnapshot(state: ReportState, scanId: string): boolean {
  const r = scanReadiness(state, scanId);
  return r.completed && r.missingFindingIds.length === 0;
}

// When a scan started: its completion says so when folded, else its ScanStarted.
export function scanStartOf(scan: ScanRecord): TimestampLike | undefined {
  return scan.completed?.startedAt ?? scan.startedAt;
}

export function scopeStateOf(
  state: ReportState,
  scope: { readonly tenant?: string; readonly cluster: string },
): ScopeState | undefined {
  return state.scopes.get(scopeKey(scope));
}

// ---- internals ----

function touch(scope: ScopeState, event: EventEnvelope): void {
  scope.asOf = laterOf(scope.asOf, event.occurredAt);
  scope.eventCount += 1;
}

function scopeOf(state: ReportState, scope: { tenant: string; cluster: string }): ScopeState {
  const key = scopeKey(scope);
  let s = state.scopes.get(key);
  if (!s) {
    s = {
      scope: { tenant: scope.tenant, cluster: scope.cluster },
      scans: new Map(),
      findings: new Map(),
      inventory: new Map(),
      exceptions: new Map(),
      revocations: new Map(),
      runtimeClosures: new Map(),
      attestations: new Map(),
      attestationRevocations: new Map(),
      asOf: undefined,
      eventCount: 0,
      changedFindings: new Set(),
    };
    state.scopes.set(key, s);
  }
  return s;
}

function scanRecord(state: ReportState, scope: ScopeState, scanId: string): ScanRecord {
  let scan = scope.scans.get(scanId);
  if (!scan) {
    scan = {
      scanId,
      scanner: undefined,
      targetKey: undefined,
      startedAt: undefined,
      completed: undefined,
      completedEventId: undefined,
      completedOccurredAt: undefined,
    };
    scope.scans.set(scanId, scan);
    state.scanScopes.set(scanId, scopeKey(scope.scope));
  }
  return scan;
}

function payloadScope(
  scope: Scope | undefined,
  event: EventEnvelope,
  what: string,
): { tenant: string; cluster: string } {
  if (scope?.cluster) return { tenant: scope.tenant, cluster: scope.cluster };
  return envelopeScope(event, what);
}

function envelopeScope(event: EventEnvelope, what: string): { tenant: string; cluster: string } {
  const scope = event.scope;
  if (!scope?.cluster)
    throw new Error(`evolve: ${what} has no scope cluster (every event belongs to a cluster)`);
  return { tenant: scope.tenant, cluster: scope.cluster };
}

function requireField(value: string, name: string, what: string): void {
  if (!value) throw new Error(`evolve: ${what} has an empty ${name}`);
}

function describe(event: EventEnvelope): string {
  return `event ${event.eventId || '<no id>'} (${event.eventType || event.payload.case || 'no payload'})`;
}

// Later by occurred-at, then by event id: a total order over two reports of the same fact, independent of arrival.
function isLater(
  at: TimestampLike | undefined,
  eventId: string,
  priorAt: TimestampLike | undefined,
  priorEventId: string | undefined,
): boolean {
  if (priorEventId === undefined) return true;
  const byTime = compareNanos(toNanos(at), toNanos(priorAt));
  if (byTime !== 0) return byTime > 0;
  return compareStrings(eventId, priorEventId) > 0;
}

// The identity of an inventory item within its scope. An image is identified by the reference it was asked for,
// so a new digest under the same tag replaces the old one, as a scan of it does.
export function inventoryKey(item: InventoryItem): string | undefined {
  const i = item.item;
  switch (i.case) {
    case 'cluster':
      return `cluster:${i.value.name}`;
    case 'namespace':
      return `namespace:${i.value.name}`;
    case 'workload':
      return `workload:${i.value.namespace}/${i.value.kind}/${i.value.name}`;
    case 'container':
      return `container:${i.value.namespace}/${i.value.workloadKind}/${i.value.workloadName}/${i.value.name}`;
    case 'image':
      return `image:${i.value.ref || i.value.digest}`;
    case 'node':
      return `node:${i.value.name}`;
    case 'serviceExposure':
      return `service:${i.value.namespace}/${i.value.type}/${i.value.name}`;
    default:
      return undefined;
  }
}
