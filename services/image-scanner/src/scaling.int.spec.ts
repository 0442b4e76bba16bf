// Horizontal scaling (issue 3's acceptance), all real: a Kafka broker (KAFKA_BROKERS, default 127.0.0.1:9092),
// Postgres (DATABASE_URL, else the local one) with a fresh database holding the example advisories, and two
// image-scanner processes (dist/main.js) in one consumer group of their own. Eight scan requests keyed so that
// they land on every partition of scan.requests.image; the first process to start a scan is SIGKILLed at once, in
// the middle of its work, and the survivor takes over its partitions once the broker notices the dead member.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ScanStatus,
  ScannerKind,
  TOPICS,
  TOPIC_PARTITIONS,
  TargetKind,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  topicFor,
} from '@vigil/contracts';
import { createKafkaEventLog, partitionForKey } from '@vigil/event-log';
import { importOsvDump } from '@vigil/image-scan';
import { createAdvisoryStore, createSql, runMigrations } from '@vigil/store';
import { freshDatabase, repoRoot, writeTestImage, type FreshDatabase } from '@vigil/testing';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const ADMIN_URL = process.env['DATABASE_URL'] || 'postgresql://postgres@127.0.0.1:5432/postgres';
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const EXAMPLE = join(repoRoot(), 'examples/payments');
const ROOTFS = join(EXAMPLE, 'image/rootfs');
const REQUEST_TOPIC = TOPICS.scanRequests.image;
const PARTITIONS = TOPIC_PARTITIONS[REQUEST_TOPIC]!;
const REQUESTS = 8;

interface Scanner {
  name: string;
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<unknown>;
}

interface Target {
  scanId: string;
  key: string;
  partition: number;
  archive: string;
}

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: () => string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let db: FreshDatabase;
const tmp = mkdtempSync(join(tmpdir(), 'vigil-image-scaling-'));
const targets: Target[] = [];
const groupPrefix = `test-${randomUUID()}.`;

// Tags of the example image whose keys reach every partition, then a few more: both members get work.
function pickKeys(): { key: string; partition: number }[] {
  const picked: { key: string; partition: number }[] = [];
  const covered = new Set<number>();
  for (let i = 0; picked.length < REQUESTS; i++) {
    const key = `registry.example.com/acme/payment-api:1.4.2-r${i}`;
    const partition = partitionForKey(key, PARTITIONS);
    if (covered.size < PARTITIONS && covered.has(partition)) continue;
    covered.add(partition);
    picked.push({ key, partition });
  }
  return picked;
}

