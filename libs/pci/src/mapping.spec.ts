import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertKnownRequirementIds,
  findingMapping,
  mappingKeys,
  requirement,
  requirementsFor,
} from './index.js';
import { referenceMappings } from './shared-reference.spec-helper.js';

const reference = referenceMappings();

describe('finding → requirement mapping', () => {
  it('has every key of the reference mapping with the same primary and secondary ids', () => {
    assert.equal(reference.length, 32);
    assert.deepEqual([...mappingKeys()].sort(), reference.map((m) => m.key).sort());
    for (const ref of reference) {
      const ours = requirementsFor(ref.key);
      assert.deepEqual(new Set(ours.primary), new Set(ref.primary.map((r) => r.id)), `${ref.key} primary`);
      assert.deepEqual(
        new Set(ours.secondary),
        new Set(ref.secondary.map((r) => r.id)),
        `${ref.key} secondary`,
      );
      assert.deepEqual([...findingMapping(ref.key).scanners], ref.scanner, `${ref.key} scanners`);
    }
  });

  it('maps only to existing requirement or sub-requirement ids', () => {
    for (const key of mappingKeys()) {
      const { primary, secondary } = requirementsFor(key);
      assertKnownRequirementIds([...primary, ...secondary], `mapping ${key}`);
      assert.ok(primary.length > 0, `${key} has no primary id`);
      assert.equal(
        new Set([...primary, ...secondary]).size,
        primary.length + secondary.length,
        `${key} repeats an id`,
      );
    }
  });

  it('gives its own reason for every id, not the reference text', () => {
    const refReasons = new Map(
      reference.flatMap((m) =>
        [...m.primary, ...m.secondary].map((r) => [`${m.key} ${r.id}`, r.reason] as const),
      ),
    );
    for (const key of mappingKeys()) {
      const m = findingMapping(key);
      for (const r of [...m.primary, ...m.secondary]) {
        assert.ok(r.reason.length > 0, `${key} ${r.id}`);
        assert.notEqual(
          r.reason,
          refReasons.get(`${key} ${r.id}`),
          `${key} ${r.id} copies the reference reason`,
        );
      }
    }
  });

  it('answers real keys with the v4.0.1 ids', () => {
    assert.deepEqual(requirementsFor('image.unpatched_critical_over_30_days'), {
      primary: ['6.3.3'],
      secondary: ['11.3.1', '6.3.1'],
    });
    assert.deepEqual(requirementsFor('runtime.privilege_escalation').primary, ['11.5.1', '10.2.1.5']);
    assert.equal(requirement('10.2.1.5')?.level, 'sub-requirement');
  });

  it('rejects an unknown key naming it and the valid keys', () => {
    assert.throws(
      () => requirementsFor('image.vulnerable_pkg'),
      (err: Error) =>
        err.message.startsWith('unknown finding type "image.vulnerable_pkg"') &&
        err.message.includes('image.vulnerable_package') &&
        err.message.includes('extra.security_telemetry_failure'),
    );
  });
});

describe('assertKnownRequirementIds', () => {
  it('accepts canonical requirement ids and names the emitter and each bad id otherwise', () => {
    assertKnownRequirementIds(['6.3.3', '10.2.1.5', 'A3.3.1.1'], 'test');
    assertKnownRequirementIds([], 'test');
    assert.throws(
      () =>
        assertKnownRequirementIds(
          ['6.3.3', '10.2.5x', 'A3.3.1.2', '6.3', 'PCI_DSS_10.2.5'],
          'image-scan matcher',
        ),
      {
        message:
          'image-scan matcher: "10.2.5x" is not a v4.0.1 id; "A3.3.1.2" is an alias; emit "A3.3.1.1"; ' +
          '"6.3" is a section id; findings map to requirements or sub-requirements; "PCI_DSS_10.2.5" is not a v4.0.1 id',
      },
    );
    assertKnownRequirementIds(['6.3', '6'], 'roll-up', { allowRollup: true });
  });
});
