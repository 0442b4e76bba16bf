// Real: the runtime corpus read by @vigil/runtime-rules, the envelopes the HTTP ingest builds, @bufbuild/protobuf's
// own encoder and decoder as the references for encodeEnvelope's writer and decodeEnvelope's reader (libs/contracts
// envelope-writer.ts, envelope-reader.ts). Nothing is faked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  EventEnvelopeSchema,
  FindingReportedSchema,
  create,
  decodeEnvelope,
  encodeEnvelope,
  fromBinary,
  newEnvelope,
  readEnvelope,
  toBinary,
  type EventEnvelope,
  type Finding,
} from '@vigil/contracts';
import { ingestEvents } from '@vigil/runtime-rules';
import { corpusPath } from '@vigil/testing';

const at = new Date('2026-12-01T00:00:00Z');
const producer = { service: 'runtime-ingest', version: '0.0.0', instance: 'spec-1' };
const scope = { tenant: '', cluster: 'payments-prod' };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(jsonl|json|log)$/.test(name) && name !== 'expected.json' ? [p] : [];
  });
}

/** Every finding the engine makes of the runtime corpus, each case's input read as the ingest reads a body. */
function corpusFindings(): Finding[] {
  const out: Finding[] = [];
  for (const sensor of ['falco-alerts', 'tetragon', 'k8s-audit'])
    for (const file of files(corpusPath('runtime', sensor))) {
      try {
        out.push(
          ...ingestEvents({
            input: readFileSync(file),
            clock: () => at,
            cluster: 'payments-prod',
            name: file,
          }).findings,
        );
      } catch {
        // a README-like file of the case with no event in it
      }
    }
  return out;
}

function reported(finding: Finding): EventEnvelope {
  return newEnvelope({
    payload: {
      case: 'findingReported',
      value: create(FindingReportedSchema, { scanId: 'runtime-http:payments-prod:falco', finding }),
    },
    scope,
    subjectKey: finding.id,
    producer,
    clock: () => at,
  });
}

test('encodeEnvelope writes the bytes toBinary writes, and readEnvelope reads what fromBinary reads, for every finding of the runtime corpus', () => {
  const findings = corpusFindings();
  assert.ok(findings.length > 50, `the corpus gave ${findings.length} findings`);
  const sources = new Set(findings.map((f) => f.evidence.find((e) => e.key === 'sensor')?.value));
  assert.deepEqual([...sources].sort(), ['falco', 'k8s-audit', 'tetragon']);
  for (const f of findings) {
    const env = reported(f);
    const fast = encodeEnvelope(env);
    assert.deepEqual(Buffer.from(fast), Buffer.from(toBinary(EventEnvelopeSchema, env)), f.id);
    // The one-pass reader (libs/contracts envelope-reader.ts) decodes it, to the same value as the reference.
    assert.deepStrictEqual(readEnvelope(fast), fromBinary(EventEnvelopeSchema, fast), f.id);
    const back = decodeEnvelope(fast);
    assert.equal(back.payload.case, 'findingReported');
    assert.equal(back.payload.value.finding?.id, f.id);
    assert.equal(back.payload.value.finding?.evidence.length, f.evidence.length);
  }
});
