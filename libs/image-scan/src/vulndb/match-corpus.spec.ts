// ../shared/corpus/image/advisories/match-*: every query of every case, matched through matchPackages against a
// memory store holding EVERY record of records/ (so ecosystems, names and withdrawn records must keep the others
// out), checked against the records that case lists. Run twice: against the memory store as it is, and through
// a two-step store that answers as Postgres does (advisoryRow's rows: candidates' match entries first, then the
// records that hit), which must match exactly the same.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import type { ExtractedPackage } from '../analyzers/analyzer.js';
import type { AdvisoryCandidate, AdvisoryDbInfo, AdvisoryKey, AdvisoryStore } from './advisory-store.js';
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
 * The memory store's records served as libs/store's Postgres store serves its two-step look-up: rows split by
 * advisoryRow, candidates as (id, key, matchEntries), records of the asked ids with the asked keys' entries, all
 * as fresh JSON copies (as rows come back from Postgres: the matcher validates them again).
 */
export class TwoStepStore implements AdvisoryStore {
  constructor(private readonly inner: MemoryAdvisoryStore) {}
  /** How many candidates went out, and how many records (figures for the tests' own checks). */
  readonly sent = { candidates: 0, records: 0 };
  lookup(keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    return this.inner.lookup(keys);
  }
  info(): Promise<AdvisoryDbInfo> {
    return this.inner.info();
  }
  private asked(keys: readonly AdvisoryKey[]) {
    const set = new Set(keys.map((k) => `${k.ecosystem}\u0000${k.name}`));
    return (k: AdvisoryKey) => set.has(`${k.ecosystem}\u0000${k.name}`);
  }
  async lookupCandidates(keys: readonly AdvisoryKey[]): Promise<AdvisoryCandidate[]> {
    const isAsked = this.asked(keys);
    const out: AdvisoryCandidate[] = [];
    for (const record of (await this.inner.lookup(keys)) as OsvRecord[])
      for (const k of advisoryRow(record).keys)
        if (isAsked(k))
          out.push({ id: record.id, ecosystem: k.ecosystem, name: k.name, entries: copy(k.matchEntries) });
    this.sent.candidates += out.length;
    return out;
  }
  async lookupRecords(ids: readonly string[], keys: readonly AdvisoryKey[]): Promise<unknown[]> {
    const wanted = new Set(ids);
    const isAsked = this.asked(keys);
    const records = ((await this.inner.lookup(keys)) as OsvRecord[]).filter((r) => wanted.has(r.id));
    this.sent.records += records.length;
    return records.map((record) => {
      const row = advisoryRow(record);
      const filed = row.keys.filter(isAsked).flatMap((k) => k.entries);
      return copy({ ...row.record, affected: [...row.record.affected, ...filed] });
    });
  }
}

const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

let store: MemoryAdvisoryStore;
let twoStep: TwoStepStore;
before(async () => {
  store = new MemoryAdvisoryStore();
  const summary = await store.loadDump(corpusPath('image', 'advisories', 'records'));
  assert.equal(summary.invalid, 0, summary.invalidExamples.join('\n'));
  assert.equal(summary.records, readdirSync(corpusPath('image', 'advisories', 'records')).length);
  twoStep = new TwoStepStore(store);
});

