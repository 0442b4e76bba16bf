// ../shared/corpus/image/advisories/match-*: every query of every case, matched through matchPackages against a
// memory store holding EVERY record of records/ (so ecosystems, names and withdrawn records must keep the others
// out), checked against the records that case lists.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import type { ExtractedPackage } from '../analyzers/analyzer.js';
import { matchPackages } from './match.js';
import { MemoryAdvisoryStore } from './memory-store.js';

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

let store: MemoryAdvisoryStore;
before(async () => {
  store = new MemoryAdvisoryStore();
  const summary = await store.loadDump(corpusPath('image', 'advisories', 'records'));
  assert.equal(summary.invalid, 0, summary.invalidExamples.join('\n'));
  assert.equal(summary.records, readdirSync(corpusPath('image', 'advisories', 'records')).length);
});

describe('matching the advisory corpus (match-*)', () => {
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
        const matches = await matchPackages([packageOf(q)], store, { onProblem: (p) => problems.push(p) });
        const got = new Set(matches.flatMap((m) => m.records));
        const label = `${q.ecosystem} ${q.name}@${q.version}${q.binary ? ` (${q.binary.name})` : ''}`;
        for (const id of q.affected_by) if (!got.has(id)) wrong.push(`${label}: expected ${id}, not matched`);
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
