import {
  FindingChangeSchema,
  FindingChangesSchema,
  FindingSchema,
  RequirementChangeSchema,
  RequirementStatus,
  SCHEMA_VERSIONS,
  SnapshotDiffSchema,
  FindingSource,
  create,
  toBinary,
  type ComplianceReport,
  type Finding,
  type FindingChange,
  type RequirementChange,
  type SnapshotDiff,
} from '@vigil/contracts';
import { DEFAULT_RUNTIME_QUIET_PERIOD_MS } from './runtime-window.js';
import type { Snapshot } from './snapshot.builder.js';
import { scopeKey } from './scope-state.js';
import { compareStrings, laterOf, toNanos, type TimestampLike } from './time.js';

// Fields that move on every rescan of an unchanged problem; a difference in them alone is not a change.
const VOLATILE_FIELDS = new Set(['firstSeen', 'lastSeen']);

// What changed from snapshot `a` to snapshot `b` of one scope: findings added (open in b, not in a), resolved
// (open in a, not in b), changed (open in both, some field other than first/last seen differs), and requirement
// status changes. Either argument may be a Snapshot or the ComplianceReport of one (a baseline read from JSON).
//
// A runtime detection leaves the open findings when it is closed, not fixed (runtime-window.ts): closedQuietIds
// names the resolved ones that had been quiet for the quiet period by `b`'s runtime clock.
export function diffSnapshots(a: Snapshot | ComplianceReport, b: Snapshot | ComplianceReport): SnapshotDiff {
  const from = reportOf(a);
  const to = reportOf(b);
  const fromScope = from.scope ? scopeKey(from.scope) : '';
  const toScope = to.scope ? scopeKey(to.scope) : '';
  if (fromScope !== toScope) {
    throw new Error(`diffSnapshots: snapshots belong to different scopes ("${fromScope}" and "${toScope}")`);
  }
  const before = new Map(from.findings.map((f) => [f.id, f]));
  const after = new Map(to.findings.map((f) => [f.id, f]));
  const added = [...after.values()].filter((f) => !before.has(f.id)).sort(byId);
  const resolved = [...before.values()].filter((f) => !after.has(f.id)).sort(byId);
  const changed: FindingChange[] = [];
  for (const f of [...after.values()].sort(byId)) {
    const old = before.get(f.id);
    if (!old) continue;
    const fields = changedFields(old, f);
    if (fields.length > 0)
      changed.push(create(FindingChangeSchema, { findingId: f.id, fields, before: old, after: f }));
  }

  const statusBefore = new Map(from.requirements.map((r) => [r.id, r.status]));
  const statusAfter = new Map(to.requirements.map((r) => [r.id, r.status]));
  const ids = [...new Set([...statusBefore.keys(), ...statusAfter.keys()])];
  // Keep the standard's order: the later snapshot's, then anything only the earlier one had.
  const order = new Map<string, number>();
  for (const r of [...to.requirements, ...from.requirements])
    if (!order.has(r.id)) order.set(r.id, order.size);
  ids.sort((x, y) => (order.get(x) ?? 0) - (order.get(y) ?? 0));
  const requirements: RequirementChange[] = [];
  for (const id of ids) {
    const s0 = statusBefore.get(id) ?? RequirementStatus.UNSPECIFIED;
    const s1 = statusAfter.get(id) ?? RequirementStatus.UNSPECIFIED;
    if (s0 !== s1) requirements.push(create(RequirementChangeSchema, { id, from: s0, to: s1 }));
  }

  return create(SnapshotDiffSchema, {
    schemaVersion: SCHEMA_VERSIONS['vigil.v1.SnapshotDiff'],
    scope: to.scope,
    from: from.snapshotVersion,
    to: to.snapshotVersion,
    findings: create(FindingChangesSchema, {
      added,
      resolved,
      changed,
      closedQuietIds: [...quietlyClosed(resolved, to)].sort(compareStrings),
    }),
    requirements,
  });
}

// The resolved runtime findings whose last occurrence lies a quiet period or more before the later report's runtime
// clock. That clock is the latest occurrence of the scope's runtime findings; the content keeps only the open
// ones, and the latest occurrence is open unless it was acknowledged or excepted, so the clock read here is never
// later than the fold's: what the content cannot tell about stays "resolved". The finding's last occurrence is the
// earlier report's; one seen again between the two versions and then acknowledged would be named too.
function quietlyClosed(resolved: readonly Finding[], to: ComplianceReport): ReadonlySet<string> {
  const ids = new Set<string>();
  let clock: TimestampLike | undefined;
  for (const f of to.findings)
    if (f.source === FindingSource.RUNTIME) clock = laterOf<TimestampLike>(clock, f.lastSeen);
  const now = toNanos(clock);
  if (now === undefined) return ids;
  const period = BigInt(DEFAULT_RUNTIME_QUIET_PERIOD_MS) * 1_000_000n;
  for (const f of resolved) {
    if (f.source !== FindingSource.RUNTIME) continue;
    const last = toNanos(f.lastSeen ?? f.window?.end);
    if (last !== undefined && now >= last + period) ids.add(f.id);
  }
  return ids;
}

// The lowerCamelCase names of the fields that differ, compared by their encoding so nested messages and lists
// compare by value.
export function changedFields(a: Finding, b: Finding): string[] {
  const out: string[] = [];
  for (const field of FindingSchema.fields) {
    if (VOLATILE_FIELDS.has(field.jsonName)) continue;
    const name = field.localName as keyof Finding;
    if (!sameBytes(encodeOne(name, a[name]), encodeOne(name, b[name]))) out.push(field.jsonName);
  }
  return out;
}

function encodeOne(name: keyof Finding, value: unknown): Uint8Array {
  return toBinary(
    FindingSchema,
    create(FindingSchema, { [name]: value } as Parameters<typeof create<typeof FindingSchema>>[1]),
  );
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.byteLength !== y.byteLength) return false;
  for (let i = 0; i < x.byteLength; i++) if (x[i] !== y[i]) return false;
  return true;
}

function reportOf(s: Snapshot | ComplianceReport): ComplianceReport {
  return 'report' in s ? s.report : s;
}

function byId(x: Finding, y: Finding): number {
  return compareStrings(x.id, y.id);
}
