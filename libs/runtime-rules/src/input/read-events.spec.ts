import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import { readEvents, RuntimeInputError } from './read-events.js';

// Real events from the corpus, wrapped the ways real pipelines wrap them.
const falcoLine = readFileSync(
  corpusPath('runtime/falco-alerts/docs-terminal-shell-critical/alerts.jsonl'),
  'utf8',
).split('\n')[0]!;
const auditLines = readFileSync(
  corpusPath('runtime/k8s-audit/constructed-payments-exec-and-secret-read/audit.log'),
  'utf8',
)
  .trim()
  .split('\n');
const tetragonLines = readFileSync(
  corpusPath('runtime/tetragon/tetra-getevents-testdata/events.jsonl'),
  'utf8',
)
  .trim()
  .split('\n');
const prettyAudit = readFileSync(
  corpusPath('runtime/k8s-audit/apiserver-v1-metadata-events/single-event.json'),
  'utf8',
);

describe('readEvents', () => {
  it('takes syslog-prefixed events and reports banner lines with their numbers', () => {
    const text = [
      'Falco version: 0.43.0',
      `Dec  3 10:00:00 host falco[123]: ${falcoLine}`,
      '',
      falcoLine,
      'Events detected: 2',
    ].join('\n');
    const r = readEvents(text);
    assert.deepEqual(
      r.events.map((e) => [e.line, e.normalizer.sensor, e.via.join('/')]),
      [
        [2, 'falco', 'prefix'],
        [4, 'falco', ''],
      ],
    );
    assert.deepEqual(
      r.skipped.map((s) => s.line),
      [1, 5],
    );
    assert.equal(r.blankLines, 1);
    assert.equal(r.lines, 5);
  });

  it('decodes UTF-16 with a BOM, little and big endian', () => {
    const text = `${falcoLine}\r\n${tetragonLines[0]}\r\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const r = readEvents(le);
    assert.equal(r.encoding, 'utf-16le');
    assert.deepEqual(
      r.events.map((e) => e.normalizer.sensor),
      ['falco', 'tetragon'],
    );
    const be = Buffer.from(le);
    be.swap16();
    const rb = readEvents(be);
    assert.equal(rb.encoding, 'utf-16be');
    assert.equal(rb.events.length, 2);
  });

  it('reads UTF-16 without a BOM, and calls binary data that merely starts like UTF-16 binary data', () => {
    const noBom = readEvents(Buffer.from(`${falcoLine}\n`, 'utf16le'));
    assert.equal(noBom.encoding, 'utf-16le');
    assert.equal(noBom.events.length, 1);
    // A zero in every other byte for two characters, then the bytes of the node binary running this test.
    const binary = Buffer.concat([
      Buffer.from([0x41, 0x00, 0x42, 0x00]),
      readFileSync(process.execPath).subarray(4096, 4096 + 400),
    ]);
    assert.throws(
      () => readEvents(binary, { name: 'dump.bin' }),
      (err: unknown) =>
        err instanceof RuntimeInputError &&
        /^dump\.bin: no Falco, Tetragon or Kubernetes audit event in \d+ lines \(line 1: not JSON: binary data \(\d+ bytes\)/.test(
          err.message,
        ),
    );
  });

  it('reads pretty-printed multi-line JSON and continues after it', () => {
    const r = readEvents(`${prettyAudit.trim()}\n${auditLines[0]}\n`);
    assert.equal(r.events.length, 2);
    assert.equal(r.events[0]!.line, 1);
    assert.equal(r.events[1]!.line, prettyAudit.trim().split('\n').length + 1);
    assert.deepEqual(r.skipped, []);
  });

  it('unwraps JSON arrays, audit EventLists and cloud-log wrappers', () => {
    const events = auditLines.map((l) => JSON.parse(l) as unknown);
    const eventList = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: events });
    const gcp = JSON.stringify({
      insertId: 'x1',
      jsonPayload: JSON.parse(falcoLine),
      resource: { type: 'k8s_container' },
    });
    const docker = JSON.stringify({ log: `${falcoLine}\n`, stream: 'stdout', time: '2026-03-14T09:12:07Z' });
    const array = JSON.stringify(tetragonLines.map((l) => JSON.parse(l) as unknown));
    const r = readEvents([eventList, gcp, docker, array].join('\n'));
    assert.deepEqual(
      r.events.map((e) => `${e.line}:${e.normalizer.sensor}:${e.via.join('/')}`),
      [
        ...events.map(() => '1:k8s-audit:EventList/array'),
        '2:falco:jsonPayload',
        '3:falco:log',
        ...tetragonLines.map(() => '4:tetragon:array'),
      ],
    );
  });

  it('reads several values written back to back on one line', () => {
    const r = readEvents(`${falcoLine}${falcoLine}, ${tetragonLines[0]}\n${falcoLine}`);
    assert.deepEqual(
      r.events.map((e) => `${e.line}:${e.normalizer.sensor}`),
      ['1:falco', '1:falco', '1:tetragon', '2:falco'],
    );
  });

  it('reports JSON that is no known event, and sensor mismatches when a format is declared', () => {
    const r = readEvents(`{"hello":"world"}\n${falcoLine}\n${tetragonLines[0]}`, { format: 'falco' });
    assert.equal(r.events.length, 1);
    assert.match(r.skipped[0]!.reason, /not recognised as a falco event \(keys: hello\)/);
    assert.match(r.skipped[1]!.reason, /a tetragon event, but the input was declared falco/);
  });

  it('refuses oversized and deeply nested values with clear reasons, and reads the next event', () => {
    const huge = `{"rule":"x","priority":"Notice","output":"${'a'.repeat(2000)}"}`;
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    const r = readEvents(`${huge}\n${deep}\n{"broken": \n${falcoLine}`, { limits: { maxEventBytes: 1000 } });
    assert.deepEqual(
      r.events.map((e) => e.line),
      [4],
    );
    assert.match(r.skipped.find((s) => s.line === 1)!.reason, /larger than the 1000-byte event limit/);
    assert.match(r.skipped.find((s) => s.line === 2)!.reason, /nested deeper than 64 levels/);
    assert.ok(r.skipped.some((s) => s.line === 3));
  });

  it('bounds each event of an audit EventList by the event limit, not the whole list', () => {
    const events = auditLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const largest = Math.max(...auditLines.map((l) => l.length));
    // 1,000 real audit events: far over an event limit that each of them is within.
    const items = Array.from({ length: 1000 }, (_, i) => ({
      ...events[i % events.length],
      auditID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    const list = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });
    const limit = largest + 200;
    assert.ok(list.length > 100 * limit);
    const r = readEvents(list, { format: 'k8s-audit', limits: { maxEventBytes: limit } });
    assert.equal(r.events.length, 1000);
    assert.deepEqual(r.skipped, []);
    assert.equal(r.events[999]!.value['auditID'], '00000000-0000-4000-8000-000000000999');
    assert.deepEqual(r.events[0]!.via, ['EventList', 'array']);
    // A plain JSON array of events is a list too.
    assert.equal(
      readEvents(`[${auditLines.join(',')}]`, { limits: { maxEventBytes: limit } }).events.length,
      auditLines.length,
    );

    // One event over the limit refuses the list, naming the size.
    const fat = { ...events[0], annotations: { note: 'x'.repeat(limit) } };
    const withFat = JSON.stringify({ kind: 'EventList', items: [...items.slice(0, 10), fat] });
    assert.throws(
      () => readEvents(withFat, { format: 'k8s-audit', limits: { maxEventBytes: limit } }),
      (e: Error) =>
        e instanceof RuntimeInputError &&
        new RegExp(
          `JSON list holding a value of ${JSON.stringify(fat).length} bytes, larger than the ${limit}-byte event limit`,
        ).test(e.message),
    );
    // A single event is not a list, whatever arrays it holds inside.
    const single = JSON.stringify({ ...events[0], responseObject: { items: items.slice(0, 200) } });
    const one = readEvents(`${single}\n${auditLines[0]}`, { limits: { maxEventBytes: limit } });
    assert.equal(one.events.length, 1);
    assert.match(one.skipped[0]!.reason, /larger than the \d+-byte event limit and not a list of events/);
  });

  it('skips each of 20,000 unterminated values on its own line and still reads the event after them', () => {
    const hostile = `${'{\n'.repeat(20000)}${falcoLine}\n`;
    const r = readEvents(hostile);
    assert.equal(r.events.length, 1);
    assert.equal(r.skipped.length, 20000);
  });

  it('throws a RuntimeInputError naming the input when there is no event at all', () => {
    assert.throws(
      () => readEvents('Falco version: 0.43.0\nEvents detected: 0\n', { name: 'falco.log' }),
      (e: unknown) => {
        assert.ok(e instanceof RuntimeInputError);
        assert.match(
          e.message,
          /^falco\.log: no Falco, Tetragon or Kubernetes audit event in 2 lines \(line 1: not JSON/,
        );
        return true;
      },
    );
    assert.throws(() => readEvents(''), /empty input/);
    assert.throws(() => readEvents('x'.repeat(20), { limits: { maxInputBytes: 10 } }), {
      name: 'RuntimeInputError',
      message: 'input: 20 characters is over the 10-byte input limit',
    });
  });
});

it('names binary input as binary data instead of echoing it back', () => {
  const bytes = new Uint8Array(512);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37) % 256;
  assert.throws(
    () => readEvents(bytes, { name: 'bin.dat' }),
    (err: Error) => /binary data \(\d+ bytes\)/.test(err.message) && !err.message.includes('\uFFFD'),
  );
});
