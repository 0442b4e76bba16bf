// The correlator service's fold-and-publish loop over real producer output for examples/payments: the config audit
// of the manifests and the example image's root filesystem scanned with the example advisories.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  type EventEnvelope,
  type Finding,
  type InventoryItem,
  ScanStatus,
  ScannerKind,
  TOPICS,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  timestampFromDate,
  topicFor,
} from '@vigil/contracts';
import { auditManifests } from '@vigil/config-audit';
import { MemoryAdvisoryStore, ROOTFS_SKIP, readDirectory, scanFiles } from '@vigil/image-scan';
import { type ConsumedRecord, type LogRecord } from '@vigil/event-log';
import { createLogger } from '@vigil/telemetry';
import { repoRoot } from '@vigil/testing';
import { CORRELATOR_SCANNER, CORRELATOR_TOPICS, CorrelationRunner } from './index.js';

const CLUSTER = 'payments-prod';
const EXAMPLE = join(repoRoot(), 'examples/payments');
const IMAGE_REF = 'registry.example.com/acme/payment-api:1.4.2';

function scanEvents(
  scanId: string,
  scanner: ScannerKind,
  targetKey: string,
  at: string,
  findings: Finding[],
  inventory: InventoryItem[],
): EventEnvelope[] {
  let n = 0;
  const base = {
    scope: { cluster: CLUSTER },
    producer: { service: 'spec' },
    clock: () => new Date(at),
    newId: () => `${scanId}-${++n}`,
  };
  return [
    ...findings.map((finding) =>
      newEnvelope({
        ...base,
        subjectKey: finding.id,
        payload: { case: 'findingReported', value: { scanId, finding } },
      }),
    ),
    newEnvelope({
      ...base,
      subjectKey: targetKey,
      payload: {
        case: 'inventoryObserved',
        value: { scanId, scope: { cluster: CLUSTER }, items: inventory },
      },
    }),
    newEnvelope({
      ...base,
      subjectKey: scanId,
      payload: {
        case: 'scanCompleted',
        value: {
          scanId,
          scanner,
          scope: { cluster: CLUSTER },
          targetKey,
          status: ScanStatus.OK,
          findingIds: findings.map((f) => f.id),
        },
      },
    }),
  ];
}

let events: EventEnvelope[] = [];
let configFindings: Finding[] = [];

before(async () => {
  const audit = await auditManifests({
    paths: [join(EXAMPLE, 'k8s')],
    cluster: CLUSTER,
    clock: () => new Date('2026-11-20T10:00:00Z'),
  });
  configFindings = audit.findings;
  const store = new MemoryAdvisoryStore(() => new Date('2026-11-01T00:00:00Z'));
  await store.loadDump(join(EXAMPLE, 'advisories'));
  const dir = await readDirectory(join(EXAMPLE, 'image/rootfs'), { skip: ROOTFS_SKIP });
  const digest = `sha256:${'a'.repeat(64)}`;
  const report = await scanFiles(
    dir.files,
    { name: 'rootfs', kind: 'rootfs', digest },
    {
      cluster: CLUSTER,
      advisories: store,
      reference: IMAGE_REF,
      clock: () => new Date('2026-11-20T10:05:00Z'),
    },
  );
  events = [
    ...scanEvents(
      'cfg-1',
      ScannerKind.CONFIG,
      'examples/payments/k8s',
      '2026-11-20T10:00:00Z',
      audit.findings,
      audit.inventory,
    ),
    ...scanEvents('img-1', ScannerKind.IMAGE, IMAGE_REF, '2026-11-20T10:05:00Z', report.findings, [
      {
        $typeName: 'vigil.v1.InventoryItem',
        item: {
          case: 'image',
          value: {
            $typeName: 'vigil.v1.Image',
            ref: IMAGE_REF,
            digest,
            os: 'linux',
            architecture: 'amd64',
            distro: '',
          },
        },
      },
    ]),
  ];
});

