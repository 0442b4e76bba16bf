// ../shared/corpus/image/advisories/match-*: every query of every case, matched through matchPackages against a
// memory store holding EVERY record of records/ (so ecosystems, names and withdrawn records must keep the others
// out), checked against the records that case lists. Run twice: against the memory store as it is, and through
// a store that keeps versions lists apart the way Postgres does (advisoryRow's keys, lists answered per asked
// version key), which must match exactly the same.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import type { ExtractedPackage } from '../analyzers/analyzer.js';
import {
  STORED_VERSIONS_FIELD,
  type AdvisoryDbInfo,
  type AdvisoryKey,
  type AdvisoryStore,
  type AdvisoryVersionKey,
} from './advisory-store.js';
import { advisoryRow } from './import.js';
import { matchPackages } from './match.js';
import { MemoryAdvisoryStore } from './memory-store.js';
import type { OsvRecord } from './osv-record.js';

interface Query {
  ecosystem: string;
  name: string;
  name_as_found?: string;
  version: string;
  binary?: { name: string; version: string };
  affected_by: string[];
  not_affected_by: string[];
}

const root = corpusPath('image', 'advisories');
const cases = readdirSync(root)
  .filter((d) => d.startsWith('match-'))
  .sort()
  .map((d) => ({
    name: d,
    ...(JSON.parse(readFileSync(`${root}/${d}/expected.json`, 'utf8')) as {
      records: string[];
      queries: Query[];
    }),
  }));

