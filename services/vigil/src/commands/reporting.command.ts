import { pciCatalog, type EntityType } from '@vigil/report';
import { ReportingProjection, SnapshotMaker, type RebuiltVersion } from '@vigil/reporting';
import type { EventLog } from '@vigil/event-log';
import type { ReportingStore } from '@vigil/store';
import type { Output } from '../output.js';
import { UsageError } from '../usage-error.js';

/**
 * `vigil reporting rebuild`: drops the reporting projections, replays the stored log through the same fold and
 * checks every snapshot's content hash. Exit 1 when any version does not come out the same.
 */
export async function reportingCommand(i: {
  sub: string | undefined;
  store: ReportingStore;
  eventLog: EventLog;
  entityType: EntityType;
  format: 'table' | 'json';
  out: Output;
}): Promise<number> {
  if (i.sub !== 'rebuild')
    throw new UsageError(
      i.sub === undefined
        ? 'vigil reporting: give a subcommand (rebuild)'
        : `vigil reporting: unknown subcommand "${i.sub}" (expected rebuild)`,
    );
  const projection = new ReportingProjection({
    store: i.store,
    eventLog: i.eventLog,
    producer: { service: 'vigil', version: '0.1.0', instance: `rebuild-${process.pid}` },
    // Creation times are not in the content, and a rebuild makes no new version.
    snapshots: new SnapshotMaker(pciCatalog(), i.entityType, () => new Date()),
    logger: { info: (m) => i.out.progress(m), warn: (m) => i.out.warn(m) },
  });
  const lines: string[] = [];
  const result = await projection.rebuild((v) => {
    if (i.format === 'table') i.out.result(line(v));
    else lines.push(line(v));
  });
  if (i.format === 'json') {
    i.out.result(JSON.stringify(result, null, 2));
  } else {
    const bad = result.versions.filter((v) => !v.ok).length;
    i.out.result(
      `${result.versions.length} version(s) checked from ${result.events} stored event(s): ` +
        (bad === 0 ? 'every content hash reproduced' : `${bad} mismatch(es)`),
    );
  }
  return result.ok ? 0 : 1;
}

function line(v: RebuiltVersion): string {
  if (v.ok) return `${v.scope} v${v.version} ok ${v.stored}`;
  const why = [
    v.rebuilt !== v.stored ? `stored ${v.stored}, replay gives ${v.rebuilt}` : '',
    v.chained ? '' : 'previous_hash does not chain to the version before',
  ].filter(Boolean);
  return `${v.scope} v${v.version} MISMATCH: ${why.join('; ')}`;
}
