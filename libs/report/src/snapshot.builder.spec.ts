import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequirementStatus, type EventEnvelope, type RequirementResult } from '@vigil/contracts';
import { assessable, catalog } from '@vigil/pci';
import {
  AssetKind,
  Events,
  ScannerKind,
  ScanStatus,
  Severity,
  misconfig,
  subsetCatalog,
  vuln,
} from './events.spec-helper.js';
import { pciCatalog } from './pci-catalog.adapter.js';
import { fold } from './scope-state.js';
import { buildSnapshot, contentHashOf, type BuildSnapshotInput, type Snapshot } from './snapshot.builder.js';

const APP = 'registry.example.com/payments/api:1.4';
const DIGEST = 'sha256:' + 'c3'.repeat(32);
const SCOPE = { cluster: 'prod' };
const POSITION = [
  { topic: 'scans', partition: 0, offset: '12' },
  { topic: 'findings.image', partition: 2, offset: '40' },
];
const CREATED = new Date('2026-11-02T12:00:00.000Z');

function build(events: readonly EventEnvelope[], over: Partial<BuildSnapshotInput> = {}): Snapshot {
  return buildSnapshot({
    state: fold(events),
    scope: SCOPE,
    catalog: pciCatalog(),
    entityType: 'merchant',
    logPosition: POSITION,
    createdAt: CREATED,
    ...over,
  });
}

function req(s: Snapshot, id: string): RequirementResult {
  const r = s.report.requirements.find((x) => x.id === id);
  assert.ok(r, `requirement ${id} is in the snapshot`);
  return r;
}

const zlib = vuln({
  cve: 'CVE-2023-45853',
  pkg: 'zlib1g',
  installed: '1:1.2.13.dfsg-1',
  imageRef: APP,
  digest: DIGEST,
  severity: Severity.CRITICAL,
});
const openssl = vuln({
  cve: 'CVE-2024-0727',
  pkg: 'openssl',
  installed: '3.0.11-1~deb12u2',
  fixed: '3.0.13-1~deb12u1',
  imageRef: APP,
  digest: DIGEST,
  severity: Severity.MEDIUM,
});

