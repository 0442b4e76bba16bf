// A per-process cache in front of a persistent AdvisoryStore (Postgres): a scanner matches image after image
// against one DB build, and most of a look-up's cost is moving and validating the same records again (tens of MB
// of jsonb for a large image). Records are kept validated, per (ecosystem, name) key, for as long as the store
// reports the same build; a new build empties the cache. The cache is bounded by a record count and emptied
// whole when it passes it, so a long-running scanner does not grow with the database.
import type { AdvisoryDbInfo, AdvisoryKey, AdvisoryStore } from './advisory-store.js';
import { parseOsvRecord, type OsvRecord, type OsvRecordAffected } from './osv-record.js';

export interface CachedAdvisoryStoreOptions {
  /** Most records held (default 100,000); passing it empties the cache before the next look-up fills it. */
  maxRecords?: number;
}

const keyOf = (ecosystem: string, name: string) => `${ecosystem}\u0000${name}`;
const pep503 = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** The asked key an entry is about, by the rule the matcher applies (PEP 503 names for PyPI). */
function entryKey(a: OsvRecordAffected): string | undefined {
  if (!a.package) return undefined;
  const { ecosystem, name } = a.package;
  return keyOf(ecosystem, ecosystem === 'PyPI' ? pep503(name) : name);
}

export class CachedAdvisoryStore implements AdvisoryStore {
  private build: string | undefined;
  /** Key -> what the store returned for it: validated records' ids, or records that failed validation as given. */
  private readonly byKey = new Map<string, { ids: string[]; invalid: unknown[] }>();
  private readonly records = new Map<string, OsvRecord>();
  private readonly maxRecords: number;

  constructor(
    private readonly inner: AdvisoryStore,
    options: CachedAdvisoryStoreOptions = {},
  ) {
    this.maxRecords = options.maxRecords ?? 100_000;
    if (!Number.isInteger(this.maxRecords) || this.maxRecords < 1)
      throw new RangeError(
        `CachedAdvisoryStore: maxRecords must be a positive integer, got ${options.maxRecords}`,
      );
  }

  info(): Promise<AdvisoryDbInfo> {
    return this.inner.info();
  }

  /** How many records are held now (for tests and figures). */
  get size(): number {
    return this.records.size;
  }

  private clear(): void {
    this.byKey.clear();
    this.records.clear();
  }

  async lookup(keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    const { build } = await this.inner.info();
    if (build !== this.build || this.records.size > this.maxRecords) {
      this.clear();
      this.build = build;
    }
    const asked = [...new Map(keys.map((k) => [keyOf(k.ecosystem, k.name), k])).entries()];
    const missing = asked.filter(([key]) => !this.byKey.has(key));
    if (missing.length) await this.fill(missing);
    const out: unknown[] = [];
    const given = new Set<string>();
    for (const [key] of asked) {
      const slot = this.byKey.get(key)!;
      for (const id of slot.ids) {
        if (given.has(id)) continue;
        given.add(id);
        out.push(this.records.get(id)!);
      }
      out.push(...slot.invalid);
    }
    return out;
  }

  private async fill(missing: [string, AdvisoryKey][]): Promise<void> {
    const raw = await this.inner.lookup(missing.map(([, k]) => k));
    const filling = new Map(missing.map(([key]) => [key, { ids: [] as string[], invalid: [] as unknown[] }]));
    for (const r of raw) {
      let record: OsvRecord;
      try {
        const id = (r as { id?: unknown })?.id;
        record = parseOsvRecord(r, `advisory ${typeof id === 'string' ? id : '(no id)'}`);
      } catch {
        // Kept as given under one key, so the matcher names it (once per look-up) as it does without a cache.
        filling.get(missing[0]![0])!.invalid.push(r);
        continue;
      }
      const mine = new Set<string>();
      for (const a of record.affected) {
        const k = entryKey(a);
        if (k !== undefined && filling.has(k)) mine.add(k);
      }
      // A store may return a record on grounds the entries do not show; keep it where the matcher will see it.
      if (!mine.size) for (const [key] of missing) mine.add(key);
      for (const k of mine) filling.get(k)!.ids.push(record.id);
      const held = this.records.get(record.id);
      this.records.set(record.id, held ? merged(held, record, mine) : record);
    }
    for (const [key, slot] of filling) this.byKey.set(key, slot);
  }
}

/**
 * One record known under several keys: a persistent store returns each key's entries only, so the copy held
 * gains the entries of the keys just filled. Entries the held copy already has (the same objects, as a memory
 * store returns them) are not added twice, nor are the record's own package-less entries.
 */
function merged(held: OsvRecord, fresh: OsvRecord, keys: Set<string>): OsvRecord {
  if (fresh === held) return held;
  const have = new Set(held.affected);
  const added = fresh.affected.filter((a) => {
    const k = entryKey(a);
    return k !== undefined && keys.has(k) && !have.has(a);
  });
  if (!added.length) return held;
  // Validated again, so the matcher takes it as it is instead of checking it on every look-up.
  return parseOsvRecord({ ...held, affected: [...held.affected, ...added] }, `advisory ${held.id}`);
}
