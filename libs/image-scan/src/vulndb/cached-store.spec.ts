// CachedAdvisoryStore over the corpus's real records: every match-* query matched through the cache (in front of
// a store that returns each key's entries only, as the Postgres store does) gives exactly what the plain memory
// store gives, on a cold and on a warm cache; a new build empties it; the bound holds.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import type { AdvisoryCandidate, AdvisoryDbInfo, AdvisoryKey, AdvisoryStore } from './advisory-store.js';
import { CachedAdvisoryStore } from './cached-store.js';
import { advisoryRow, type AdvisoryRow } from './import.js';
import type { ExtractedPackage } from '../analyzers/analyzer.js';
import { matchPackages } from './match.js';
import { MemoryAdvisoryStore } from './memory-store.js';
import { forEachDumpBatch } from './osv-dump.js';

interface Query {
  ecosystem: string;
  name: string;
  name_as_found?: string;
  version: string;
  binary?: { name: string; version: string };
}

// As match-corpus.spec.ts turns a corpus query into the package a scan would report.
function packageOf(q: Query): ExtractedPackage {
  const name = q.binary?.name ?? q.name_as_found ?? q.name;
  return {
    ecosystem: q.ecosystem,
    name,
    version: q.binary?.version ?? q.version,
    ...(q.binary ? { sourceName: q.name, sourceVersion: q.version } : {}),
    purl: `pkg:generic/${name}@${q.version}`,
    installedFiles: [],
    location: 'corpus',
    foundBy: { id: 'corpus', version: 1 },
  };
}

const root = corpusPath('image', 'advisories');
const queries = readdirSync(root)
  .filter((d) => d.startsWith('match-'))
  .sort()
  .flatMap(
    (d) => (JSON.parse(readFileSync(`${root}/${d}/expected.json`, 'utf8')) as { queries: Query[] }).queries,
  );

/** Rows as the Postgres store keeps them, served as it serves them: fresh JSON copies, asked keys' entries only. */
class SplitStore implements AdvisoryStore {
  lookups = 0;
  build = 'split-1';
  constructor(private readonly rows: AdvisoryRow[]) {}
  lookup(keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    this.lookups++;
    const asked = new Set(keys.map((k) => `${k.ecosystem}\u0000${k.name}`));
    const out: unknown[] = [];
    for (const row of this.rows) {
      const filed = row.keys.filter((k) => asked.has(`${k.ecosystem}\u0000${k.name}`));
      if (!filed.length) continue;
      const copy = JSON.parse(JSON.stringify(row.record)) as AdvisoryRow['record'];
      copy.affected.push(
        ...(JSON.parse(JSON.stringify(filed.flatMap((k) => k.entries))) as typeof copy.affected),
      );
      out.push(copy);
    }
    return Promise.resolve(out);
  }
  info(): Promise<AdvisoryDbInfo> {
    return Promise.resolve({ build: this.build, records: this.rows.length, sources: [] });
  }
}

/** The same rows with the Postgres store's two-step look-up: candidates' match entries, then records by id. */
class TwoStepSplitStore extends SplitStore {
  calls = { candidates: 0, records: 0 };
  constructor(private readonly split: AdvisoryRow[]) {
    super(split);
  }
  lookupCandidates(keys: readonly AdvisoryKey[]): Promise<AdvisoryCandidate[]> {
    this.calls.candidates++;
    const asked = new Set(keys.map((k) => `${k.ecosystem}\u0000${k.name}`));
    const out: AdvisoryCandidate[] = [];
    for (const row of this.split)
      for (const k of row.keys)
        if (asked.has(`${k.ecosystem}\u0000${k.name}`))
          out.push({
            id: row.id,
            ecosystem: k.ecosystem,
            name: k.name,
            entries: JSON.parse(JSON.stringify(k.matchEntries)) as unknown[],
          });
    return Promise.resolve(out);
  }
  async lookupRecords(ids: readonly string[], keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    this.calls.records++;
    const wanted = new Set(ids);
    const all = await super.lookup(keys);
    this.lookups--;
    return all.filter((r) => wanted.has((r as { id: string }).id));
  }
}

// Dates and objects compared as JSON: what a report would carry.
const snapshot = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;

let memory: MemoryAdvisoryStore;
const rows: AdvisoryRow[] = [];
before(async () => {
  const dump = corpusPath('image', 'advisories', 'records');
  memory = new MemoryAdvisoryStore();
  await memory.loadDump(dump);
  await forEachDumpBatch(dump, (batch) => void rows.push(...batch.map(advisoryRow)));
});

