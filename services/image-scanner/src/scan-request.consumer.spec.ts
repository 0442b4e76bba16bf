// The engine's answers that need no database: the cases with Postgres are in scan-request.consumer.int.spec.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanStatus, ScannerKind, TargetKind, create, ScanRequestedSchema } from '@vigil/contracts';
import { imageScannerEngine } from './index.js';

test('without a database the scan is UNAVAILABLE and names the missing DATABASE_URL, reporting nothing', async () => {
  const engine = imageScannerEngine({ sql: null });
  assert.equal(engine.scanner, ScannerKind.IMAGE);
  assert.equal(engine.name, 'image-scan');
  const result = await engine.scan(
    create(ScanRequestedSchema, {
      scanId: 's',
      scanner: ScannerKind.IMAGE,
      scope: { cluster: 'c' },
      target: {
        kind: TargetKind.IMAGE,
        key: 'registry.example.com/acme/payment-api:1.4.2',
        ref: { case: 'image', value: { ref: 'registry.example.com/acme/payment-api:1.4.2' } },
      },
    }),
  );
  assert.deepEqual(result, {
    status: ScanStatus.UNAVAILABLE,
    error: 'image-scan needs the advisory database: the image-scanner has no DATABASE_URL',
  });
});
