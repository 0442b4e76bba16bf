// ../shared/corpus/image/advisories/peer-range-semantics: OSV affected[] evaluation as the peer's own tests assert it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import { type OsvAffected, isAffected } from './osv-range.js';

interface Group {
  test: string;
  record: { affected: (OsvAffected & { package: { ecosystem: string; name: string } })[] };
  checks: { package: { ecosystem: string; name: string; version: string }; affected: boolean }[];
}

const data = JSON.parse(
  readFileSync(corpusPath('image', 'advisories', 'peer-range-semantics', 'expected.json'), 'utf8'),
) as {
  groups: Group[];
};

describe('OSV range semantics (peer-range-semantics)', () => {
  it('every check of every group', (t) => {
    const wrong: string[] = [];
    let total = 0;
    for (const g of data.groups) {
      for (const c of g.checks) {
        total++;
        const entries = g.record.affected.filter(
          (a) => a.package.ecosystem === c.package.ecosystem && a.package.name === c.package.name,
        );
        // An unknown (empty) installed version cannot be ruled out: treat it as affected, as the peer does.
        const got = entries.some(
          (a) => c.package.version === '' || isAffected(c.package.ecosystem, c.package.version, a),
        );
        if (got !== c.affected)
          wrong.push(
            `${g.test} ${c.package.ecosystem} ${c.package.name}@${c.package.version}: expected ${c.affected}, got ${got}`,
          );
      }
    }
    t.diagnostic(`peer-range-semantics: ${total - wrong.length}/${total} agree`);
    for (const w of wrong) t.diagnostic(w);
    assert.ok(total >= 40, `at least 40 checks, got ${total}`);
    assert.deepEqual(wrong, []);
  });
});