function records(list: EventEnvelope[]): ConsumedRecord[] {
  return list.map((e, i) => ({
    topic: topicFor(e),
    partition: 0,
    offset: String(i),
    key: e.subjectKey,
    value: encodeEnvelope(e),
    headers: {},
    timestamp: 0,
  }));
}

function runner(debounceMs = 20, at = '2026-11-20T15:00:00Z') {
  const published: LogRecord[][] = [];
  const r = new CorrelationRunner({
    publish: async (batch) => void published.push(batch),
    producer: { service: 'correlator', version: '0.1.0', instance: 'spec' },
    debounceMs,
    maxWaitMs: 10_000,
    clock: () => new Date(at),
    logger: createLogger('spec', { level: 'silent' }),
  });
  return { r, published };
}

const wait = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe('CorrelationRunner', () => {
  it('reads the findings, inventory and scans topics, never its own output', () => {
    assert.deepEqual([...CORRELATOR_TOPICS].sort(), [
      'findings.config',
      'findings.host',
      'findings.image',
      'findings.runtime',
      'inventory',
      'scans',
    ]);
  });

  it('publishes once after a burst, on findings.correlated, and the completion lists exactly what it published', async () => {
    const { r, published } = runner(30);
    for (const rec of records(events)) await r.handler([rec]);
    assert.equal(published.length, 0, 'nothing during the burst');
    await wait(120);
    assert.equal(published.length, 1, 'one publication for the whole burst');
    const batch = published[0]!;
    const findings = batch
      .filter((x) => x.topic === TOPICS.findings.correlated)
      .map((x) => decodeEnvelope(x.value));
    assert.ok(findings.length > 0);
    const libssl = findings.filter(
      (e) =>
        e.payload.case === 'findingReported' &&
        e.payload.value.finding?.ruleId === 'correlated/vulnerable-in-cde' &&
        e.payload.value.finding.package?.name === 'libssl3',
    );
    assert.equal(libssl.length, 1);
    const scans = batch.filter((x) => x.topic === TOPICS.scans).map((x) => decodeEnvelope(x.value));
    if (CORRELATOR_SCANNER === undefined) {
      assert.equal(scans.length, 0, 'no completion without a CORRELATOR scanner kind');
    } else {
      assert.equal(scans.length, 1);
      const done = scans[0]!.payload;
      assert.equal(done.case, 'scanCompleted');
      if (done.case === 'scanCompleted') {
        assert.equal(done.value.targetKey, 'correlation');
        assert.deepEqual(
          [...done.value.findingIds].sort(),
          findings
            .map((e) => (e.payload.case === 'findingReported' ? e.payload.value.finding!.id : ''))
            .sort(),
        );
      }
    }
    r.close();
  });

  it('publishes nothing more when nothing changed, and the same event ids for the same log in another order', async () => {
    const a = runner();
    await a.r.handler(records(events));
    await a.r.flush();
    assert.deepEqual(await a.r.flush(), { published: 0, resolved: 0, completions: 0 });
    const b = runner();
    await b.r.handler(records([...events].reverse()));
    await b.r.handler(records(events));
    await b.r.flush();
    const ids = (p: LogRecord[][]) =>
      p
        .flat()
        .map((x) => decodeEnvelope(x.value).eventId)
        .sort();
    assert.deepEqual(ids(b.published), ids(a.published));
    a.r.close();
    b.r.close();
  });

  it('a second process over the same log, its completion folded back in, publishes the same event ids', async () => {
    // One-shot commands each run a correlator that reads the log from the start, its predecessors' completions on
    // the scans topic included: those must not make the same correlation a new one.
    const first = runner();
    await first.r.handler(records(events));
    await first.r.flush();
    const own = first.published.flat();
    const back = own.filter((x) => CORRELATOR_TOPICS.includes(x.topic as (typeof CORRELATOR_TOPICS)[number]));
    assert.ok(back.length > 0, 'the completion comes back on a topic the correlator reads');
    const second = runner();
    await second.r.handler([
      ...records(events),
      ...back.map((x, i) => ({
        ...x,
        partition: 0,
        offset: String(events.length + i),
        headers: {},
        timestamp: 0,
      })),
    ]);
    await second.r.flush();
    const ids = (p: LogRecord[][]) =>
      p
        .flat()
        .map((x) => decodeEnvelope(x.value).eventId)
        .sort();
    assert.deepEqual(ids(second.published), ids(first.published));
    first.r.close();
    second.r.close();
  });

  it('dates each completion with its correlation: the reporting side orders correlations by time, not by scan id', async () => {
    // Two one-shot commands on one log: each process rebuilds and publishes a correlation of its own.
    const completion = async (at: string) => {
      const { r, published } = runner(20, at);
      await r.handler(records(events));
      await r.flush();
      r.close();
      const done = published
        .flat()
        .filter((x) => x.topic === TOPICS.scans)
        .map((x) => decodeEnvelope(x.value).payload);
      assert.equal(done.length, 1);
      assert.equal(done[0]!.case, 'scanCompleted');
      return done[0]!.case === 'scanCompleted' ? done[0]!.value : assert.fail('not a completion');
    };
    const first = await completion('2026-11-20T15:00:00Z');
    const second = await completion('2026-11-20T16:30:00.250Z');
    assert.deepEqual(first.startedAt, timestampFromDate(new Date('2026-11-20T15:00:00Z')));
    assert.deepEqual(first.completedAt, first.startedAt);
    assert.deepEqual(second.startedAt, timestampFromDate(new Date('2026-11-20T16:30:00.250Z')));
    assert.deepEqual(second.completedAt, second.startedAt);
  });

  it('republishes what the generated NetworkPolicy changed and drops the exfiltration paths it closed', async () => {
    const { r, published } = runner();
    await r.handler(records(events));
    await r.flush();
    const egress = configFindings.find(
      (f) => f.ruleId === 'net/no-egress-networkpolicy' && f.asset?.name === 'payment-api',
    )!;
    // The same manifests with the auditor's own NetworkPolicy applied, as a manifest next to the others.
    const file = join(mkdtempSync(join(tmpdir(), 'correlator-netpol-')), 'egress.json');
    writeFileSync(file, egress.remediation!.patch);
    const patched = await auditManifests({
      paths: [join(EXAMPLE, 'k8s'), file],
      cluster: CLUSTER,
      clock: () => new Date('2026-11-20T12:00:00Z'),
    });
    await r.handler(
      records(
        scanEvents(
          'cfg-2',
          ScannerKind.CONFIG,
          'examples/payments/k8s',
          '2026-11-20T12:00:00Z',
          patched.findings,
          patched.inventory,
        ),
      ),
    );
    const summary = await r.flush();
    assert.ok(summary.resolved > 0, 'exfiltration paths resolved');
    const second = published[1]!
      .filter((x) => x.topic === TOPICS.findings.correlated)
      .map((x) => decodeEnvelope(x.value));
    const rules = new Set(
      second.map((e) => (e.payload.case === 'findingReported' ? e.payload.value.finding!.ruleId : '')),
    );
    assert.ok(!rules.has('correlated/exfiltration-path'));
    assert.ok(rules.has('correlated/vulnerable-in-cde'), 'priority moved, so republished');
    r.close();
  });
});

describe('CorrelationRunner during the rebuild from the log', () => {
  it('a flush asked for mid-rebuild waits for the rebuild and publishes the whole graph once', async () => {
    const { r, published } = runner();
    r.pause();
    const half = Math.floor(events.length / 2);
    await r.handler(records(events.slice(0, half)));
    // A one-shot command flushes as soon as the other consumers are caught up, possibly mid-rebuild.
    const early = r.flush();
    await wait(50);
    assert.equal(published.length, 0, 'nothing is published from half a graph');
    await r.handler(records(events).slice(half));
    r.resume();
    const summary = await early;
    assert.equal(published.length, 1);
    // The same correlations as a runner that saw the whole log before flushing.
    const whole = runner();
    await whole.r.handler(records(events));
    const expected = await whole.r.flush();
    assert.equal(summary.published, expected.published);
    assert.ok(summary.published > 0);
    r.close();
    whole.r.close();
  });
});
