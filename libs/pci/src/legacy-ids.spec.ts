import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertKnownRequirementIds,
  isLegacyTag,
  legacyRemapTable,
  normalizeRequirementId,
  parseRequirementList,
  remapLegacyId,
} from './index.js';
import {
  PACKAGE_DIR,
  SHARED_DIR,
  filesUnder,
  referenceMarkdown,
  referenceRequirements,
} from './shared-reference.spec-helper.js';

// Every PCI tag that appears anywhere in the runtime corpus (Falco rules, alerts, expectations).
function corpusPciTags(): Set<string> {
  const tags = new Set<string>();
  for (const file of filesUnder(join(SHARED_DIR, 'corpus', 'runtime'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bpci_dss_[0-9][0-9.]*[0-9]/gi)) tags.add(m[0]);
  }
  return tags;
}

describe('legacy v3.2.1 numbers', () => {
  it('remaps every Falco PCI tag in the runtime corpus to existing v4.0.1 ids', () => {
    const tags = corpusPciTags();
    assert.deepEqual([...tags].sort(), ['PCI_DSS_10.2.5', 'PCI_DSS_11.5.1', 'PCI_DSS_6.4.2']);
    for (const tag of tags) {
      const remap = remapLegacyId(tag);
      assert.ok(remap, `${tag} is not remapped`);
      assertKnownRequirementIds(remap.ids, `remap of ${tag}`);
    }
    assert.deepEqual(remapLegacyId('PCI_DSS_10.2.5'), {
      ids: ['10.2.1.5'],
      from: '10.2.5',
      meaning: 'logging identification, authentication and privilege changes',
      sources: ['mistakes', 'wazuh', 'note', 'falco'],
    });
    // 6.4.2 is the WAF requirement in v4: the Falco tag must not pass through as-is.
    assert.deepEqual(remapLegacyId('PCI_DSS_6.4.2')?.ids, ['1.3.2', '11.5.1']);
    assert.deepEqual(remapLegacyId('PCI_DSS_11.5.1')?.ids, ['11.5.2', '11.5.1']);
  });

  it('translates the Wazuh-style groups the reference lists', () => {
    const md = referenceMarkdown();
    const start = md.indexOf('Translate before ingesting');
    assert.ok(start >= 0, 'reference translation list not found');
    const line = md.slice(start, md.indexOf(')', start));
    const pairs = [...line.matchAll(/(\d+(?:\.\d+)+) → (\d+(?:\.\d+)+)/g)].map((m) => [m[1], m[2]]);
    assert.equal(pairs.length, 5);
    for (const [from, to] of pairs) {
      assert.deepEqual(remapLegacyId(`pci_dss_${from}`)?.ids, [to], `pci_dss_${from}`);
    }
    assert.deepEqual(remapLegacyId('pci_dss_10.2.7')?.ids, ['10.2.1.7']);
  });

  it('covers every v3.2.1 predecessor named in the catalog notes', () => {
    let checked = 0;
    for (const ref of referenceRequirements()) {
      for (const m of (ref.note ?? '').matchAll(/Successor of v3\.2\.1 (\d+(?:\.\d+)*)/g)) {
        const remap = remapLegacyId(m[1] ?? '');
        assert.ok(remap?.ids.includes(ref.id), `v3.2.1 ${m[1]} should remap to include ${ref.id}`);
        checked++;
      }
    }
    assert.equal(checked, 10);
  });

  it('keeps every table entry on existing requirement ids, one entry per number', () => {
    const table = legacyRemapTable();
    assert.equal(new Set(table.map((e) => e.legacy)).size, table.length);
    for (const e of table) assertKnownRequirementIds(e.ids, `legacy ${e.legacy}`);
  });

  it('is documented in the package README exactly as the table holds it', () => {
    const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => /^\| \d/.test(l));
    assert.deepEqual(
      rows,
      legacyRemapTable().map(
        (e) => `| ${e.legacy} | ${e.ids.join(', ')} | ${e.meaning} | ${e.sources.join(', ')} |`,
      ),
    );
  });

  it('answers undefined for numbers it does not know and for non-tags', () => {
    assert.equal(remapLegacyId('PCI_DSS_1.1.6'), undefined);
    assert.equal(remapLegacyId('pci_dss_99.1'), undefined);
    assert.equal(remapLegacyId('T1059'), undefined);
    assert.equal(remapLegacyId('PCI_DSS_'), undefined);
    assert.equal(isLegacyTag('PCI_DSS_1.1.6'), true);
    assert.equal(isLegacyTag('mitre_execution'), false);
  });
});

describe('normalizeRequirementId', () => {
  it('reads v4 ids in the forms inputs use', () => {
    assert.equal(normalizeRequirementId('6.3.3'), '6.3.3');
    assert.equal(normalizeRequirementId(' Req 6.3.3 '), '6.3.3');
    assert.equal(normalizeRequirementId('Requirement 10.2.1.5'), '10.2.1.5');
    assert.equal(normalizeRequirementId('PCI DSS 8.2.8'), '8.2.8');
    assert.equal(normalizeRequirementId('PCI DSS v4.0.1 4.2.1'), '4.2.1');
    assert.equal(normalizeRequirementId('a3.3.1.2'), 'A3.3.1.1');
    assert.equal(normalizeRequirementId('1.4'), '1.4');
  });

  it('does not accept legacy tags or unknown ids', () => {
    assert.equal(normalizeRequirementId('PCI_DSS_10.2.5'), undefined);
    assert.equal(normalizeRequirementId('6.6'), undefined);
    assert.equal(normalizeRequirementId('PCI DSS 4.0.1'), undefined);
    assert.equal(normalizeRequirementId(''), undefined);
  });

  it("parses the host checks' v4 hints in place", () => {
    const checks = JSON.parse(
      readFileSync(join(SHARED_DIR, 'corpus', 'host', 'checks', 'linux-host-checks.json'), 'utf8'),
    ) as unknown;
    const hints: string[] = [];
    JSON.stringify(checks, (k, v: unknown) => {
      if (k === 'pci_dss_v4_hint' && typeof v === 'string') hints.push(v);
      return v;
    });
    assert.ok(hints.length >= 10);
    for (const hint of hints) assert.ok(parseRequirementList(hint, 'host check hint').length > 0, hint);
    assert.deepEqual(parseRequirementList('8.2.2 / 2.2.2'), ['8.2.2', '2.2.2']);
    assert.throws(() => parseRequirementList('8.2.2 / 6.6 / x', 'check ssh-1'), {
      message: 'check ssh-1: not PCI DSS v4.0.1 ids: "6.6", "x" (in "8.2.2 / 6.6 / x")',
    });
  });
});