before(async () => {
  db = await freshDatabase(ADMIN_URL, 'vigil_image_scaling');
  await runMigrations(db.url);
  const sql = createSql(db.url, { max: 1 });
  try {
    const imported = await importOsvDump(join(EXAMPLE, 'advisories'), createAdvisoryStore(sql), { source: 'examples' });
    assert.ok(imported.records > 0 && imported.invalid === 0, JSON.stringify(imported));
  } finally {
    await sql.close();
  }
  const file = (path: string) => ({ path, content: readFileSync(join(ROOTFS, path)) });
  for (const { key, partition } of pickKeys()) {
    const archive = join(tmp, `${targets.length}.tar`);
    await writeTestImage(archive, {
      format: 'docker-archive',
      repoTag: key,
      layers: [
        { files: ['etc/os-release', 'etc/debian_version', 'etc/passwd', 'etc/group', 'var/lib/dpkg/status'].map(file) },
        { files: ['app/package.json', 'app/package-lock.json'].map(file) },
        // Incompressible bytes the reader has to inflate and hash: a scan lasts long enough to be cut in the middle.
        { files: [{ path: 'app/assets.bin', content: randomBytes(4 << 20) }], compression: 'gzip' },
      ],
    });
    targets.push({ scanId: `scale-${randomUUID()}`, key, partition, archive });
  }
});
after(async () => {
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

function startScanner(name: string): Scanner {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: BROKERS.join(','),
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      SERVICE_INSTANCE_ID: name,
      // One group for both, and only theirs: other runs on a shared broker have image-scanner members of their own.
      CONSUMER_GROUP_PREFIX: groupPrefix,
      // The inventory loop has its own spec; on a shared broker it would re-request every image ever inventoried.
      IMAGE_SCANNER_INVENTORY_SCANS: 'false',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  return { name, child, lines, exited: once(child, 'exit') };
}

/** The partitions of the request topic a scanner holds after its latest group join, if it has joined. */
function assignment(s: Scanner): number[] | undefined {
  const joined = s.lines.filter((l) => /^consumer group ".*vigil\.image-scanner" joined$/.test(String(l['msg'])));
  const last = joined.at(-1)?.['assignment'] as Record<string, number[]> | undefined;
  return last ? [...(last[REQUEST_TOPIC] ?? [])].sort((a, b) => a - b) : undefined;
}

test('two image-scanners share the request partitions; when one is killed mid-scan the other finishes every scan', async () => {
  const a = startScanner(`scale-a-${process.pid}`);
  const b = startScanner(`scale-b-${process.pid}`);
  const scanners = [a, b];
  const log = createKafkaEventLog({
    brokers: BROKERS,
    clientId: 'image-scanner-scaling-spec',
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  let victim: Scanner | undefined;
  try {
    // Both members in the group, the partitions split between them (each join after a rebalance is logged anew).
    const split = await waitFor(
      () => {
        const [pa, pb] = [assignment(a), assignment(b)];
        if (!pa?.length || !pb?.length) return undefined;
        const all = [...pa, ...pb].sort((x, y) => x - y);
        return all.length === PARTITIONS && all.every((p, i) => p === i) ? { a: pa, b: pb } : undefined;
      },
      90_000,
      () => `both scanners to hold a share of ${REQUEST_TOPIC}: a ${JSON.stringify(assignment(a))}, b ${JSON.stringify(assignment(b))}`,
    );
    console.log(`partitions: ${a.name} ${split.a.join(',')}; ${b.name} ${split.b.join(',')}`);

    const ids = new Set(targets.map((t) => t.scanId));
    const completions: { scanId: string; instance: string; findingIds: string[]; status: ScanStatus; error: string }[] = [];
    const reported = new Map<string, Set<string>>();
    const sub = await log.subscribe({
      group: `test.image-scanner.scaling.${randomUUID()}`,
      topics: [TOPICS.scans, TOPICS.findings.image],
      start: 'earliest',
      handler: async (records) => {
        for (const record of records) {
          const envelope = decodeEnvelope(record.value);
          const p = envelope.payload;
          if (p.case === 'scanCompleted' && ids.has(p.value.scanId))
            completions.push({
              scanId: p.value.scanId,
              instance: envelope.producer?.instance ?? '',
              findingIds: [...p.value.findingIds],
              status: p.value.status,
              error: p.value.error,
            });
          if (p.case === 'findingReported' && ids.has(p.value.scanId)) {
            const set = reported.get(p.value.scanId) ?? new Set<string>();
            set.add(p.value.finding!.id);
            reported.set(p.value.scanId, set);
          }
        }
      },
    });
    await sub.ready;

    // Killed the moment it logs a scan start: the stdout reader runs next to the publish, so no scan can slip by.
    let killedDuring: string | undefined;
    const watch = setInterval(() => {
      if (victim) return;
      for (const s of scanners) {
        const started = s.lines.find((l) => ids.has(String(l['scanId'])) && / started /.test(String(l['msg'])));
        if (!started) continue;
        s.child.kill('SIGKILL');
        victim = s;
        killedDuring = String(started['scanId']);
        return;
      }
    }, 2);
    const requests = targets.map((t) => {
      const env = newEnvelope({
        payload: {
          case: 'scanRequested',
          value: {
            scanId: t.scanId,
            scanner: ScannerKind.IMAGE,
            scope: { cluster: 'scaling-spec' },
            target: { kind: TargetKind.IMAGE, key: t.key, ref: { case: 'image', value: { archivePath: t.archive } } },
            requestedBy: 'scaling.int.spec',
          },
        },
        scope: { cluster: 'scaling-spec' },
        subjectKey: t.key,
        producer: { service: 'scaling-spec', version: '0', instance: String(process.pid) },
      });
      return { topic: topicFor(env), key: env.subjectKey, value: encodeEnvelope(env) };
    });
    await log.publish(requests);

    try {
      await waitFor(() => victim, 30_000, () => 'a scanner to log a scan start');
      await victim!.exited;
      const survivor = scanners.find((s) => s !== victim)!;
      const victimPartitions = victim === a ? split.a : split.b;
      console.log(`killed ${victim!.name} (partitions ${victimPartitions.join(',')}) while it scanned ${killedDuring}`);

      // The broker drops the dead member after its session timeout (30 s), then the survivor gets its partitions.
      const byScan = () => new Map(completions.map((c) => [c.scanId, c]));
      await waitFor(
        () => (byScan().size === ids.size ? true : undefined),
        150_000,
        () => `a ScanCompleted for each of ${ids.size} scans; have ${byScan().size}`,
      );

      for (const t of targets) {
        const done = completions.filter((c) => c.scanId === t.scanId);
        console.log(
          `${t.scanId} (${t.key}, partition ${t.partition}): completed by ${done.map((d) => d.instance).join(' and ')}`,
        );
        for (const d of done) {
          assert.equal(d.status, ScanStatus.OK, `${t.scanId} by ${d.instance}: ${d.error}`);
          assert.ok(d.findingIds.length > 0, `${t.scanId}: the example packages match the example advisories`);
          assert.ok(
            d.instance === survivor.name || d.instance === victim!.name,
            `${t.scanId} completed by ${d.instance}`,
          );
        }
        // A scan the victim completed and the survivor repeated after taking the partition reports the same ids.
        assert.equal(new Set(done.map((d) => JSON.stringify(d.findingIds))).size, 1);
      }
      // The takeover: the victim's partitions held at least two of the requests (every partition holds one, and
      // it was killed at its first start), so the survivor completed some of them.
      const takenOver = targets.filter(
        (t) =>
          victimPartitions.includes(t.partition) &&
          completions.some((c) => c.scanId === t.scanId && c.instance === survivor.name),
      );
      assert.ok(takenOver.length >= 1, `${survivor.name} completed none of ${victim!.name}'s scans`);
      // Killed between its start and its completion: the victim never completed it, the survivor redid it.
      assert.ok(
        !completions.some((c) => c.scanId === killedDuring && c.instance === victim!.name),
        `${victim!.name} finished ${killedDuring} before the kill landed: the kill was not mid-scan`,
      );
      assert.ok(completions.some((c) => c.scanId === killedDuring && c.instance === survivor.name));

      // Per scan, the findings reported equal the completion's finding ids. Redelivery republishes the same events
      // (same derived event ids) and the victim may have reported some findings before it died, so the topic can
      // hold duplicates: sets are compared, not lists. Findings travel on other partitions than the completion,
      // so wait for the last of them.
      const expected = new Map(targets.map((t) => [t.scanId, new Set(byScan().get(t.scanId)!.findingIds)]));
      const missing = () =>
        targets.filter((t) => [...expected.get(t.scanId)!].some((id) => !reported.get(t.scanId)?.has(id)));
      await waitFor(
        () => (missing().length === 0 ? true : undefined),
        30_000,
        () => `the findings of ${missing().map((t) => t.scanId).join(', ')}`,
      );
      await sub.stop();
      for (const t of targets)
        assert.deepEqual(
          [...(reported.get(t.scanId) ?? [])].sort(),
          [...expected.get(t.scanId)!].sort(),
          `${t.scanId}: FindingReported ids = ScanCompleted finding ids`,
        );
    } finally {
      clearInterval(watch);
    }
  } finally {
    for (const s of scanners) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
    await Promise.all(scanners.map((s) => s.exited));
    await log.close();
  }
});
