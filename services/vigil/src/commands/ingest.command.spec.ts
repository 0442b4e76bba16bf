// Real: the command, the runtime-ingest engine behind the kit's scan-request handler, the reporting fold and its
// resolution, corpus files. Fake: the log (in memory, delivering scan requests to the handler) and the reporting
// store (the handler's completion; the stored events; a row for each finding the fold ever held open, as the
// projection writes them) — the embedded deployment itself is covered by the e2e tier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FindingSchema,
  TOPICS,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  toBinary,
  type EventEnvelope,
  type FindingReported,
} from '@vigil/contracts';
import type { EventLog, LogRecord } from '@vigil/event-log';
import { createScanRequestHandler } from '@vigil/nest-kit';
import { fold, resolveFindings, scopeStateOf } from '@vigil/report';
import { detectionClosed } from '@vigil/runtime-rules';
import { RUNTIME_INGEST_GROUP, runtimeIngestEngine } from '@vigil/runtime-ingest';
import { setLogLevel } from '@vigil/telemetry';
import { corpusPath } from '@vigil/testing';
import type { Output } from '../output.js';
import { UsageError } from '../usage-error.js';
import { ingestArgs, ingestCommand, type IngestCommandInput } from './ingest.command.js';

setLogLevel('silent');

interface Harness {
  input: Omit<IngestCommandInput, 'args' | 'format'>;
  results: string[];
  warnings: string[];
  sourcesRead: string[];
}

const FALCO_INTRUSION = corpusPath(
  'runtime',
  'falco-alerts',
  'constructed-payments-pod-intrusion',
  'alerts.jsonl',
);
const TETRAGON_LIFECYCLE = corpusPath(
  'runtime',
  'tetragon',
  'lifecycle-secret-read-and-reverse-shell',
  'events.jsonl',
);

/** `lose`: findings whose events never reach the store, as if the projection had dropped them. */
function harness(options: { lose?: (findingId: string) => boolean } = {}): Harness {
  const scans = new Map<string, Uint8Array>();
  const rows = new Map<string, Uint8Array>();
  const stored: { topic: string; payload: Uint8Array; envelope: EventEnvelope }[] = [];
  const sourcesRead: string[] = [];
  const pending: Promise<void>[] = [];
  const log = {
    async publish(records: LogRecord[]) {
      for (const r of records) {
        const env = decodeEnvelope(r.value);
        if (r.topic === TOPICS.scanRequests.runtime) {
          const req = env.payload.value as { target?: { ref: { value: { source: string } } } };
          sourcesRead.push(req.target?.ref.value.source ?? '');
          pending.push(handler([{ ...r, partition: 0, offset: '0', headers: {}, timestamp: 0 }]));
          continue;
        }
        if (env.payload.case === 'scanCompleted') scans.set(env.payload.value.scanId, r.value);
        if (env.payload.case === 'findingReported') {
          const f = (env.payload.value as FindingReported).finding!;
          if (options.lose?.(f.id)) continue;
        }
        stored.push({ topic: r.topic, payload: r.value, envelope: env });
      }
    },
  } as unknown as EventLog;
  // The projection: a row for every finding the fold holds open after a batch; rows stay once written.
  const project = () => {
    const scope = scopeStateOf(fold(stored.map((e) => e.envelope)), { cluster: 'default' });
    if (!scope) return;
    for (const o of resolveFindings(scope).open) rows.set(o.finding.id, toBinary(FindingSchema, o.finding));
  };
  const handler = createScanRequestHandler({
    engine: runtimeIngestEngine(),
    eventLog: log,
    identity: { service: 'vigil', version: '0', instance: 'spec' },
    group: RUNTIME_INGEST_GROUP,
  });
  const results: string[] = [];
  const warnings: string[] = [];
  const out: Output = {
    result: (t) => results.push(t),
    progress: () => undefined,
    warn: (l) => warnings.push(l),
  };
  return {
    results,
    warnings,
    sourcesRead,
    input: {
      deployment: { eventLog: log },
      pipeline: {
        waitUntilCaughtUp: async () => {
          await Promise.all(pending);
          project();
        },
        store: {
          scanById: async (id: string) => {
            const payload = scans.get(id);
            return payload ? ({ payload } as never) : undefined;
          },
          getFinding: async (_scope: string, id: string) => {
            const payload = rows.get(id);
            return payload ? ({ payload } as never) : undefined;
          },
          eventsForScope: async (scope: string, page: { offset?: number; limit?: number } = {}) => {
            assert.equal(scope, 'default');
            const start = page.offset ?? 0;
            return stored.slice(start, start + (page.limit ?? 10_000)) as never;
          },
        },
      },
      cluster: 'default',
      timeoutMs: 5_000,
      out,
    },
  };
}

