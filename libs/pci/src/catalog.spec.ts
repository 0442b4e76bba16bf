import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FRAMEWORK_VERSION,
  assessable,
  catalog,
  children,
  isRequirementId,
  principalOf,
  requirement,
} from './index.js';
import { referenceRequirements } from './shared-reference.spec-helper.js';

const reference = referenceRequirements();

describe('catalog', () => {
  it('holds exactly the ids of the reference set, in the same order', () => {
    assert.equal(reference.length, 366);
    assert.deepEqual(
      catalog().map((r) => r.id),
      reference.map((r) => r.id),
    );
  });

  it('carries the reference facts for every id', () => {
    const ours = new Map(catalog().map((r) => [r.id, r]));
    for (const ref of reference) {
      const r = ours.get(ref.id);
      assert.ok(r, ref.id);
      assert.deepEqual(
        {
          parent: r.parent,
          level: r.level,
          applicability: r.applicability,
          automatable: [...r.automatable],
          coverage: r.coverage,
          futureDated: r.futureDated,
          goal: r.goal,
          aliases: r.aliases ? [...r.aliases] : undefined,
        },
        {
          parent: ref.parent,
          level: ref.level,
          applicability: ref.applicability,
          automatable: ref.automatable,
          coverage: ref.coverage,
          futureDated: ref.future_dated,
          goal: ref.goal,
          aliases: ref.aliases,
        },
        ref.id,
      );
    }
  });

  it('has titles of our own: present, at most 12 words, never the reference wording', () => {
    const paraphrase = new Map(reference.map((r) => [r.id, r.title_paraphrase.trim().toLowerCase()]));
    for (const r of catalog()) {
      assert.ok(r.title.trim().length > 0, `${r.id} has no title`);
      assert.ok(r.title.split(/\s+/).length <= 12, `${r.id} title is longer than 12 words: ${r.title}`);
      assert.notEqual(
        r.title.trim().toLowerCase(),
        paraphrase.get(r.id),
        `${r.id} repeats the reference title`,
      );
    }
  });

  it('counts 12 principal, 3 appendices, 71 sections and 280 requirements/sub-requirements', () => {
    const count = (pred: (level: string) => boolean) => catalog().filter((r) => pred(r.level)).length;
    assert.equal(
      count((l) => l === 'principal'),
      12,
    );
    assert.equal(
      count((l) => l === 'appendix'),
      3,
    );
    assert.equal(
      count((l) => l === 'section'),
      71,
    );
    assert.equal(
      count((l) => l === 'requirement' || l === 'sub-requirement'),
      280,
    );
    assert.equal(catalog().filter((r) => r.futureDated !== false).length, 51);
  });

  it('nests consistently: parent is the id minus its last part, level follows depth', () => {
    for (const r of catalog()) {
      const parts = r.id.split('.');
      if (parts.length === 1) {
        assert.equal(r.parent, null, r.id);
        assert.equal(r.level, r.id.startsWith('A') ? 'appendix' : 'principal', r.id);
        continue;
      }
      assert.equal(r.parent, parts.slice(0, -1).join('.'), r.id);
      assert.ok(r.parent !== null && isRequirementId(r.parent), `${r.id}: parent ${r.parent} missing`);
      const expected =
        parts.length === 2 ? 'section' : parts.length === 3 ? 'requirement' : 'sub-requirement';
      assert.equal(r.level, expected, r.id);
    }
  });

  it('looks ids up, resolving the v4.0 alias A3.3.1.2 to A3.3.1.1', () => {
    assert.equal(FRAMEWORK_VERSION, '4.0.1');
    assert.equal(requirement('6.3.3')?.parent, '6.3');
    assert.equal(requirement('A3.3.1.2')?.id, 'A3.3.1.1');
    assert.equal(requirement('6.3.4'), undefined);
    assert.equal(isRequirementId('9.5.1.2.1'), true);
    assert.equal(isRequirementId('A3.3.1.2'), false);
    assert.equal(isRequirementId('PCI_DSS_10.2.5'), false);
  });

  it('finds principals and children', () => {
    assert.equal(principalOf('9.5.1.2.1').id, '9');
    assert.equal(principalOf('A3.3.1.2').id, 'A3');
    assert.equal(principalOf('12').id, '12');
    assert.deepEqual(
      children('10.2.1').map((r) => r.id),
      ['10.2.1.1', '10.2.1.2', '10.2.1.3', '10.2.1.4', '10.2.1.5', '10.2.1.6', '10.2.1.7'],
    );
    assert.deepEqual(
      children('A1').map((r) => r.id),
      ['A1.1', 'A1.2'],
    );
    assert.deepEqual(children('10.2.1.1'), []);
    assert.throws(() => principalOf('13.1'), /unknown PCI DSS v4\.0\.1 requirement id "13\.1"/);
    assert.throws(() => children('6.6'), /"6\.6"/);
  });

  it('leaves service-provider and multi-tenant ids out of merchant assessments', () => {
    const merchant = new Set(assessable('merchant').map((r) => r.id));
    const provider = new Set(assessable('service_provider').map((r) => r.id));
    const multiTenant = new Set(assessable('service_provider', { multiTenant: true }).map((r) => r.id));
    const spOnly = reference.filter((r) => r.applicability === 'service_providers').map((r) => r.id);
    const mtOnly = reference
      .filter(
        (r) =>
          r.applicability === 'multi_tenant_service_providers' &&
          r.level !== 'appendix' &&
          r.level !== 'section',
      )
      .map((r) => r.id);
    assert.equal(spOnly.length, 17);
    assert.deepEqual(mtOnly, [
      '11.4.7',
      'A1.1.1',
      'A1.1.2',
      'A1.1.3',
      'A1.1.4',
      'A1.2.1',
      'A1.2.2',
      'A1.2.3',
    ]);
    for (const id of [...spOnly, ...mtOnly]) assert.equal(merchant.has(id), false, id);
    for (const id of spOnly.filter((i) => !i.startsWith('A2'))) assert.equal(provider.has(id), true, id);
    for (const id of mtOnly) assert.equal(provider.has(id), false, id);
    for (const id of mtOnly) assert.equal(multiTenant.has(id), true, id);
    // Conditional appendices and ids stay out until the profile switches them on.
    for (const id of ['A2.1.1', 'A3.2.6', '3.3.3', '12.3.2']) assert.equal(merchant.has(id), false, id);
    const designated = assessable('merchant', { designatedEntity: true }).map((r) => r.id);
    assert.ok(designated.includes('A3.2.6') && designated.includes('A3.3.1.1'));
    assert.ok(assessable('merchant', { sslEarlyTlsPoi: true }).some((r) => r.id === 'A2.1.1'));
    // Merchants: the 232 requirements marked `all`. Providers add the 17 SP-only ids except A2.1.2 and A2.1.3,
    // which sit under Appendix A2 and so also need SSL/early-TLS POI terminals.
    assert.equal(merchant.size, 232);
    assert.equal(provider.size, 232 + 17 - 2);
    assert.equal(provider.has('A2.1.2'), false);
    assert.ok(assessable('service_provider', { sslEarlyTlsPoi: true }).some((r) => r.id === 'A2.1.2'));
    assert.ok(merchant.has('6.3.3') && merchant.has('11.5.2'));
    assert.throws(() => assessable('acquirer' as 'merchant'), /unknown entity type "acquirer"/);
  });
});