for (const storeName of ['memory store', 'two-step look-up'] as const)
  describe(`matching the advisory corpus (match-*), ${storeName}`, () => {
    const storeOf = (): AdvisoryStore => (storeName === 'memory store' ? store : twoStep);
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

describe('two-step look-up', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('gives the same matches, field for field, fetching whole records for the hits only', async () => {
    const packages = cases.flatMap((c) => c.queries.map(packageOf));
    const whole = await matchPackages(packages, store, { now });
    const twice = new TwoStepStore(store);
    const viaCandidates = await matchPackages(packages, twice, { now });
    assert.ok(whole.length > 50, `only ${whole.length} matches`);
    assert.deepEqual(viaCandidates, whole);
    // The records fetched are the hits: those the matches name, plus hits of withdrawn records (dropped then).
    const named = new Set(whole.flatMap((m) => m.records));
    assert.ok(twice.sent.records >= named.size, `${twice.sent.records} records for ${named.size} matched`);
    assert.ok(
      twice.sent.records < twice.sent.candidates,
      `${twice.sent.records} records fetched for ${twice.sent.candidates} candidates`,
    );
  });

  it('fetches a hit whole: the match carries what only the full record has', async () => {
    // A corpus query and a record it is affected by that has details and several references.
    const corpus = new Map((await allRecords()).map((r) => [r.id, r]));
    const found = cases
      .flatMap((c) => c.queries)
      .flatMap((q) => q.affected_by.map((id) => ({ q, rich: corpus.get(id) })))
      .find(({ rich }) => rich && !rich.withdrawn && rich.details && rich.references.length > 1);
    assert.ok(found?.rich, 'a corpus record with references and details that a query hits');
    const { q, rich } = found;
    const one = new MemoryAdvisoryStore();
    one.add([rich], 'one');
    const two = new TwoStepStore(one);
    const pkg = packageOf(q);
    const [viaCandidates] = await matchPackages([pkg], two, { now });
    assert.deepEqual(two.sent, { candidates: 1, records: 1 });
    assert.ok(viaCandidates, `${rich.id} does not match ${q.ecosystem} ${q.name}@${q.version}`);
    assert.equal(viaCandidates.details, rich.details);
    assert.deepEqual(viaCandidates.references, [...new Set(rich.references.map((r) => r.url))]);
    assert.deepEqual([viaCandidates], await matchPackages([pkg], one, { now }));
    // Not affected: nothing but the candidate moves.
    const none = new TwoStepStore(one);
    assert.deepEqual(
      await matchPackages([{ ...pkg, version: '999999.0', sourceVersion: '999999.0' }], none, { now }),
      [],
    );
    assert.deepEqual(none.sent, { candidates: 1, records: 0 });
  });

  it('a package with many records, and withdrawn ones among them, matches as the memory store does', async () => {
    // 300 copies of the corpus's records of one Debian package, a third withdrawn (before `now`): every copy a
    // candidate, the withdrawn hits fetched and then ignored.
    const corpus = await allRecords();
    const base = corpus.find(
      (r) => !r.withdrawn && r.affected.some((e) => e.package?.ecosystem.startsWith('Debian:')),
    )!;
    const entry = base.affected.find((e) => e.package?.ecosystem.startsWith('Debian:'))!;
    const many: OsvRecord[] = [];
    for (let i = 0; i < 300; i++)
      many.push({
        ...base,
        id: `${base.id}-COPY-${i}`,
        aliases: [`CVE-2091-${String(i).padStart(5, '0')}`],
        ...(i % 3 === 0 ? { withdrawn: '2025-06-01T00:00:00Z' } : {}),
      });
    const mem = new MemoryAdvisoryStore();
    mem.add(many, 'many');
    const two = new TwoStepStore(mem);
    const versions = [
      ...entry.versions.slice(0, 3),
      ...entry.ranges
        .flatMap((r) => r.events.flatMap((e) => [e.introduced, e.fixed]))
        .filter((v): v is string => !!v && v !== '0'),
      '0:0.0.1-1',
    ];
    const packages = versions.map((version) =>
      packageOf({ ...entry.package!, version, affected_by: [], not_affected_by: [] }),
    );
    const expected = await matchPackages(packages, mem, { now });
    const got = await matchPackages(packages, two, { now });
    assert.deepEqual(got, expected);
    assert.ok(expected.length >= 200, `${expected.length} matches`);
    assert.ok(
      expected.every((m) => !m.records.some((id) => Number(id.split('-COPY-')[1]) % 3 === 0)),
      'a withdrawn copy matched',
    );
    assert.equal(two.sent.candidates, 300, 'one candidate per copy');
    assert.equal(
      two.sent.records,
      300,
      'every copy hits one of the versions, withdrawn ones too, and moves once',
    );
  });

  it('asks for the records of many packages in chunks, with the memory store answer, and fails with a chunk that fails', async () => {
    // 40 packages with 60 records each, every one of them a hit: 2,400 records, more than one chunk's worth.
    const corpus = await allRecords();
    const base = corpus.find(
      (r) => !r.withdrawn && r.affected.some((e) => e.package?.ecosystem.startsWith('Debian:')),
    )!;
    const entry = base.affected.find((e) => e.package?.ecosystem.startsWith('Debian:'))!;
    const records: OsvRecord[] = [];
    const packages = [];
    for (let p = 0; p < 40; p++) {
      const name = `chunked-${p}`;
      for (let i = 0; i < 60; i++)
        records.push({
          ...base,
          id: `${base.id}-P${p}-${i}`,
          aliases: [`CVE-2092-${String(p * 100 + i).padStart(5, '0')}`],
          affected: base.affected.map((a) => (a.package ? { ...a, package: { ...a.package, name } } : a)),
        });
      packages.push(
        packageOf({
          ...entry.package!,
          name,
          // Below every fix: affected by each copy.
          version: '0:0.0.1-1',
          affected_by: [],
          not_affected_by: [],
        }),
      );
    }
    const mem = new MemoryAdvisoryStore();
    mem.add(records, 'chunked');
    const asked: number[] = [];
    const two = new TwoStepStore(mem);
    const counting: AdvisoryStore = {
      lookup: (keys) => mem.lookup(keys),
      info: () => mem.info(),
      lookupCandidates: (keys) => two.lookupCandidates(keys),
      lookupRecords: (ids, keys) => {
        asked.push(ids.length);
        return two.lookupRecords(ids, keys);
      },
    };
    const expected = await matchPackages(packages, mem, { now });
    assert.equal(expected.length, 2400);
    assert.deepEqual(await matchPackages(packages, counting, { now }), expected);
    assert.ok(asked.length >= 3, `records asked for in ${asked.length} chunks`);
    assert.equal(
      asked.reduce((n, k) => n + k, 0),
      2400,
      'each record asked for once',
    );

    // A chunk whose look-up fails fails the match with its error, however far the matching got.
    let calls = 0;
    const failing: AdvisoryStore = {
      ...counting,
      lookupRecords: (ids, keys) =>
        ++calls === 2
          ? Promise.reject(new Error('advisory store: connection lost'))
          : two.lookupRecords(ids, keys),
    };
    await assert.rejects(matchPackages(packages, failing, { now }), /advisory store: connection lost/);
  });

  it('a candidate whose entries are not valid OSV is named and skipped, the others still match', async () => {
    const problems: string[] = [];
    const broken: AdvisoryStore = {
      lookup: () => Promise.resolve([]),
      info: () => store.info(),
      lookupCandidates: (keys) =>
        twoStep
          .lookupCandidates(keys)
          .then((cs) => cs.map((c, i) => (i === 0 ? { ...c, entries: [{ ranges: {} }] } : c))),
      lookupRecords: (ids, keys) => twoStep.lookupRecords(ids, keys),
    };
    const q = cases.flatMap((c) => c.queries).find((x) => x.affected_by.length > 1)!;
    await matchPackages([packageOf(q)], broken, { now, onProblem: (p) => problems.push(p) });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /^advisory [^:]+: .*entries\[0\]\.ranges is not a list/);
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