test('vigil ingest falco <file> --format json prints the findings and the count of non-event lines on stderr', async () => {
  const dir = corpusPath('runtime', 'falco-alerts', 'alerts-with-summary-lines');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
    non_alert_lines: number[];
    alerts: { rule: string }[];
  };
  const h = harness();
  const code = await ingestCommand({ ...h.input, args: ['falco', join(dir, 'falco.log')], format: 'json' });
  assert.equal(code, 0);
  const printed = JSON.parse(h.results.join('')) as {
    findings: { ruleId: string; id: string; source: string }[];
  };
  assert.ok(printed.findings.length > 0);
  const rules = new Set(expected.alerts.map((a) => `falco:${a.rule}`));
  for (const f of printed.findings.filter((x) => x.ruleId.startsWith('falco:')))
    assert.ok(rules.has(f.ruleId), f.ruleId);
  assert.ok(printed.findings.some((f) => f.ruleId === 'falco:Terminal shell in container'));
  assert.ok(printed.findings.every((f) => f.source === 'runtime'));
  assert.match(
    h.warnings.join('\n'),
    new RegExp(
      `: ${expected.non_alert_lines.length} of \\d+ non-blank lines were not events \\(${expected.alerts.length} events read\\): line ${expected.non_alert_lines[0]}: `,
    ),
  );
});

test('vigil ingest tetragon - reads stdin through a spool file that is gone afterwards', async () => {
  const events = readFileSync(
    corpusPath('runtime', 'tetragon', 'lifecycle-secret-read-and-reverse-shell', 'events.jsonl'),
  );
  const h = harness();
  const code = await ingestCommand({
    ...h.input,
    args: ['tetragon', '-'],
    format: 'json',
    stdin: (async function* () {
      yield events.subarray(0, 100);
      yield events.subarray(100);
    })(),
  });
  assert.equal(code, 0);
  const printed = JSON.parse(h.results.join('')) as { findings: { ruleId: string }[] };
  assert.deepEqual(printed.findings.map((f) => f.ruleId).sort(), [
    'runtime/sensitive-file-read',
    'runtime/shell-in-container',
    'runtime/unexpected-egress',
  ]);
  assert.match(h.warnings.join('\n'), /: 0 lines were not events/);
  assert.equal(h.sourcesRead.length, 1);
  assert.throws(() => readFileSync(h.sourcesRead[0]!), /ENOENT/, 'the spool file is removed');
});

