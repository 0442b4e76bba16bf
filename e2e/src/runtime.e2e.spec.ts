// `vigil ingest` through the real CLI on the embedded default: the example's Falco log (banner lines, a metrics
// snapshot, real alerts) from a file and from stdin, into findings and the scope's snapshot.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@vigil/testing';
import { explain, freshTempDir, runVigil, vigilJson, type Json } from './vigil-cli.js';

describe('vigil ingest', () => {
  const tmp = freshTempDir('ingest');
  after(() => tmp.remove());
  const falco = join(repoRoot(), 'examples', 'payments', 'runtime', 'falco-alerts.jsonl');

  test('prints the findings of a Falco log, counts what was not an event, and folds them into the snapshot', async () => {
    const args = ['ingest', 'falco', falco, '--data-dir', tmp.dataDir, '--format', 'json'];
    const { json, result } = await vigilJson(args);
    const findings = json.findings as Json[];
    assert.ok(findings.length > 0, explain(args, result));
    assert.ok(findings.some((f) => f.ruleId === 'falco:Terminal shell in container'));
    assert.ok(findings.every((f) => f.source === 'runtime' && (f.pciRequirements as string[]).length > 0));
    assert.match(result.stderr, /\d+ of \d+ non-blank lines were not events/);
    // Detections from a file of last month stay open: quiet is measured on the sensors' own clock.
    const { json: report } = await vigilJson(['report', '--data-dir', tmp.dataDir, '--format', 'json']);
    const open = new Set((report.findings as Json[]).map((f) => f.id as string));
    for (const f of findings) assert.ok(open.has(f.id as string), `${f.ruleId} is open in the snapshot`);
  });

  test('reads stdin too, and the same events give the same findings', async () => {
    const first = await vigilJson(['ingest', 'falco', falco, '--data-dir', tmp.dataDir, '--format', 'json']);
    const r = await runVigil(['ingest', 'falco', '-', '--data-dir', tmp.dataDir, '--format', 'json'], {
      input: readFileSync(falco),
    });
    assert.equal(r.code, 0, explain(['ingest', 'falco', '-'], r));
    const ids = (x: Json) => (x.findings as Json[]).map((f) => f.id as string).sort();
    assert.deepEqual(ids(JSON.parse(r.stdout) as Json), ids(first.json));
  });
});
