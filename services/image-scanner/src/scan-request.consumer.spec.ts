import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanStatus, ScannerKind, create, ScanRequestedSchema } from '@vigil/contracts';
import { imageScannerEngine } from './index.js';

test('the image scanner says plainly that its engine is not in this build, and reports nothing', async () => {
  const engine = imageScannerEngine();
  assert.equal(engine.scanner, ScannerKind.IMAGE);
  const result = await engine.scan(create(ScanRequestedSchema, { scanId: 's', scanner: ScannerKind.IMAGE }));
  assert.deepEqual(result, {
    status: ScanStatus.UNAVAILABLE,
    error: 'image-scan engine is not available in this build',
  });
});