describe('buildSnapshot: requirement status', () => {
  it('leaves every applicable requirement not_tested when every scanner is unavailable', () => {
    // given one completed scan per scanner, each reporting that its engine is not available
    const e = new Events();
    const events = [
      [ScannerKind.IMAGE, APP],
      [ScannerKind.CONFIG, 'live'],
      [ScannerKind.HOST, 'node-a'],
      [ScannerKind.RUNTIME, 'falco:/var/log/falco.json'],
    ].map(([scanner, key], i) =>
      e.completed({
        scanId: `scan-${i}`,
        scanner: scanner as ScannerKind,
        targetKey: key as string,
        minute: i + 1,
        findingIds: [],
        status: ScanStatus.UNAVAILABLE,
        error: 'engine not available in this build',
      }),
    );
    // when the snapshot is built for a merchant
    const s = build(events);
    // then nothing is in place or out of place; every applicable id is not_tested, the rest not_applicable
    const all = catalog().filter((r) => r.level === 'requirement' || r.level === 'sub-requirement');
    assert.equal(s.report.requirements.length, all.length);
    const applicable = new Set(assessable('merchant').map((r) => r.id));
    for (const r of s.report.requirements) {
      const want = applicable.has(r.id) ? RequirementStatus.NOT_TESTED : RequirementStatus.NOT_APPLICABLE;
      assert.equal(r.status, want, `${r.id}: ${r.reason}`);
    }
    assert.deepEqual(
      {
        inPlace: s.report.summary?.inPlace,
        notInPlace: s.report.summary?.notInPlace,
        notTested: s.report.summary?.notTested,
        total: s.report.summary?.total,
      },
      { inPlace: 0, notInPlace: 0, notTested: applicable.size, total: all.length },
    );
    assert.equal(
      req(s, '6.3.1').reason,
      'No ok scan: every image or host scan failed or was unavailable, so nothing was checked',
    );
    assert.equal(
      req(s, '12.5.2').reason,
      'Manual: no scanner tests it; needs documents, records or interviews',
    );
  });

  it('says which scan is missing when no scan has run at all', () => {
    const s = build([]);
    assert.equal(req(s, '10.6.1').status, RequirementStatus.NOT_TESTED);
    assert.equal(req(s, '10.6.1').reason, 'No scan has produced evidence (needs a completed host scan)');
  });

  it('puts a requirement out of place through an open finding whose primary mapping names it', () => {
    const e = new Events();
    const s = build([
      e.reported('scan-1', zlib, 1),
      e.reported('scan-1', openssl, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [zlib.id, openssl.id],
      }),
    ]);
    for (const id of ['6.3.1', '11.3.1']) {
      const r = req(s, id);
      assert.equal(r.status, RequirementStatus.NOT_IN_PLACE, id);
      assert.deepEqual(r.findingIds, [zlib.id, openssl.id].sort());
      assert.equal(r.reason, '2 open findings (1 CRITICAL, 1 MEDIUM) test it directly');
    }
    assert.equal(s.report.findingCounts?.critical, 1);
    assert.equal(s.report.findingCounts?.medium, 1);
    assert.equal(s.report.findingCounts?.total, 2);
    assert.deepEqual(
      s.units.map((u) => `${u.id}@${u.version}`),
      ['dpkg-matcher@1'],
    );
  });

  it('never fails a requirement that a finding maps to only as secondary evidence', () => {
    // given a critical with a month-old fix: primary 6.3.3, secondary 11.3.1 and 6.3.1 (the reference mapping)
    const e = new Events();
    const stale = vuln({
      cve: 'CVE-2024-2511',
      pkg: 'libssl3',
      installed: '3.0.11-1~deb12u2',
      fixed: '3.0.13-1~deb12u1',
      imageRef: APP,
      digest: DIGEST,
      severity: Severity.CRITICAL,
      pci: ['6.3.3', '11.3.1', '6.3.1'],
    });
    const cat = pciCatalog({
      mappingKeyOf: (f) => (f.id === stale.id ? 'image.unpatched_critical_over_30_days' : undefined),
    });
    const events = [
      e.reported('scan-1', stale, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [stale.id],
      }),
    ];
    // with the finding type given, and inferred from the ids the finding lists
    for (const s of [build(events, { catalog: cat }), build(events)]) {
      assert.equal(req(s, '6.3.3').status, RequirementStatus.NOT_IN_PLACE);
      assert.deepEqual(req(s, '6.3.3').findingIds, [stale.id]);
      for (const id of ['11.3.1', '6.3.1']) {
        assert.equal(req(s, id).status, RequirementStatus.NOT_TESTED, id);
        assert.deepEqual(req(s, id).findingIds, []);
        // Its reason says the finding was weighed, not that nothing names it.
        assert.match(
          req(s, id).reason,
          /; 1 open finding names it as supporting evidence only, which does not decide its status$/,
          id,
        );
      }
      assert.doesNotMatch(req(s, '6.3.3').reason, /supporting evidence/);
    }
  });

  it('marks service-provider-only requirements not_applicable for a merchant and assesses them for a provider', () => {
    const e = new Events();
    const events = [
      e.completed({
        scanId: 'rt-1',
        scanner: ScannerKind.RUNTIME,
        targetKey: 'falco:/var/log/falco.json',
        minute: 2,
        findingIds: [],
      }),
    ];
    const merchant = build(events, { entityType: 'merchant' });
    const provider = build(events, { entityType: 'service_provider' });
    assert.equal(req(merchant, '10.7.1').status, RequirementStatus.NOT_APPLICABLE);
    assert.equal(
      req(merchant, '10.7.1').reason,
      'Applies to service providers only; this deployment is assessed as a merchant',
    );
    assert.equal(req(provider, '10.7.1').status, RequirementStatus.NOT_TESTED);
    assert.match(req(provider, '10.7.1').reason, /^Partial automated coverage: runtime evidence supports it/);
    // multi-tenant ids stay not_applicable for a provider that does not host several customers
    assert.equal(req(provider, 'A1.1.1').status, RequirementStatus.NOT_APPLICABLE);
    assert.equal(
      req(merchant, 'A1.1.1').reason,
      'Applies to multi-tenant service providers only; this deployment is assessed as a merchant',
    );
    assert.equal(merchant.report.summary?.notApplicable, 280 - assessable('merchant').length);
    assert.equal(provider.report.summary?.notApplicable, 280 - assessable('service_provider').length);
  });

  it('puts a strongly covered requirement in place only when a passing check covers every in-scope asset', () => {
    const e = new Events();
    const nodes = (names: string[]) =>
      e.inventory(
        names.map((name) => ({
          item: { case: 'node' as const, value: { name, osImage: 'Debian GNU/Linux 12 (bookworm)' } },
        })),
        0,
      );
    const hostScan = (scanId: string, node: string, minute: number) =>
      e.completed({
        scanId,
        scanner: ScannerKind.HOST,
        targetKey: node,
        minute,
        findingIds: [],
        units: [{ id: 'node-time-sync', version: 2 }],
        assets: [{ kind: AssetKind.NODE, cluster: 'prod', node, name: node }],
        passing: [
          {
            checkId: 'node-time-sync',
            asset: { kind: AssetKind.NODE, cluster: 'prod', node },
            field: 'systemd-timesyncd',
            expected: 'active',
            actual: 'active',
            pciRequirements: ['10.6.1'],
          },
        ],
      });
    // one node scanned, one not: coverage is incomplete
    const partial = build([nodes(['node-a', 'node-b']), hostScan('host-a', 'node-a', 2)]);
    assert.equal(req(partial, '10.6.1').status, RequirementStatus.NOT_TESTED);
    assert.equal(
      req(partial, '10.6.1').reason,
      '1 of 2 in-scope nodes have no ok host assessor scan (node-b)',
    );
    // no inventory: the builder cannot know the scan covered everything
    const blind = build([hostScan('host-a', 'node-a', 2)]);
    assert.equal(
      req(blind, '10.6.1').reason,
      'No inventory of in-scope nodes has been observed, so full host assessor coverage cannot be shown',
    );
    // every node scanned and passing
    const full = build([
      nodes(['node-a', 'node-b']),
      hostScan('host-a', 'node-a', 2),
      hostScan('host-b', 'node-b', 3),
    ]);
    const r = req(full, '10.6.1');
    assert.equal(r.status, RequirementStatus.IN_PLACE, r.reason);
    assert.equal(r.reason, 'Passing host checks over every in-scope asset');
    assert.deepEqual(
      r.evidence.map((x) => `${x.key}=${x.value}`),
      [
        'scan=host-a node-a completed 2026-11-02T09:02:00.000Z',
        'unit=node-time-sync@2',
        'scan=host-b node-b completed 2026-11-02T09:03:00.000Z',
        'assets=2 in-scope nodes, all scanned',
        'pass=node-time-sync on node node-a: systemd-timesyncd expected active, actual active (scan host-a)',
        'pass=node-time-sync on node node-b: systemd-timesyncd expected active, actual active (scan host-b)',
      ],
    );
    // a stale scan interval turns it back to not_tested
    const strict = build(
      [
        nodes(['node-a', 'node-b']),
        hostScan('host-a', 'node-a', 2),
        hostScan('host-b', 'node-b', 3),
        e.inventory([], 60 * 24 * 10),
      ],
      {
        options: { maxScanAgeMs: 7 * 24 * 3600 * 1000 },
      },
    );
    assert.equal(req(strict, '10.6.1').reason, '2 host assessor scans are older than the scan interval');
  });

  it('stops failing a requirement for a finding covered by an active acceptance, until it expires or is revoked', () => {
    const e = new Events();
    const base = [
      e.reported('scan-1', zlib, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [zlib.id],
      }),
    ];
    const accept = e.exception(
      {
        id: 'exc-zlib',
        selector: { ruleIds: ['CVE-2023-45853'], imageRepository: 'registry.example.com/payments/api' },
        expiresMinute: 60,
      },
      5,
    );
    const accepted = build([...base, accept]);
    assert.equal(req(accepted, '6.3.1').status, RequirementStatus.NOT_TESTED);
    assert.deepEqual(req(accepted, '6.3.1').exceptedFindingIds, [zlib.id]);
    assert.deepEqual(req(accepted, '6.3.1').exceptionIds, ['exc-zlib']);
    assert.equal(accepted.report.findingCounts?.total, 1, 'an accepted finding stays visible');

    const expired = build([...base, accept, e.inventory([], 61)]);
    assert.equal(req(expired, '6.3.1').status, RequirementStatus.NOT_IN_PLACE);
    assert.equal(expired.exceptions[0]?.standing, 'expired');

    const revoked = build([...base, accept, e.revoked('exc-zlib', 10)]);
    assert.equal(req(revoked, '6.3.1').status, RequirementStatus.NOT_IN_PLACE);

    const other = build([
      ...base,
      e.exception({ id: 'exc-other', selector: { ruleIds: ['CVE-2024-0727'] }, expiresMinute: 60 }, 5),
    ]);
    assert.equal(
      req(other, '6.3.1').status,
      RequirementStatus.NOT_IN_PLACE,
      'an acceptance of another rule covers nothing',
    );

    // expire-on-fix: the acceptance lapses once a later scan no longer lists the finding, and stays lapsed when it
    // comes back
    const onFix = e.exception(
      { id: 'exc-fix', selector: { findingIds: [zlib.id] }, expiresMinute: 600, expireOnFix: true },
      5,
    );
    const fixed = [
      e.completed({
        scanId: 'scan-2',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 20,
        findingIds: [],
      }),
    ];
    const regressed = [
      e.reported('scan-3', zlib, 30),
      e.completed({
        scanId: 'scan-3',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 31,
        findingIds: [zlib.id],
      }),
    ];
    assert.equal(build([...base, onFix]).exceptions[0]?.standing, 'active');
    assert.equal(build([...base, onFix, ...fixed]).exceptions[0]?.standing, 'lapsed_on_fix');
    const back = build([...base, onFix, ...fixed, ...regressed]);
    assert.equal(back.exceptions[0]?.standing, 'lapsed_on_fix');
    assert.equal(
      req(back, '6.3.1').status,
      RequirementStatus.NOT_IN_PLACE,
      'a regression is not silently covered',
    );

    const limited = build([
      ...base,
      e.exception(
        { id: 'exc-6.3.1', selector: { findingIds: [zlib.id] }, expiresMinute: 60, pci: ['6.3.1'] },
        5,
      ),
    ]);
    assert.equal(req(limited, '6.3.1').status, RequirementStatus.NOT_TESTED);
    assert.equal(
      req(limited, '11.3.1').status,
      RequirementStatus.NOT_IN_PLACE,
      'limited to the requirement it names',
    );
  });
});

