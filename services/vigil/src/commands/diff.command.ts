import {
  RequirementStatus,
  SnapshotDiffSchema,
  timestampDate,
  toReportJson,
  type SnapshotDiff,
  type Timestamp,
} from '@vigil/contracts';
import { DEFAULT_RUNTIME_QUIET_PERIOD_MS, diffSnapshots, reportFromContent } from '@vigil/report';
import type { ReportingStore } from '@vigil/store';
import type { Output } from '../output.js';
import { UsageError } from '../usage-error.js';

/**
 * `vigil diff A B [--scope S]`: findings added, resolved (runtime detections closed as quiet apart) and changed,
 * and requirement status changes.
 */
export async function diffCommand(i: {
  store: ReportingStore;
  scope: string;
  from: string | undefined;
  to: string | undefined;
  format: 'table' | 'json';
  out: Output;
}): Promise<number> {
  if (i.from === undefined || i.to === undefined)
    throw new UsageError('vigil diff: give two snapshot versions, e.g. vigil diff 3 5');
  const from = version(i.from);
  const to = version(i.to);
  const load = async (v: number) => {
    const s = await i.store.getSnapshot(i.scope, v);
    if (!s) throw new UsageError(`vigil diff: scope ${i.scope} has no snapshot version ${v}`);
    return { ...reportFromContent(s.content, s.contentHash), contentHash: s.contentHash };
  };
  const d = diffSnapshots(await load(from), await load(to));
  if (i.format === 'json') {
    i.out.result(JSON.stringify(toReportJson(SnapshotDiffSchema, d), null, 2));
    return 0;
  }
  i.out.result(diffText(d, i.scope, from, to));
  return 0;
}

/**
 * A diff for people: what `vigil diff` and `vigil report --diff` print. A runtime detection that left the open
 * findings because it was quiet for the quiet period (the diff's closedQuietIds) is counted and marked as closed,
 * not resolved: nothing fixed it, it was not seen again.
 */
export function diffText(d: SnapshotDiff, scope: string, from: number, to: number): string {
  const f = d.findings;
  const word = (s: RequirementStatus) => (RequirementStatus[s] ?? String(s)).toLowerCase();
  const quiet = new Set(f?.closedQuietIds ?? []);
  const resolved = (f?.resolved ?? []).filter((x) => !quiet.has(x.id));
  const closed = (f?.resolved ?? []).filter((x) => quiet.has(x.id));
  const days = DEFAULT_RUNTIME_QUIET_PERIOD_MS / (24 * 60 * 60 * 1000);
  const closedWords = `closed (quiet for ${days} days)`;
  return [
    `scope ${scope}, version ${from} → ${to}: ${f?.added.length ?? 0} added, ${resolved.length} resolved, ` +
      (closed.length > 0 ? `${closed.length} ${closedWords}, ` : '') +
      `${f?.changed.length ?? 0} changed finding(s); ${d.requirements.length} requirement status change(s)`,
    ...(f?.added ?? []).map((x) => `  + ${x.id}  ${x.ruleId}  ${x.title}`),
    ...resolved.map((x) => `  - ${x.id}  ${x.ruleId}  ${x.title}`),
    ...closed.map(
      (x) =>
        `  - ${x.id}  ${x.ruleId}  ${x.title}  ${closedWords}, last seen ${isoOf(x.lastSeen ?? x.window?.end)}`,
    ),
    ...(f?.changed ?? []).map((x) => `  ~ ${x.findingId}  (${x.fields.join(', ')})`),
    ...d.requirements.map((r) => `  requirement ${r.id}: ${word(r.from)} → ${word(r.to)}`),
  ].join('\n');
}

function isoOf(t: Timestamp | undefined): string {
  return t ? timestampDate(t).toISOString() : '(no time)';
}

function version(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text))
    throw new UsageError(`vigil diff: "${text}" is not a snapshot version (1 or more)`);
  return Number(text);
}