describe('CachedAdvisoryStore', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('matches every corpus query exactly as the memory store does, cold and warm', async () => {
    assert.ok(queries.length >= 130, `${queries.length} corpus queries`);
    assert.ok(rows.length > 50, `${rows.length} records split into per-key rows`);
    const split = new SplitStore(rows);
    const cached = new CachedAdvisoryStore(split);
    const packages = queries.map(packageOf);
    const expected = snapshot(await matchPackages(packages, memory, { now }));
    assert.ok((expected as unknown[]).length > 100);
    // One package at a time too: keys filled one by one, records then known under several keys.
    for (const p of packages)
      assert.deepEqual(
        snapshot(await matchPackages([p], cached, { now })),
        snapshot(await matchPackages([p], memory, { now })),
        `${p.ecosystem} ${p.name}@${p.version}`,
      );
    const before = split.lookups;
    const warm = snapshot(await matchPackages(packages, cached, { now }));
    assert.deepEqual(warm, expected);
    assert.equal(split.lookups, before, 'a warm cache asks the store nothing');
    assert.deepEqual(
      snapshot(await matchPackages(packages, new CachedAdvisoryStore(split), { now })),
      expected,
    );
  });

  it('in front of a two-step store: the same matches cold and warm, hits fetched once, nothing asked warm', async () => {
    const two = new TwoStepSplitStore(rows);
    const cached = new CachedAdvisoryStore(two);
    assert.ok(cached.lookupCandidates && cached.lookupRecords, 'the cache offers the two-step look-up');
    assert.equal(new CachedAdvisoryStore(new SplitStore(rows)).lookupCandidates, undefined);
    const packages = queries.map(packageOf);
    const expected = snapshot(await matchPackages(packages, memory, { now }));
    for (const p of packages)
      assert.deepEqual(
        snapshot(await matchPackages([p], cached, { now })),
        snapshot(await matchPackages([p], memory, { now })),
        `${p.ecosystem} ${p.name}@${p.version}`,
      );
    // All packages at once: a record that is a candidate of several asked keys is fetched with all their entries.
    assert.deepEqual(snapshot(await matchPackages(packages, cached, { now })), expected);
    const before = { ...two.calls };
    assert.deepEqual(snapshot(await matchPackages(packages, cached, { now })), expected);
    assert.deepEqual(two.calls, before, 'a warm cache asks the store nothing');
    assert.equal(two.lookups, 0, 'the one-step look-up is not used');
    const cold = new CachedAdvisoryStore(new TwoStepSplitStore(rows));
    assert.deepEqual(snapshot(await matchPackages(packages, cold, { now })), expected);
  });

  it('concurrent look-ups of the same packages share one request to the store', async () => {
    const packages = queries.map(packageOf);
    const expected = snapshot(await matchPackages(packages, memory, { now }));
    const two = new TwoStepSplitStore(rows);
    const cached = new CachedAdvisoryStore(two);
    const results = await Promise.all([1, 2, 3].map(() => matchPackages(packages, cached, { now })));
    for (const r of results) assert.deepEqual(snapshot(r), expected);
    assert.deepEqual(two.calls, { candidates: 1, records: 1 });
    const split = new SplitStore(rows);
    const plain = new CachedAdvisoryStore(split);
    await Promise.all([1, 2].map(() => matchPackages(packages, plain, { now })));
    assert.equal(split.lookups, 1);
  });

  it('empties itself when the store reports a new build', async () => {
    const split = new SplitStore(rows);
    const cached = new CachedAdvisoryStore(split);
    const packages = queries.map(packageOf);
    await matchPackages(packages, cached, { now });
    const held = cached.size;
    assert.ok(held > 0);
    split.build = 'split-2';
    const before = split.lookups;
    await matchPackages(packages.slice(0, 1), cached, { now });
    assert.equal(split.lookups, before + 1);
    assert.ok(cached.size < held, `${cached.size} records after the new build, ${held} before`);
  });

  it('stays within its bound and still answers right', async () => {
    const split = new SplitStore(rows);
    const cached = new CachedAdvisoryStore(split, { maxRecords: 5 });
    const packages = queries.map(packageOf);
    for (const p of packages) {
      assert.deepEqual(
        snapshot(await matchPackages([p], cached, { now })),
        snapshot(await matchPackages([p], memory, { now })),
      );
    }
    assert.throws(
      () => new CachedAdvisoryStore(split, { maxRecords: 0 }),
      /maxRecords must be a positive integer/,
    );
  });
});
