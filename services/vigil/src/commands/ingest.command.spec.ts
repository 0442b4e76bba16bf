// Real: the command, the runtime-ingest engine behind the kit's scan-request handler, corpus files.
// Fake: the log (in memory, delivering scan requests to the handler) and the reporting store (the handler's
// completion and findings by id) — the embedded deployment itself is covered by the e2e tier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FindingSchema, TOPICS, decodeEnvelope, toBinary, type FindingReported } from '@vigil/contracts';
import type { EventLog, LogRecord } from '@vigil/event-log';
import { createScanRequestHandler } from '@vigil/nest-kit';
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

function harness(): Harness {
  const scans = new Map<string, Uint8Array>();
  const findings = new Map<string, Uint8Array>();
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
        } else if (env.payload.case === 'scanCompleted') scans.set(env.payload.value.scanId, r.value);
        else if (env.payload.case === 'findingReported') {
          const f = (env.payload.value as FindingReported).finding!;
          findings.set(f.id, toBinary(FindingSchema, f));
        }
      }
    },
  } as unknown as EventLog;
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
        },
        store: {
          scanById: async (id: string) => {
            const payload = scans.get(id);
            return payload ? ({ payload } as never) : undefined;
          },
          getFinding: async (_scope: string, id: string) => {
            const payload = findings.get(id);
            return payload ? ({ payload } as never) : undefined;
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
