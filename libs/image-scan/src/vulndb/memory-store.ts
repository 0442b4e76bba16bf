// An AdvisoryStore held in memory: for tests, benches and `--db DIR` (a dump read straight from disk). Same
// import rule as the Postgres store: a record replaces one of the same id only when its `modified` is newer.
import { createHash } from 'node:crypto';
import type { AdvisoryDbInfo, AdvisoryKey, AdvisorySourceInfo, AdvisoryStore } from './advisory-store.js';
import { forEachDumpBatch, type DumpOptions, type DumpSummary } from './osv-dump.js';
import { recordKeys, type OsvRecord } from './osv-record.js';

const keyOf = (ecosystem: string, name: string) => `${ecosystem}\u0000${name}`;

export class MemoryAdvisoryStore implements AdvisoryStore {
  private readonly records = new Map<string, { record: OsvRecord; source: string; modified: number }>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly sources = new Map<string, { importedAt: Date }>();
  private build: string | undefined;
  private updatedAt: Date | undefined;

  constructor(private readonly clock: () => Date = () => new Date()) {}

  /** Adds records under a source name; returns how many were new or replaced an older copy. */
  add(records: Iterable<OsvRecord>, source: string): number {
    let changed = 0;
    for (const record of records) {
      const modified = Date.parse(record.modified);
      const old = this.records.get(record.id);
      if (old && old.modified >= modified) continue;
      if (old) this.unindex(old.record);
      this.records.set(record.id, { record, source, modified });
      for (const k of recordKeys(record)) {
        const key = keyOf(k.ecosystem, k.name);
        let ids = this.byKey.get(key);
        if (!ids) this.byKey.set(key, (ids = new Set()));
        ids.add(record.id);
      }
      changed++;
    }
    const now = this.clock();
    this.sources.set(source, { importedAt: now });
    this.updatedAt = now;
    if (changed) this.build = undefined;
    return changed;
  }

  /** Loads a dump (zip or directory) as one source named after its path. */
  async loadDump(path: string, options: DumpOptions & { source?: string } = {}): Promise<DumpSummary> {
    const source = options.source ?? path;
    const summary = await forEachDumpBatch(path, (batch) => void this.add(batch, source), options);
    if (summary.records === 0) this.add([], source);
    return summary;
  }

  private unindex(record: OsvRecord): void {
    for (const k of recordKeys(record)) this.byKey.get(keyOf(k.ecosystem, k.name))?.delete(record.id);
  }

  lookup(keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    const ids = new Set<string>();
    for (const k of keys) for (const id of this.byKey.get(keyOf(k.ecosystem, k.name)) ?? []) ids.add(id);
    return Promise.resolve([...ids].map((id) => this.records.get(id)!.record));
  }

  info(): Promise<AdvisoryDbInfo> {
    const perSource = new Map<string, { records: number; newest: number }>();
    for (const { source, modified } of this.records.values()) {
      const s = perSource.get(source) ?? { records: 0, newest: 0 };
      s.records++;
      s.newest = Math.max(s.newest, modified);
      perSource.set(source, s);
    }
    const sources: AdvisorySourceInfo[] = [...this.sources.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, { importedAt }]) => {
        const s = perSource.get(name);
        return {
          name,
          records: s?.records ?? 0,
          importedAt,
          ...(s && s.newest ? { newestRecord: new Date(s.newest) } : {}),
        };
      });
    if (this.build === undefined) {
      const h = createHash('sha256');
      for (const id of [...this.records.keys()].sort())
        h.update(`${id}\u0000${this.records.get(id)!.modified}\n`);
      this.build = `mem-${h.digest('hex').slice(0, 16)}`;
    }
    return Promise.resolve({
      build: this.build,
      records: this.records.size,
      sources,
      ...(this.updatedAt ? { updatedAt: this.updatedAt } : {}),
    });
  }
}
