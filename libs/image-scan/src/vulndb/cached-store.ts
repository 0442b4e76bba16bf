// A per-process cache in front of a persistent AdvisoryStore (Postgres): a scanner matches image after image
// against one DB build, and most of a look-up's cost is moving and validating the same records again (tens of MB
// of jsonb for a large image). Records are kept validated, per (ecosystem, name) key, for as long as the store
// reports the same build; a new build empties the cache. The cache is bounded by a record count and emptied
// whole when it passes it, so a long-running scanner does not grow with the database.
//
// In front of a store with a two-step look-up the cache offers it too, so its first scan is as cheap as the
// store's: candidates are held per key as the store sent them, and whole records only for the ids that hit, per
// the asked keys they were fetched with. Concurrent look-ups of the same keys share one request to the store.
import type { AdvisoryCandidate, AdvisoryDbInfo, AdvisoryKey, AdvisoryStore } from './advisory-store.js';
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
  /** Key -> the candidates the store sent for it (two-step look-up). */
  private readonly candidates = new Map<string, AdvisoryCandidate[]>();
  private candidateCount = 0;
  /** Record id and the asked keys it is a candidate of -> the record as fetched for them, validated. */
  private readonly hits = new Map<string, OsvRecord | { invalid: unknown }>();
  /** Requests to the store in flight, per key (or per hit), so concurrent look-ups share them. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly maxRecords: number;

  lookupCandidates?: (keys: readonly AdvisoryKey[]) => Promise<AdvisoryCandidate[]>;
  lookupRecords?: (ids: readonly string[], keys: readonly AdvisoryKey[]) => Promise<unknown[]>;

  constructor(
    private readonly inner: AdvisoryStore,
    options: CachedAdvisoryStoreOptions = {},
  ) {
    this.maxRecords = options.maxRecords ?? 100_000;
    if (!Number.isInteger(this.maxRecords) || this.maxRecords < 1)
      throw new RangeError(
        `CachedAdvisoryStore: maxRecords must be a positive integer, got ${options.maxRecords}`,
      );
    if (inner.lookupCandidates && inner.lookupRecords) {
      this.lookupCandidates = (keys) => this.cachedCandidates(keys);
      this.lookupRecords = (ids, keys) => this.cachedRecords(ids, keys);
    }
  }

  info(): Promise<AdvisoryDbInfo> {
    return this.inner.info();
  }

  /** How many records are held now (for tests and figures). */
  get size(): number {
    return this.records.size + this.hits.size;
  }

  private clear(): void {
    this.byKey.clear();
    this.records.clear();
    this.candidates.clear();
    this.candidateCount = 0;
    this.hits.clear();
    this.pending.clear();
  }

  /** Empties the cache for a new build or past its bound; requests in flight then fill the emptied one. */
  private async check(): Promise<void> {
    const { build } = await this.inner.info();
    if (
      build !== this.build ||
      this.records.size + this.hits.size > this.maxRecords ||
      this.candidateCount > this.maxRecords
    ) {
      this.clear();
      this.build = build;
    }
  }

  /** Runs `fetch` for the slots not held and not in flight; resolves once every slot asked is filled. */
  private async share(
    slots: string[],
    held: (slot: string) => boolean,
    fetch: (slots: string[]) => Promise<void>,
  ) {
    const waits = new Set<Promise<void>>();
    const mine: string[] = [];
    for (const slot of slots) {
      if (held(slot)) continue;
      const p = this.pending.get(slot);
      if (p) waits.add(p);
      else mine.push(slot);
    }
    if (mine.length) {
      const p = fetch(mine).finally(() => {
        for (const slot of mine) if (this.pending.get(slot) === p) this.pending.delete(slot);
      });
      for (const slot of mine) this.pending.set(slot, p);
      waits.add(p);
    }
    await Promise.all(waits);
  }

  async lookup(keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    await this.check();
    const asked = [...new Map(keys.map((k) => [keyOf(k.ecosystem, k.name), k])).entries()];
    const byName = new Map(asked);
    await this.share(
      asked.map(([key]) => `lookup\u0000${key}`),
      (slot) => this.byKey.has(slot.slice('lookup\u0000'.length)),
      (slots) =>
        this.fill(slots.map((s) => s.slice('lookup\u0000'.length)).map((key) => [key, byName.get(key)!])),
    );
    const out: unknown[] = [];
    const given = new Set<string>();
    for (const [key] of asked) {
      const slot = this.byKey.get(key);
      // Emptied by a new build while this look-up waited: asked again, against the new build.
      if (!slot) return this.lookup(keys);
      for (const id of slot.ids) {
        if (given.has(id)) continue;
        given.add(id);
        out.push(this.records.get(id)!);
      }
      out.push(...slot.invalid);
    }
    return out;
  }

  private async cachedCandidates(keys: readonly AdvisoryKey[]): Promise<AdvisoryCandidate[]> {
    await this.check();
    const asked = new Map(keys.map((k) => [keyOf(k.ecosystem, k.name), k]));
    await this.share(
      [...asked.keys()],
      (key) => this.candidates.has(key),
      async (missing) => {
        const got = await this.inner.lookupCandidates!(missing.map((key) => asked.get(key)!));
        const filling = new Map(missing.map((key) => [key, [] as AdvisoryCandidate[]]));
        // A candidate of a key not asked is the store's mistake; it goes where the matcher will name it.
        for (const c of got) (filling.get(keyOf(c.ecosystem, c.name)) ?? filling.get(missing[0]!)!).push(c);
        for (const [key, list] of filling) {
          this.candidates.set(key, list);
          this.candidateCount += list.length;
        }
      },
    );
    const out: AdvisoryCandidate[] = [];
    for (const key of asked.keys()) {
      const list = this.candidates.get(key);
      if (!list) return this.cachedCandidates(keys);
      out.push(...list);
    }
    return out;
  }

  private async cachedRecords(ids: readonly string[], keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    // A record comes with the entries of the asked keys it is a candidate of: those keys are part of its slot.
    const asked = new Set(keys.map((k) => keyOf(k.ecosystem, k.name)));
    const keysOf = new Map<string, string[]>();
    for (const key of asked)
      for (const c of this.candidates.get(key) ?? []) {
        const list = keysOf.get(c.id);
        if (!list) keysOf.set(c.id, [key]);
        else if (!list.includes(key)) list.push(key);
      }
    const slotOf = (id: string) => `${id}\u0000${(keysOf.get(id) ?? [...asked]).sort().join('\u0001')}`;
    const slots = new Map([...new Set(ids)].map((id) => [slotOf(id), id]));
    await this.share(
      [...slots.keys()].map((s) => `hit\u0000${s}`),
      (slot) => this.hits.has(slot.slice('hit\u0000'.length)),
      async (missing) => {
        const wanted = missing.map((s) => s.slice('hit\u0000'.length));
        const raw = await this.inner.lookupRecords!(
          wanted.map((s) => slots.get(s)!),
          keys,
        );
        const bySlot = new Map<string, OsvRecord | { invalid: unknown }>();
        for (const r of raw) {
          const id = (r as { id?: unknown })?.id;
          try {
            const record = parseOsvRecord(r, `advisory ${typeof id === 'string' ? id : '(no id)'}`);
            bySlot.set(slotOf(record.id), record);
          } catch {
            // Kept as given, so the matcher names it as it does without a cache.
            bySlot.set(typeof id === 'string' ? slotOf(id) : wanted[0]!, { invalid: r });
          }
        }
        for (const s of wanted) this.hits.set(s, bySlot.get(s) ?? { invalid: undefined });
      },
    );
    const out: unknown[] = [];
    for (const s of slots.keys()) {
      const held = this.hits.get(s);
      if (!held) return this.cachedRecords(ids, keys);
      if (!('invalid' in held)) out.push(held);
      else if (held.invalid !== undefined) out.push(held.invalid);
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