test('input with no event at all exits 2 with a message naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-ingest-spec-'));
  try {
    const file = join(dir, 'summary-only.log');
    await writeFile(file, 'Events detected: 0\nRule counts by severity:\n');
    const h = harness();
    const code = await ingestCommand({ ...h.input, args: ['falco', file], format: 'json' });
    assert.equal(code, 2);
    assert.equal(h.results.length, 0, 'nothing on stdout');
    assert.ok(
      h.warnings.some((w) => w.includes(`${file}: no falco event in 2 lines`)),
      h.warnings.join('\n'),
    );
    assert.equal(h.sourcesRead.length, 0, 'no scan request was published');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an empty or binary input is refused before anything is published, naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-ingest-spec-'));
  try {
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    // A real binary: the first 64 KiB of the node executable running this test.
    const binary = join(dir, 'node.bin');
    await writeFile(binary, readFileSync(process.execPath).subarray(0, 65536));
    for (const [file, says] of [
      [empty, `${empty}: empty input: no tetragon event`],
      [binary, `${binary}: no tetragon event in`],
    ] as const) {
      const h = harness();
      const code = await ingestCommand({ ...h.input, args: ['tetragon', file], format: 'table' });
      assert.equal(code, 2);
      assert.equal(h.results.length, 0, 'nothing on stdout');
      assert.equal(h.sourcesRead.length, 0, 'no scan request was published');
      const warned = h.warnings.join('\n');
      assert.ok(warned.includes(says), warned);
      if (file === binary) {
        assert.match(warned, /not JSON: binary data \(\d+ bytes\)/);
        // Nothing but the message's own words: no undecodable or control characters echoed back.
        assert.doesNotMatch(warned, /[\uFFFD\u0000-\u0008]/);
      }
    }
    const h = harness();
    const code = await ingestCommand({
      ...h.input,
      args: ['falco', '-'],
      format: 'json',
      stdin: (async function* () {})(),
    });
    assert.equal(code, 2);
    assert.equal(h.sourcesRead.length, 0);
    assert.match(h.warnings.join('\n'), /vigil ingest falco: stdin: empty input: no falco event/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ingest arguments are checked before anything runs', () => {
  assert.throws(
    () => ingestArgs(['syslog', 'x']),
    (e: unknown) => e instanceof UsageError && /unknown source "syslog"/.test(e.message),
  );
  assert.throws(() => ingestArgs(['falco']), /give exactly one file, or - for stdin/);
  assert.throws(
    () => ingestArgs(['falco', '/nonexistent/alerts.jsonl']),
    /\/nonexistent\/alerts\.jsonl: no such file/,
  );
  assert.throws(() => ingestArgs(['falco', tmpdir()]), /is not a file/);
  assert.deepEqual(ingestArgs(['k8s-audit', '-']), { source: 'k8s-audit', file: '-' });
});

// The Falco file's newest alert is 2026-03-14T09:21:37.662014599Z; the Tetragon file's events are of 2022-02-01.
// Quiet is measured against the scope's newest runtime occurrence, so the Tetragon detections are recorded closed.
test('detections older than the quiet period before the scope newest event are recorded closed: exit 0, said so', async () => {
  const h = harness();
  assert.equal(await ingestCommand({ ...h.input, args: ['falco', FALCO_INTRUSION], format: 'table' }), 0);
  const falcoRules = h.results.join('\n');
  assert.match(falcoRules, /falco:Terminal shell in container/);
  assert.doesNotMatch(falcoRules, /closed/);
  h.results.length = 0;
  h.warnings.length = 0;

  const code = await ingestCommand({ ...h.input, args: ['tetragon', TETRAGON_LIFECYCLE], format: 'json' });
  assert.equal(code, 0);
  const printed = JSON.parse(h.results.join('')) as {
    findings: unknown[];
    closed: { id: string; ruleId: string; reason: string; lastSeen: string; closedAt: string }[];
  };
  assert.deepEqual(printed.findings, []);
  assert.deepEqual(printed.closed.map((c) => c.ruleId).sort(), [
    'runtime/sensitive-file-read',
    'runtime/shell-in-container',
    'runtime/unexpected-egress',
  ]);
  for (const c of printed.closed) {
    assert.equal(c.reason, 'quiet');
    assert.match(c.id, /^runtime-/);
    assert.match(c.lastSeen, /^2022-02-01T18:01:5\d\.\d{3}Z$/);
    // Closed when the quiet period after its last occurrence ended.
    assert.equal(Date.parse(c.closedAt) - Date.parse(c.lastSeen), 7 * 24 * 60 * 60 * 1000);
  }
  assert.deepEqual(h.warnings, [
    'vigil ingest tetragon: 0 lines were not events',
    'vigil ingest tetragon: 3 of 3 detections were recorded but are already closed: their last occurrence is ' +
      '7 days or more before the newest runtime event of cluster "default" (2026-03-14T09:21:37.662Z), and a ' +
      'runtime detection not seen again for the 7-day quiet period, counted in log time, is closed',
  ]);

  // The same file again, as a table: the note and the detections with their close are on stdout (stderr has only
  // the line count), and nothing is an error.
  const note = h.warnings.at(-1)!.replace('vigil ingest tetragon: ', '');
  h.results.length = 0;
  h.warnings.length = 0;
  const again = await ingestCommand({ ...h.input, args: ['tetragon', TETRAGON_LIFECYCLE], format: 'table' });
  assert.equal(again, 0);
  assert.deepEqual(h.warnings, ['vigil ingest tetragon: 0 lines were not events']);
  const text = h.results.join('\n').split('\n');
  assert.equal(text[1], 'no open findings');
  assert.ok(text.includes(note), text.join('\n'));
  const closedRows = text.filter((l) => l.startsWith('quiet for 7 days'));
  assert.equal(closedRows.length, 3, text.join('\n'));
  for (const id of printed.closed.map((c) => c.id))
    assert.ok(
      closedRows.some((l) => l.endsWith(id)),
      id,
    );
});

test('the same Tetragon file alone keeps its detections open: nothing is said of closing', async () => {
  const h = harness();
  assert.equal(
    await ingestCommand({ ...h.input, args: ['tetragon', TETRAGON_LIFECYCLE], format: 'json' }),
    0,
  );
  const printed = JSON.parse(h.results.join('')) as { findings: { ruleId: string }[]; closed?: unknown };
  assert.equal(printed.findings.length, 3);
  assert.equal(printed.closed, undefined);
  assert.deepEqual(h.warnings, ['vigil ingest tetragon: 0 lines were not events']);
});

test('a finding of the scan that the store does not hold at all is still an error', async () => {
  // The first shell detection of the Falco file never reaches the store; the others do.
  let lost: string | undefined;
  const h = harness({
    lose: (id) => {
      lost ??= id;
      return id === lost;
    },
  });
  await assert.rejects(
    ingestCommand({ ...h.input, args: ['falco', FALCO_INTRUSION], format: 'json' }),
    (err: Error) => {
      assert.match(
        err.message,
        /^ingest [0-9a-f-]{36}: 1 of 12 findings are not in the store after the pipeline caught up$/,
      );
      return true;
    },
  );
  assert.equal(h.results.length, 0, 'nothing printed as if it had worked');
});

test('a detection an earlier acknowledgement covers is recorded closed as acknowledged, not as lost', async () => {
  const first = harness();
  await ingestCommand({ ...first.input, args: ['tetragon', TETRAGON_LIFECYCLE], format: 'json' });
  const ids = (JSON.parse(first.results.join('')) as { findings: { id: string; ruleId: string }[] }).findings;
  const shell = ids.find((f) => f.ruleId === 'runtime/shell-in-container')!;

  // A fresh store whose log already holds an acknowledgement of the shell detection, a day after the file's events.
  const h = harness();
  const close = detectionClosed({
    findingId: shell.id,
    cluster: 'default',
    reason: 'acknowledged',
    by: 'oncall@example.com',
    note: 'lifecycle test job',
    at: new Date('2022-02-02T18:00:00Z'),
  });
  const env = newEnvelope({
    payload: { case: 'detectionClosed', value: close },
    scope: { tenant: '', cluster: 'default' },
    subjectKey: shell.id,
    producer: { service: 'spec', version: '0', instance: 'spec' },
  });
  await h.input.deployment.eventLog.publish([
    { topic: TOPICS.findings.runtime, key: shell.id, value: encodeEnvelope(env) },
  ]);
  const code = await ingestCommand({ ...h.input, args: ['tetragon', TETRAGON_LIFECYCLE], format: 'json' });
  assert.equal(code, 0);
  const printed = JSON.parse(h.results.join('')) as {
    findings: { ruleId: string }[];
    closed: { id: string; reason: string; closedAt: string }[];
  };
  assert.deepEqual(printed.findings.map((f) => f.ruleId).sort(), [
    'runtime/sensitive-file-read',
    'runtime/unexpected-egress',
  ]);
  assert.deepEqual(
    printed.closed.map((c) => [c.id, c.reason, c.closedAt]),
    [[shell.id, 'acknowledged', '2022-02-02T18:00:00.000Z']],
  );
  assert.equal(
    h.warnings.at(-1),
    'vigil ingest tetragon: 1 of 3 detections were recorded but are already closed by an earlier acknowledgement ' +
      'or acceptance that covers their last occurrence',
  );
});
