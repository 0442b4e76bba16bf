import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bundleFileName,
  downloadPath,
  evidenceMediaType,
  parseEvidenceMediaType,
} from './evidence-bundles.js';

describe('evidence bundle media type', () => {
  it('carries the scope and version, and reads them back', () => {
    const mt = evidenceMediaType('payments-prod', 3);
    assert.equal(mt, 'application/vnd.vigil.evidence-bundle+zip; scope="payments-prod"; version=3');
    assert.deepEqual(parseEvidenceMediaType(mt), { scope: 'payments-prod', version: 3 });
    // A tenant's scope key has a slash; quotes and backslashes are escaped, never cut the parameter short.
    for (const scope of ['acme/payments-prod', 'we"ird\\scope', ''])
      assert.deepEqual(parseEvidenceMediaType(evidenceMediaType(scope, 12)), { scope, version: 12 });
  });

  it('is no bundle for any other media type, or a malformed one', () => {
    for (const mt of [
      'application/vnd.cyclonedx+json',
      'application/zip',
      'application/vnd.vigil.evidence-bundle+zip',
      'application/vnd.vigil.evidence-bundle+zip; scope="a"',
      'application/vnd.vigil.evidence-bundle+zip; scope="a"; version=0',
      'application/vnd.vigil.evidence-bundle+zip; scope="a"; version=01',
      'application/vnd.vigil.evidence-bundle+zip; scope="a"b"; version=1',
      'application/vnd.vigil.evidence-bundle+zip; scope="a"; version=1; x=y',
    ])
      assert.equal(parseEvidenceMediaType(mt), undefined, mt);
    assert.throws(() => evidenceMediaType('a', 0), /version 0 is not a positive integer/);
  });

  it('names the download and the file', () => {
    const id = `sha256:${'ab'.repeat(32)}`;
    assert.equal(downloadPath(id), `/v1/evidence/${id}.zip`);
    assert.equal(
      bundleFileName({ scope: 'acme/payments prod"', version: 2 }),
      'vigil-evidence-acme_payments_prod_-v2.zip',
    );
  });
});
