import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Severity } from '@vigil/contracts';
import { assertKnownRequirementIds } from '@vigil/pci';
import { type DetectionKind } from '../detection.model.js';
import { KIND_MAPPING, pciMeaning, severityOf } from './pci-meaning.js';
import { timestampOf } from './to-findings.js';

describe('pciMeaning', () => {
  it('every kind yields known v4.0.1 ids, the generic alert 11.5.1 only', () => {
    for (const kind of Object.keys(KIND_MAPPING) as DetectionKind[]) {
      const m = pciMeaning({ kind, legacyPciTags: [] });
      assert.ok(m.ids.length > 0, kind);
      assertKnownRequirementIds([...m.ids, ...m.secondary], kind);
    }
    assert.deepEqual(pciMeaning({ kind: 'other', legacyPciTags: [] }).ids, ['11.5.1']);
  });

  it('remaps Falco legacy tags and drops numbers with no v4.0.1 equivalent instead of passing them through', () => {
    const m = pciMeaning({ kind: 'unexpected-egress', legacyPciTags: ['PCI_DSS_6.4.2', 'PCI_DSS_99.9'] });
    assert.deepEqual(m.ids, ['1.3.2', '11.5.1']);
    assert.deepEqual(m.remapped, [
      { tag: 'PCI_DSS_6.4.2', ids: ['1.3.2', '11.5.1'] },
      { tag: 'PCI_DSS_99.9', ids: [] },
    ]);
    assert.deepEqual(pciMeaning({ kind: 'privilege-escalation', legacyPciTags: ['PCI_DSS_10.2.5'] }).ids, [
      '11.5.1',
      '10.2.1.5',
    ]);
  });
});

describe('severityOf', () => {
  it('takes the higher of the sensor priority and the kind floor, one step lower when denied', () => {
    assert.equal(
      severityOf({ kind: 'shell-in-container', priority: 'notice', denied: false }),
      Severity.MEDIUM,
    );
    assert.equal(
      severityOf({ kind: 'shell-in-container', priority: 'critical', denied: false }),
      Severity.CRITICAL,
    );
    assert.equal(
      severityOf({ kind: 'privilege-escalation', priority: 'informational', denied: false }),
      Severity.HIGH,
    );
    assert.equal(severityOf({ kind: 'crypto-mining', priority: null, denied: false }), Severity.CRITICAL);
    assert.equal(severityOf({ kind: 'other', priority: 'warning', denied: false }), Severity.MEDIUM);
    assert.equal(severityOf({ kind: 'secret-access', priority: null, denied: true }), Severity.LOW);
    assert.equal(severityOf({ kind: 'other', priority: 'debug', denied: true }), Severity.LOW);
  });
});

describe('timestampOf', () => {
  it('keeps nanoseconds and accepts numeric offsets', () => {
    const t = timestampOf('2026-11-20T14:02:11.482913117Z');
    assert.equal(t.seconds, BigInt(Date.parse('2026-11-20T14:02:11Z') / 1000));
    assert.equal(t.nanos, 482913117);
    assert.equal(timestampOf('2026-11-20T15:02:11.5+0100').seconds, t.seconds);
    assert.equal(timestampOf('2026-11-20T15:02:11.5+0100').nanos, 500000000);
  });

  it('refuses what is not RFC 3339', () => {
    assert.throws(() => timestampOf('2026'), /"2026" is not an RFC 3339 timestamp/);
    assert.throws(() => timestampOf('1764770000'), /not an RFC 3339/);
  });
});
