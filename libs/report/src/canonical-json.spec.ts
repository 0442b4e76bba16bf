import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, canonicalJsonWith } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys, drops zero values and runtime bookkeeping', () => {
    const a = {
      $typeName: 'vigil.v1.Asset',
      name: 'api',
      kind: 3,
      cluster: 'prod',
      namespace: '',
      node: '',
      tags: [] as string[],
    };
    assert.equal(canonicalJson(a), '{"cluster":"prod","kind":3,"name":"api"}');
  });

  it('gives the same text whatever order keys were set in, and when a zero-valued field is added later', () => {
    const before = { id: 'f1', severity: 1, locations: ['/usr/lib/libz.so.1'] };
    const after = {
      locations: ['/usr/lib/libz.so.1'],
      severity: 1,
      id: 'f1',
      window: undefined,
      relatedFindingIds: [],
    };
    assert.equal(canonicalJson(after), canonicalJson(before));
  });

  it('keeps list order, writes 64-bit integers as strings, bytes as base64 and doubles in shortest form', () => {
    const v = {
      ids: ['b', 'a'],
      seconds: 1793610000n,
      raw: new Uint8Array([1, 2, 250]),
      score: 9.8,
      nanos: 0,
    };
    assert.equal(canonicalJson(v), '{"ids":["b","a"],"raw":"AQL6","score":9.8,"seconds":"1793610000"}');
  });

  it('refuses values without a canonical form, naming where they are', () => {
    assert.throws(() => canonicalJson({ cvss: { score: Number.NaN } }), /\$\.cvss\.score is NaN/);
    assert.throws(() => canonicalJson({ f: () => 1 }), /\$\.f is a function/);
  });
});

describe('canonicalJson key order', () => {
  it('writes index-like keys first in numeric order, then the others by code unit, whatever the insertion order', () => {
    const labels = { zone: 'b', '10': 'x', app: 'api', '9': 'y', App: 'z' };
    const again = { '9': 'y', App: 'z', app: 'api', zone: 'b', '10': 'x' };
    assert.equal(canonicalJson({ labels }), '{"labels":{"9":"y","10":"x","App":"z","app":"api","zone":"b"}}');
    assert.equal(canonicalJson({ labels: again }), canonicalJson({ labels }));
  });
});

describe('canonicalJsonWith', () => {
  it('writes exactly what canonicalJson writes, with the supplied text in place of a field', () => {
    const report = {
      $typeName: 'vigil.v1.ComplianceReport',
      snapshotVersion: 2,
      findings: [{ id: 'b', severity: 2 }, { id: 'a' }],
      contentHash: '',
      scope: { cluster: 'prod' },
    };
    const raw = { findings: `[${report.findings.map((f) => canonicalJson(f)).join(',')}]` };
    assert.equal(canonicalJsonWith(report, raw), canonicalJson(report));
    assert.equal(
      canonicalJsonWith({ ...report, findings: [] }, { findings: '[]' }),
      canonicalJson({ ...report, findings: [] }),
    );
  });
});
