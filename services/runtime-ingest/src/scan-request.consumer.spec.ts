import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanStatus, ScannerKind, create, ScanRequestedSchema } from '@vigil/contracts';
import { runtimeIngestEngine } from './index.js';

test('the runtime-ingest says plainly that its engine is not in this build, and reports nothing', async () => {
  const engine = runtimeIngestEngine();
  assert.equal(engine.scanner, ScannerKind.RUNTIME);
  const result = await engine.scan(
    create(ScanRequestedSchema, { scanId: 's', scanner: ScannerKind.RUNTIME }),
  );
  assert.deepEqual(result, {
    status: ScanStatus.UNAVAILABLE,
    error: 'runtime-rules engine is not available in this build',
  });
});