describe('buildSnapshot: canonical content and hash', () => {
  function scenario(): EventEnvelope[] {
    const e = new Events();
    const priv = misconfig({
      check: 'k8s-privileged-container',
      namespace: 'payments',
      workload: 'api',
      field: 'spec.template.spec.containers[0].securityContext.privileged',
      severity: Severity.HIGH,
      pci: ['2.2.5'],
    });
    return [
      e.started('scan-img', ScannerKind.IMAGE, APP, 0),
      e.inventory(
        [
          { item: { case: 'node', value: { name: 'node-a' } } },
          { item: { case: 'image', value: { ref: APP, digest: DIGEST } } },
        ],
        0,
      ),
      e.reported('scan-img', zlib, 1),
      e.started('scan-k8s', ScannerKind.CONFIG, 'live', 1),
      e.reported('scan-img', openssl, 1),
      e.reported('scan-k8s', priv, 2),
      e.completed({
        scanId: 'scan-img',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        digest: DIGEST,
        minute: 3,
        findingIds: [zlib.id, openssl.id],
        units: [
          { id: 'dpkg-analyzer', version: 1 },
          { id: 'dpkg-matcher', version: 1 },
        ],
      }),
      e.completed({
        scanId: 'scan-k8s',
        scanner: ScannerKind.CONFIG,
        targetKey: 'live',
        minute: 4,
        findingIds: [priv.id],
        units: [{ id: 'k8s-privileged-container', version: 1 }],
      }),
      e.exception({ id: 'exc-1', selector: { findingIds: [openssl.id] }, expiresMinute: 600 }, 5),
    ];
  }

  // Merges the per-subject streams in a pseudo-random order: what a consumer of several partitions may see.
  function interleave(events: readonly EventEnvelope[], seed: number): EventEnvelope[] {
    const streams = new Map<string, EventEnvelope[]>();
    for (const ev of events) {
      const q = streams.get(ev.subjectKey) ?? [];
      q.push(ev);
      streams.set(ev.subjectKey, q);
    }
    let x = seed;
    const next = () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x;
    };
    const queues = [...streams.values()];
    const out: EventEnvelope[] = [];
    while (queues.some((q) => q.length > 0)) {
      const live = queues.filter((q) => q.length > 0);
      const q = live[next() % live.length] as EventEnvelope[];
      out.push(q.shift() as EventEnvelope);
    }
    return out;
  }

  it('gives byte-identical content and the same hash for the same events in any per-key order, with duplicates', () => {
    const events = scenario();
    const reference = build(events);
    const orders = [1, 7, 42, 1234].map((seed) => interleave(events, seed));
    assert.ok(
      orders.some((o) => o.map((x) => x.eventId).join() !== events.map((x) => x.eventId).join()),
      'some interleaving differs',
    );
    for (const order of orders) {
      // at-least-once delivery: a few events come again later
      const redelivered = [
        ...order,
        order[2] as EventEnvelope,
        order[0] as EventEnvelope,
        order[order.length - 1] as EventEnvelope,
      ];
      const s = build(redelivered, { createdAt: new Date('2027-01-01T00:00:00Z') });
      assert.deepEqual(Buffer.from(s.content), Buffer.from(reference.content));
      assert.equal(s.contentHash, reference.contentHash);
    }
    assert.match(reference.contentHash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(
      contentHashOf(reference.report),
      reference.contentHash,
      'a verifier recomputes it from the report',
    );
  });

  it('builds from a long-lived accumulator exactly what a fresh fold of the same events builds', () => {
    // given a state that was already snapshotted, then folded further (the reporting service's way)
    const events = scenario();
    const e = new Events('prod', 2000);
    const rerated = vuln({
      cve: 'CVE-2024-0727',
      pkg: 'openssl',
      installed: '3.0.11-1~deb12u2',
      fixed: '3.0.13-1~deb12u1',
      imageRef: APP,
      digest: DIGEST,
      severity: Severity.HIGH,
    });
    const later = [
      e.reported('scan-img-2', rerated, 40),
      e.completed({
        scanId: 'scan-img-2',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        digest: DIGEST,
        minute: 41,
        findingIds: [rerated.id],
      }),
    ];
    const live = fold(events);
    const base = {
      scope: SCOPE,
      catalog: pciCatalog(),
      entityType: 'merchant' as const,
      logPosition: POSITION,
      createdAt: CREATED,
    };
    const first = buildSnapshot({ ...base, state: live });
    let state = live;
    for (const ev of later) state = fold([ev], state);
    const again = buildSnapshot({ ...base, state });
    // then the second build matches a fresh fold, and differs from the first
    const fresh = buildSnapshot({ ...base, state: fold([...events, ...later]) });
    assert.equal(again.contentHash, fresh.contentHash);
    assert.deepEqual(Buffer.from(again.content), Buffer.from(fresh.content));
    assert.notEqual(again.contentHash, first.contentHash);
    assert.equal(again.report.findings.find((f) => f.id === rerated.id)?.severity, Severity.HIGH);
    assert.equal(
      again.report.findings.some((f) => f.id === zlib.id),
      false,
      'zlib resolved by the second image scan',
    );
  });

  it('changes the hash when the content changes', () => {
    const events = scenario();
    const e = new Events('prod', 1000);
    const extra = vuln({
      cve: 'CVE-2024-28182',
      pkg: 'libnghttp2-14',
      installed: '1.52.0-1',
      fixed: '1.52.0-1+deb12u1',
      imageRef: APP,
      digest: DIGEST,
      severity: Severity.MEDIUM,
    });
    const more = build([...events, e.reported('scan-late', extra, 30)]);
    assert.notEqual(more.contentHash, build(events).contentHash);
  });

  it('orders findings by asset key, then id, and records the order; by id on request, as versions before it', () => {
    // Six images of three findings each: in id order (ids are hashes) the images interleave.
    const e = new Events('prod', 2000);
    const events: EventEnvelope[] = [];
    for (let i = 0; i < 6; i++) {
      const ref = `registry.example.com/payments/svc-${i}:1.0`;
      const found = ['CVE-2024-0727', 'CVE-2023-45853', 'CVE-2024-28182'].map((cve, j) =>
        vuln({ cve, pkg: `pkg-${j}`, installed: '1.0', imageRef: ref, digest: '', severity: Severity.HIGH }),
      );
      events.push(e.started(`scan-${i}`, ScannerKind.IMAGE, ref, i));
      for (const f of found) events.push(e.reported(`scan-${i}`, f, i));
    }
    const byAsset = build(events);
    const refs = byAsset.report.findings.map((f) => f.asset!.imageRef);
    assert.deepEqual(refs, [...refs].sort());
    for (let i = 0; i + 1 < refs.length; i++)
      if (refs[i] === refs[i + 1])
        assert.ok(
          byAsset.report.findings[i]!.id < byAsset.report.findings[i + 1]!.id,
          'by id within an asset',
        );
    assert.equal(byAsset.report.findingOrder, 'asset');
    assert.match(Buffer.from(byAsset.content).toString('utf8'), /"findingOrder":"asset"/);

    const byId = build(events, { findingOrder: 'id' });
    const ids = byId.report.findings.map((f) => f.id);
    assert.deepEqual(ids, [...ids].sort());
    assert.notDeepEqual(
      byId.report.findings.map((f) => f.asset!.imageRef),
      refs,
      'the orders differ',
    );
    // No findingOrder in the content: the bytes a build before the asset order made for the same events.
    assert.doesNotMatch(Buffer.from(byId.content).toString('utf8'), /findingOrder/);
    assert.deepEqual([...ids].sort(), [...byAsset.report.findings.map((f) => f.id)].sort());
    // Each hash is recomputed from its own report, whatever its order.
    assert.equal(contentHashOf(byAsset.report), byAsset.contentHash);
    assert.equal(contentHashOf(byId.report), byId.contentHash);
    assert.notEqual(byId.contentHash, byAsset.contentHash);
  });

  it('numbers versions and chains each to the previous hash', () => {
    const events = scenario();
    const v1 = build(events);
    assert.equal(v1.version, 1);
    assert.equal(v1.previousHash, '');
    const v2 = build(events, { previous: v1 });
    assert.equal(v2.version, 2);
    assert.equal(v2.previousHash, v1.contentHash);
    assert.equal(v2.report.previousHash, v1.contentHash);
    assert.notEqual(v2.contentHash, v1.contentHash, 'version and previous hash are part of the content');
    assert.deepEqual(
      v2.report.logPosition.map((p) => `${p.topic}/${p.partition}@${p.offset}`),
      ['findings.image/2@40', 'scans/0@12'],
    );
    assert.equal(v2.report.frameworkVersion, '4.0.1');
    assert.equal(
      v2.report.generatedAt?.seconds,
      BigInt(Date.parse('2026-11-02T09:05:00Z') / 1000),
      'as of the last event, not the clock',
    );
  });

  it('rejects bad inputs naming them', () => {
    const events = scenario();
    assert.throws(
      () => build(events, { previous: { version: 0, contentHash: 'sha256:' + '0'.repeat(64) } }),
      /previous\.version 0 is not a snapshot version/,
    );
    assert.throws(
      () => build(events, { previous: { version: 1, contentHash: 'abc' } }),
      /previous\.contentHash "abc" is not "sha256:<64 hex>"/,
    );
    assert.throws(
      () =>
        build(events, {
          previous: { version: 1, contentHash: 'sha256:' + '0'.repeat(64), scope: { cluster: 'stage' } },
        }),
      /belongs to scope "stage", not "prod"/,
    );
    assert.throws(
      () => build(events, { logPosition: [{ topic: 'scans', partition: 0, offset: '-1' }] }),
      /logPosition scans\/0 has offset "-1"/,
    );
    assert.throws(
      () =>
        build(events, {
          logPosition: [
            { topic: 'scans', partition: 0, offset: '1' },
            { topic: 'scans', partition: 0, offset: '2' },
          ],
        }),
      /names scans\/0 twice/,
    );
  });

  it('lists only the requirements of the catalog it is given, in its order', () => {
    const s = build(scenario(), { catalog: subsetCatalog(['2.2.5', '6.3.1', '6.3.3', '12.5.2']) });
    assert.deepEqual(
      s.report.requirements.map((r) => `${r.id}:${RequirementStatus[r.status]}`),
      ['2.2.5:NOT_IN_PLACE', '6.3.1:NOT_IN_PLACE', '6.3.3:NOT_TESTED', '12.5.2:NOT_TESTED'],
    );
  });
});