export function packageOf(q: Query): ExtractedPackage {
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

/**
 * The memory store's records as libs/store's Postgres store answers lookupVersions: split by advisoryRow, each
 * asked key's entries with their keyed lists replaced by the count and the asked keys they hold.
 */
export class SplitListsStore implements AdvisoryStore {
  constructor(private readonly inner: MemoryAdvisoryStore) {}
  lookup(keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    return this.inner.lookup(keys);
  }
  info(): Promise<AdvisoryDbInfo> {
    return this.inner.info();
  }
  /** How many entries went out without their list, and with one (figures for the test's own checks). */
  readonly sent = { keyed: 0, whole: 0 };
  async lookupVersions(keys: readonly AdvisoryVersionKey[]): Promise<unknown[]> {
    const records = (await this.inner.lookup(keys)) as OsvRecord[];
    return records.map((record) => {
      const row = advisoryRow(record);
      const affected: unknown[] = [...row.record.affected];
      for (const k of row.keys) {
        const asked = keys.filter((a) => a.ecosystem === k.ecosystem && a.name === k.name);
        if (!asked.length) continue;
        k.entries.forEach((entry, i) => {
          const listKeys = k.versionKeys?.[i];
          if (!listKeys) {
            this.sent.whole++;
            affected.push(entry);
            return;
          }
          this.sent.keyed++;
          const { versions: _versions, ...rest } = entry;
          const found = [
            ...new Set(
              asked.flatMap((a) => (a.versionKey && listKeys.includes(a.versionKey) ? [a.versionKey] : [])),
            ),
          ];
          affected.push({ ...rest, [STORED_VERSIONS_FIELD]: { count: listKeys.length, found } });
        });
      }
      // A plain copy, as rows come back from jsonb: the matcher validates it again.
      return JSON.parse(JSON.stringify({ ...row.record, affected })) as unknown;
    });
  }
}

let store: MemoryAdvisoryStore;
let split: SplitListsStore;
before(async () => {
  store = new MemoryAdvisoryStore();
  const summary = await store.loadDump(corpusPath('image', 'advisories', 'records'));
  assert.equal(summary.invalid, 0, summary.invalidExamples.join('\n'));
  assert.equal(summary.records, readdirSync(corpusPath('image', 'advisories', 'records')).length);
  split = new SplitListsStore(store);
});

for (const storeName of ['memory store', 'versions lists tested by the store'] as const)
  describe(`matching the advisory corpus (match-*), ${storeName}`, () => {
    const storeOf = (): AdvisoryStore => (storeName === 'memory store' ? store : split);
    for (const c of cases) {
      it(`${c.name}: ${c.queries.length} queries`, async () => {
        const listed = new Set(
          c.records.map((r) =>
            r
              .replace(/^.*\//, '')
              .replace(/\.json$/, '')
              .replace(/_/g, ':'),
          ),
        );
        const wrong: string[] = [];
        for (const q of c.queries) {
          const problems: string[] = [];
          const matches = await matchPackages([packageOf(q)], storeOf(), {
            onProblem: (p) => problems.push(p),
          });
          const got = new Set(matches.flatMap((m) => m.records));
          const label = `${q.ecosystem} ${q.name}@${q.version}${q.binary ? ` (${q.binary.name})` : ''}`;
          for (const id of q.affected_by)
            if (!got.has(id)) wrong.push(`${label}: expected ${id}, not matched`);
          for (const id of q.not_affected_by)
            if (got.has(id)) wrong.push(`${label}: ${id} matched, expected not`);
          for (const id of got)
            if (listed.has(id) && !q.affected_by.includes(id) && !q.not_affected_by.includes(id))
              wrong.push(`${label}: ${id} matched but the case says nothing of it`);
          if (problems.length) wrong.push(`${label}: problems ${problems.join('; ')}`);
        }
        assert.deepEqual(wrong, []);
      });
    }
    it('covers every case of the corpus', () => {
      assert.ok(cases.length >= 17, `found ${cases.length} match cases`);
      assert.ok(cases.reduce((n, c) => n + c.queries.length, 0) >= 130);
    });
  });

describe('versions lists tested by the store', () => {
  it('gives the same matches, field for field, with the lists left out of what the store sends', async () => {
    const packages = cases.flatMap((c) => c.queries.map(packageOf));
    const now = new Date('2026-01-01T00:00:00Z');
    const whole = await matchPackages(packages, store, { now });
    split.sent.keyed = 0;
    split.sent.whole = 0;
    const viaKeys = await matchPackages(packages, split, { now });
    assert.ok(whole.length > 50, `only ${whole.length} matches`);
    assert.deepEqual(viaKeys, whole);
    // The corpus's Debian, Ubuntu and PyPI entries list versions: they must have gone out as keys.
    assert.ok(split.sent.keyed >= 20, `only ${split.sent.keyed} entries went out without their list`);
  });

  it('matches by the list alone: every listed version, another spelling of one, nothing unlisted', async () => {
    // The corpus's longest real versions list per keyed scheme, ranges dropped so that only the list can match.
    const records: OsvRecord[] = [];
    const respell: Record<string, (v: string) => string | undefined> = {
      PyPI: (v) => (/^\d+(\.\d+)*$/.test(v) ? `${v}.0` : undefined),
      Debian: (v) => (v.includes(':') ? undefined : `0:${v}`),
      Ubuntu: (v) => (v.includes(':') ? undefined : `0:${v}`),
    };
    const corpus = await allRecords();
    for (const base of Object.keys(respell)) {
      const candidates = corpus.flatMap((r) =>
        r.affected
          .filter((a) => a.package?.ecosystem.split(':')[0] === base && a.versions.length)
          .map((a) => ({ r, a })),
      );
      const best = candidates.sort((x, y) => y.a.versions.length - x.a.versions.length)[0];
      assert.ok(best && best.a.versions.length >= 5, `${base}: no entry with a real versions list`);
      const { withdrawn: _withdrawn, ...live } = best.r;
      records.push({ ...live, affected: [{ ...best.a, ranges: [] }] });
    }
    const listOnly = new MemoryAdvisoryStore();
    listOnly.add(records, 'list-only');
    const splitListOnly = new SplitListsStore(listOnly);
    const packages: ExtractedPackage[] = [];
    const expected = new Set<string>();
    for (const r of records) {
      const a = r.affected[0]!;
      const { ecosystem, name } = a.package!;
      const pkg = (version: string) =>
        packageOf({ ecosystem, name, version, affected_by: [], not_affected_by: [] });
      for (const v of new Set(a.versions)) {
        packages.push(pkg(v));
        expected.add(`${ecosystem} ${v}`);
      }
      const other = a.versions.map(respell[ecosystem.split(':')[0]!]!).find((v) => v !== undefined);
      assert.ok(other, `${ecosystem}: no listed version to spell another way`);
      packages.push(pkg(other));
      expected.add(`${ecosystem} ${other}`);
      packages.push(pkg('999999.0'));
    }
    const now = new Date('2026-01-01T00:00:00Z');
    const whole = await matchPackages(packages, listOnly, { now });
    const viaKeys = await matchPackages(packages, splitListOnly, { now });
    assert.deepEqual(viaKeys, whole);
    assert.deepEqual(new Set(whole.map((m) => `${m.package.ecosystem} ${m.package.version}`)), expected);
    assert.ok(whole.every((m) => m.matchedRange === `${m.package.ecosystem} versions list`));
    assert.equal(splitListOnly.sent.whole, 0);
    assert.equal(splitListOnly.sent.keyed, records.length);
  });
});

async function allRecords(): Promise<OsvRecord[]> {
  const dir = corpusPath('image', 'advisories', 'records');
  const mem = new MemoryAdvisoryStore();
  await mem.loadDump(dir);
  const keys = new Map<string, AdvisoryKey>();
  for (const f of readdirSync(dir)) {
    const r = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { affected?: { package?: AdvisoryKey }[] };
    for (const a of r.affected ?? [])
      if (a.package) keys.set(`${a.package.ecosystem}\u0000${a.package.name}`, a.package);
  }
  return (await mem.lookup([...keys.values()])) as OsvRecord[];
}
