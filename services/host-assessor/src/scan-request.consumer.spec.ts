import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanStatus, ScannerKind, create, ScanRequestedSchema } from '@vigil/contracts';
import { hostAssessorEngine } from './index.js';

test('the host-assessor says plainly that its engine is not in this build, and reports nothing', async () => {
  const engine = hostAssessorEngine();
  assert.equal(engine.scanner, ScannerKind.HOST);
  const result = await engine.scan(create(ScanRequestedSchema, { scanId: 's', scanner: ScannerKind.HOST }));
  assert.deepEqual(result, {
    status: ScanStatus.UNAVAILABLE,
    error: 'host-assess engine is not available in this build',
  });
});
