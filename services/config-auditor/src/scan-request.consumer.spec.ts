import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanStatus, ScannerKind, create, ScanRequestedSchema } from '@vigil/contracts';
import { configAuditorEngine } from './index.js';

test('the config-auditor says plainly that its engine is not in this build, and reports nothing', async () => {
  const engine = configAuditorEngine();
  assert.equal(engine.scanner, ScannerKind.CONFIG);
  const result = await engine.scan(create(ScanRequestedSchema, { scanId: 's', scanner: ScannerKind.CONFIG }));
  assert.deepEqual(result, {
    status: ScanStatus.UNAVAILABLE,
    error: 'config-audit engine is not available in this build',
  });
});
